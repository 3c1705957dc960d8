"""Readable, real, deterministic forms of derived formulas, for people (CLI text and reports).

The derivation keeps trigonometric costs as complex exponentials; this module turns a
formula back into real functions and simplifies it.  Reports must be byte-for-byte
reproducible, so there is no wall-clock limit: whether ``sympy.simplify`` runs is
decided by the formula alone -- its size (:data:`SIMPLIFY_MAX_OPS`), and whether it has
a power with a symbolic exponent (``E[f**2]**(d - 1)`` in a symbolic dimension, where
trigsimp's factorisations were measured at minutes per formula) -- and the others get
only the cheap, always-terminating ``cancel`` and ``factor_terms``.

>>> from verify.cases.symbols import MU
>>> readable((sympy.exp(sympy.I * MU) + sympy.exp(-sympy.I * MU)) / 2)
cos(mu)
"""

from __future__ import annotations

from functools import lru_cache

import sympy

SIMPLIFY_MAX_OPS = 400


# simplify takes up to seconds per formula, and a notebook, a test suite or a long run
# renders the same derivation's formulas many times (text per point, report, index).
@lru_cache(maxsize=512)
def readable(expr: sympy.Expr) -> sympy.Expr:
    """A real form of ``expr``, simplified when it is small enough to do so quickly."""
    real = sympy.expand_complex(expr) if expr.has(sympy.I) else expr
    symbolic_power = any(not power.exp.is_number for power in real.atoms(sympy.Pow))
    if sympy.count_ops(real) <= SIMPLIFY_MAX_OPS and not symbolic_power:
        return sympy.simplify(real)
    return sympy.factor_terms(sympy.cancel(real))


def as_text(expr: sympy.Expr | None) -> str:
    """One-line text of a formula, or a note that it has no closed form."""
    return "(no closed form: quadrature)" if expr is None else sympy.sstr(readable(expr))


def as_latex(expr: sympy.Expr | None) -> str:
    """LaTeX of a formula, or a note that it has no closed form."""
    if expr is None:
        return r"\text{no closed form (quadrature)}"
    return str(sympy.latex(readable(expr)))
