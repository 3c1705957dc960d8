"""Expansion of an integrand in ``eps`` into Gaussian-integrable terms.

The contract: :func:`expand_terms` rewrites an expression ``f(eps)`` as a finite sum

    f(eps) = sum_k  C_k * eps**n_k * exp(a_k*eps + b_k*eps**2) * 1{L_k < eps < U_k}

with coefficients ``C_k``, exponents ``a_k, b_k`` and bounds ``L_k, U_k`` free of
``eps`` (``L = -oo, U = oo`` when there is no truncation), held as a
:data:`~verify.exact.term_sums.TermSum` (:mod:`verify.exact.term_sums`, with its
algebra).  Each such term has a closed-form expectation under ``eps ~ N(0, 1)`` (see
:mod:`verify.exact.gaussian`).

The rules, applied node by node:

- sums and products distribute; non-negative integer powers multiply out;
- ``exp(p(eps))`` with ``p`` a polynomial of degree <= 2 is one term;
- ``cos, sin, cosh, sinh`` become complex or real exponentials (Euler);
- ``Heaviside, sign, Abs, Max, Min`` of an argument linear in ``eps`` become
  truncations of the real line at the argument's root (two-argument Max/Min
  need only their difference to be linear), and so does ``Piecewise`` whose
  conditions are single linear inequalities (SymPy's antiderivatives of kinks);
- a kink inside a function or power that no rule expands as it stands
  (``exp(Min(eps, 0))``, the ELU; ``cos(Abs(eps))``) is lifted out: the line is split
  at the kink, and on each side the kink is the branch that holds there
  (:func:`_lift_kink`).

Anything else that depends on ``eps`` raises :class:`NoClosedForm`, and the caller
falls back to labelled quadrature.

>>> from verify.cases.symbols import EPS
>>> terms = expand_terms(sympy.cosh(2 * EPS))
>>> sorted((key.power, key.linear) for key in terms)
[(0, -2), (0, 2)]
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import sympy

from verify.cases.symbols import EPS
from verify.exact.term_sums import (
    NEG_INF,
    POS_INF,
    TermKey,
    TermSum,
    add,
    constant,
    multiply,
    power,
    scale,
)


class NoClosedForm(Exception):
    """The integrand has a part the rule-based engine cannot expand."""


_ZERO = sympy.Integer(0)


def times_polynomial(terms: TermSum, polynomial: sympy.Expr) -> TermSum:
    """``terms * polynomial`` where ``polynomial`` is a polynomial in ``eps``."""
    return multiply(terms, expand_terms(polynomial))


@lru_cache(maxsize=4096)
def expand_terms(expr: sympy.Expr) -> TermSum:
    """Expand ``expr`` (a function of ``eps``) into Gaussian-integrable terms.

    Raises :class:`NoClosedForm` for a part no rule covers.  The returned dict is
    shared by the cache: treat it as read-only.
    """
    if not expr.has(EPS):
        return constant(expr)
    if expr == EPS:
        return {TermKey(1, _ZERO, _ZERO, NEG_INF, POS_INF): sympy.Integer(1)}
    if isinstance(expr, sympy.Add):
        total: TermSum = {}
        for arg in expr.args:
            total = add(total, expand_terms(arg))
        return total
    if isinstance(expr, sympy.Mul):
        product = constant(sympy.Integer(1))
        for arg in expr.args:
            product = multiply(product, expand_terms(arg))
        return product
    if isinstance(expr, sympy.Pow):
        return _with_kinks_lifted(expr, lambda: _expand_power(expr))
    rule = _FUNCTION_RULES.get(type(expr))
    if rule is None:
        raise NoClosedForm(f"no Gaussian rule for {type(expr).__name__}")
    return _with_kinks_lifted(expr, lambda: rule(*expr.args))


def _with_kinks_lifted(expr: sympy.Expr, expand: Callable[[], TermSum]) -> TermSum:
    """``expand()``, or, where it finds no rule, the expansion with a kink lifted out."""
    try:
        return expand()
    except NoClosedForm:
        lifted = _lift_kink(expr)
        if lifted is None:
            raise
        return lifted


# For each kink: (the gap whose sign decides, the branch where gap > 0, the branch elsewhere).
_KINK_BRANCHES: dict[type, Callable[..., tuple[sympy.Expr, sympy.Expr, sympy.Expr]]] = {
    sympy.Abs: lambda x: (x, x, -x),
    sympy.sign: lambda x: (x, sympy.Integer(1), sympy.Integer(-1)),
    sympy.Heaviside: lambda x, *_: (x, sympy.Integer(1), sympy.Integer(0)),
    sympy.Max: lambda a, b: (a - b, a, b),
    sympy.Min: lambda a, b: (a - b, b, a),
}


def _lift_kink(expr: sympy.Expr) -> TermSum | None:
    """``expr`` split at one kink inside it whose gap is linear in eps, or None if none is.

    ``f(K) = 1{g > 0} f(K_+) + 1{g < 0} f(K_-)`` for a kink ``K`` with gap ``g`` (the tie
    ``g = 0`` is a null set under the Gaussian); each side is expanded again, so several
    kinks are lifted one after the other.
    """
    for kink in sorted(expr.atoms(*_KINK_BRANCHES), key=sympy.default_sort_key):
        if not kink.has(EPS) or (isinstance(kink, sympy.Max | sympy.Min) and len(kink.args) != 2):
            continue
        gap, above, below = _KINK_BRANCHES[type(kink)](*kink.args)
        try:
            positive, negative = _step(gap), _step(-gap)
        except NoClosedForm:
            continue  # a gap that is not linear in eps, or whose slope has no known sign
        upper = multiply(positive, expand_terms(expr.xreplace({kink: above})))
        return add(upper, multiply(negative, expand_terms(expr.xreplace({kink: below}))))
    return None


def _expand_power(expr: sympy.Pow) -> TermSum:
    base, exponent = expr.args
    if not exponent.has(EPS):
        if exponent.is_Integer and exponent >= 0:
            return power(expand_terms(base), int(exponent))
        raise NoClosedForm(f"power {exponent} of an eps-dependent base")
    if base.has(EPS):
        raise NoClosedForm("eps in both base and exponent")
    return _expand_exp(exponent * sympy.log(base))


def polynomial_coefficients(expr: sympy.Expr, max_degree: int) -> list[sympy.Expr]:
    """Coefficients ``[c0, c1, ...]`` of ``expr`` as a polynomial in ``eps``.

    Raises :class:`NoClosedForm` if ``expr`` is not such a polynomial.
    """
    coefficients = [_ZERO] * (max_degree + 1)
    for key, coefficient in expand_terms(expr).items():
        plain = key.linear == 0 and key.quadratic == 0 and key.lower == NEG_INF
        if not plain or key.upper != POS_INF or key.power > max_degree:
            raise NoClosedForm(f"not a polynomial of degree <= {max_degree} in eps")
        coefficients[key.power] += coefficient
    return coefficients


def _expand_exp(argument: sympy.Expr) -> TermSum:
    c0, c1, c2 = polynomial_coefficients(argument, 2)
    key = TermKey(0, sympy.expand(c1), sympy.expand(c2), NEG_INF, POS_INF)
    return {key: sympy.exp(c0)}


def _euler(sign: int, imaginary: bool) -> Callable[[sympy.Expr], TermSum]:
    """``(exp(u*x) + sign*exp(-u*x)) / (2 or 2i)`` with ``u = i`` or ``1``."""
    unit = sympy.I if imaginary else sympy.Integer(1)
    denominator = 2 * unit if sign < 0 else sympy.Integer(2)

    def rule(x: sympy.Expr) -> TermSum:
        plus = _expand_exp(unit * x)
        minus = scale(_expand_exp(-unit * x), sympy.Integer(sign))
        return scale(add(plus, minus), 1 / denominator)

    return rule


def _step(argument: sympy.Expr) -> TermSum:
    """``1{argument > 0}`` for an argument linear in ``eps``."""
    intercept, slope = polynomial_coefficients(argument, 1)
    if slope == 0:
        return constant(sympy.Heaviside(intercept))
    root = sympy.cancel(-intercept / slope)
    if slope.is_positive:
        key = TermKey(0, _ZERO, _ZERO, root, POS_INF)
    elif slope.is_negative:
        key = TermKey(0, _ZERO, _ZERO, NEG_INF, root)
    else:
        raise NoClosedForm(f"the sign of {slope} is not known, so the breakpoint side is not")
    return {key: sympy.Integer(1)}


def _heaviside(argument: sympy.Expr, *_value_at_zero: sympy.Expr) -> TermSum:
    # The value at the breakpoint is a null set under the Gaussian: it does not matter.
    return _step(argument)


def _sign(argument: sympy.Expr) -> TermSum:
    return add(_step(argument), scale(_step(-argument), sympy.Integer(-1)))


def _abs(argument: sympy.Expr) -> TermSum:
    return multiply(expand_terms(argument), _sign(argument))


def _max(*arguments: sympy.Expr) -> TermSum:
    if len(arguments) != 2:
        raise NoClosedForm("Max/Min of more than two eps-dependent arguments")
    first, second = arguments
    # Max(x, y) = y + (x - y) * 1{x > y}
    gap = first - second
    return add(expand_terms(second), multiply(expand_terms(gap), _step(gap)))


def _min(*arguments: sympy.Expr) -> TermSum:
    if len(arguments) != 2:
        raise NoClosedForm("Max/Min of more than two eps-dependent arguments")
    first, second = arguments
    # Min(x, y) = x - (x - y) * 1{x > y}
    gap = first - second
    return add(expand_terms(first), scale(multiply(expand_terms(gap), _step(gap)), -1))


def _piecewise(*pieces: tuple[sympy.Expr, sympy.Basic]) -> TermSum:
    """``Piecewise`` with conditions linear in eps: each piece truncated where it applies.

    The first true condition wins, so piece i is weighted by its own indicator times
    the complements of every earlier one.
    """
    total: TermSum = {}
    remaining = constant(sympy.Integer(1))
    for expression, condition in pieces:
        if condition == sympy.true:
            return add(total, multiply(remaining, expand_terms(expression)))
        indicator = _condition(condition)
        total = add(total, multiply(multiply(remaining, indicator), expand_terms(expression)))
        remaining = multiply(remaining, add(constant(sympy.Integer(1)), scale(indicator, -1)))
    return total  # no piece applies on what remains: Piecewise is nan there, a null set here


def _condition(condition: sympy.Basic) -> TermSum:
    """The indicator of ``a < b``, ``a <= b``, ``a > b`` or ``a >= b`` (ties are null sets)."""
    if isinstance(condition, sympy.LessThan | sympy.StrictLessThan):
        return _step(condition.rhs - condition.lhs)
    if isinstance(condition, sympy.GreaterThan | sympy.StrictGreaterThan):
        return _step(condition.lhs - condition.rhs)
    raise NoClosedForm(f"a Piecewise condition {condition} is not one linear inequality")


_FUNCTION_RULES: dict[type, Callable[..., TermSum]] = {
    sympy.exp: _expand_exp,
    sympy.cos: _euler(+1, imaginary=True),
    sympy.sin: _euler(-1, imaginary=True),
    sympy.cosh: _euler(+1, imaginary=False),
    sympy.sinh: _euler(-1, imaginary=False),
    sympy.Heaviside: _heaviside,
    sympy.sign: _sign,
    sympy.Abs: _abs,
    sympy.Max: _max,
    sympy.Min: _min,
    sympy.Piecewise: _piecewise,
}
