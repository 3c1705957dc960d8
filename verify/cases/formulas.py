"""Readable, real, deterministic forms of derived formulas, for people (CLI text and reports).

The derivation keeps trigonometric costs as complex exponentials; this module turns a
formula back into real functions (:func:`real_form`) and makes it compact.  Every formula
gets the cheap, always-terminating ``factor_terms``.  Reports must be byte-for-byte
reproducible, so there is no wall-clock limit: whether ``cancel`` (one common
denominator) and ``sympy.simplify`` are tried as well is decided by the formula alone --
its size (:data:`CANCEL_MAX_OPS`, :data:`SIMPLIFY_MAX_OPS`), and whether it has a power that makes
them slow (a symbolic exponent, ``E[f**2]**(d - 1)`` in a symbolic dimension, where
trigsimp's factorisations were measured at minutes per formula; or a sum raised to more
than :data:`LARGEST_EXPANDED_POWER`, as in the Gaussian bumps' ``(4 k sigma**2 + 1)**17``,
1.4 to 2.7 s per formula for a form longer than factor_terms gives) -- and the shortest
text of the forms tried is kept.  The forms are ``factor_terms``, after ``cancel``, the
terms collected over each exponential (:func:`_collected_exponentials`: a Gaussian
expectation is a sum of exponentials times polynomials and trigonometric functions), and
``simplify`` up to :data:`SIMPLIFY_MAX_OPS` operations.  Measured 2026-12-04 over the
report formulas against simplify up to 400 operations: 10% less text in all (40,317
characters against 45,038) in a third less time, the longest formula going from about
17 s to 9 s; a few formulas are longer (relu's 346 to 486 characters).  ``simplify`` is
not tried on a formula with a root of a sum, ``sqrt(1 - 2 a sigma**2)``
(:func:`_root_of_sum`): its ``cancel`` steps expand around the radical, and on the
bundled cases (measured 2026-12-04 over the 198 report formulas) that was 60% of
simplify's time for a form longer than the cheap ones in 31 of 41 such formulas, and at
most 60 characters shorter in the other 10.  ``cancel`` is tried up to
:data:`CANCEL_MAX_OPS` operations: measured 2026-12-04 over the 236 report formulas, its
form was the shortest in 16, all of at most 182 operations, and above 200 operations at
least 25% longer than the shortest (one common denominator, its numerator expanded),
while those 26 formulas took 9.5 of cancel's 11.6 s (odd_bump's variances 2.3 s each).

>>> from verify.cases.symbols import MU
>>> readable((sympy.exp(sympy.I * MU) + sympy.exp(-sympy.I * MU)) / 2)
cos(mu)
"""

from __future__ import annotations

from functools import lru_cache

import sympy

SIMPLIFY_MAX_OPS = 60
CANCEL_MAX_OPS = 200
LARGEST_EXPANDED_POWER = 6


# simplify takes up to seconds per formula, and a notebook, a test suite or a long run
# renders the same derivation's formulas many times (text per point, report, index).
@lru_cache(maxsize=512)
def readable(expr: sympy.Expr) -> sympy.Expr:
    """A real, compact form of ``expr`` (simplified when it is small enough to try quickly)."""
    real = real_form(expr)
    forms = [sympy.factor_terms(real)]
    if not any(map(_slow_power, real.atoms(sympy.Pow))):
        operations = sympy.count_ops(real)
        if operations <= CANCEL_MAX_OPS:
            forms.append(sympy.factor_terms(sympy.cancel(real)))
        forms.append(_collected_exponentials(real))
        if operations <= SIMPLIFY_MAX_OPS and not _root_of_sum(real):
            forms.append(sympy.simplify(real))
    return min(forms, key=lambda form: len(sympy.sstr(form)))  # the first of a tie


def _collected_exponentials(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` expanded and collected over its exponentials (``exp(-2 s)`` is ``exp(-s)**2``).

    >>> a, s = sympy.symbols("a sigma", positive=True)
    >>> _collected_exponentials(a * sympy.exp(-s) + s * sympy.exp(-s) + a * sympy.exp(-2 * s))
    (a + a*exp(-sigma) + sigma)*exp(-sigma)
    """
    exponentials = sorted(expr.atoms(sympy.exp), key=sympy.default_sort_key)
    return sympy.factor_terms(sympy.collect(sympy.expand(expr), exponentials))


def _slow_power(power: sympy.Pow) -> bool:
    """A power that makes ``simplify`` slow: a symbolic exponent, or a sum raised to a
    high power (``(4 k sigma**2 + 1)**17``, which its polynomial steps expand)."""
    if not power.exp.is_number:
        return True
    return isinstance(power.base, sympy.Add) and abs(power.exp) > LARGEST_EXPANDED_POWER


def _root_of_sum(expr: sympy.Expr) -> bool:
    """Whether ``expr`` has a non-integer power of a sum with symbols, ``sqrt(1 - 2 a sigma**2)``.

    >>> a, s = sympy.symbols("a sigma", positive=True)
    >>> _root_of_sum(sympy.exp(a) / sympy.sqrt(1 - 2 * a * s**2)), _root_of_sum(1 / (1 + a) ** 2)
    (True, False)
    """
    return any(
        isinstance(power.base, sympy.Add)
        and bool(power.base.free_symbols)
        and not power.exp.is_integer
        for power in expr.atoms(sympy.Pow)
    )


def real_form(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with each ``exp(i x)`` written as ``cos x + i sin x`` and the imaginary parts
    cancelled by expanding products and integer powers.

    Not ``expand_complex`` on the whole formula: it splits a power with a symbolic
    exponent, ``cos(k mu)**d``, into ``re(cos(k mu)**d) + i im(cos(k mu)**d)``, which is
    where its real, positive-looking base left it (it is used only when the expansion
    leaves an ``i``, e.g. in a denominator).

    >>> from verify.cases.symbols import MU
    >>> d = sympy.Symbol("d", real=True)
    >>> real_form(((sympy.exp(sympy.I * MU) + sympy.exp(-sympy.I * MU)) / 2) ** d)
    cos(mu)**d
    """
    if not expr.has(sympy.I):
        return expr
    rotated = expr.replace(
        lambda node: isinstance(node, sympy.exp) and node.has(sympy.I), sympy.expand_complex
    )
    real = sympy.expand(rotated, power_base=False, power_exp=False, log=False)
    return sympy.expand_complex(expr) if real.has(sympy.I) else real


def as_text(expr: sympy.Expr | None) -> str:
    """One-line text of a formula, or a note that it has no closed form."""
    return "(no closed form: quadrature)" if expr is None else sympy.sstr(readable(expr))


def as_latex(expr: sympy.Expr | None) -> str:
    """LaTeX of a formula, or a note that it has no closed form."""
    if expr is None:
        return r"\text{no closed form (quadrature)}"
    return str(sympy.latex(readable(expr)))
