"""Closed-form Gaussian expectations E[f(eps)], eps ~ N(0, 1), by rules rather than integration.

The contract: :func:`gaussian_expectation` takes an integrand in ``eps`` (and in
``mu``, ``sigma`` and case parameters, which stay symbolic) and returns an
:class:`Expectation`: the exact closed form when the rules of :mod:`verify.exact.terms`
cover the integrand, together with the conditions under which the integral
converges; or no closed form, in which case the integrand is kept for the
labelled quadrature of :mod:`verify.exact.quadrature`.

Each term ``eps**n * exp(a*eps + b*eps**2) * 1{L < eps < U}`` integrates by
completing the square.  With ``c = 1/2 - b``, ``m = a/(2c)`` and ``s = 1/sqrt(2c)``,

    E[term] = exp(a**2/(4c)) / sqrt(2c) * E[X**n * 1{L < X < U}],   X ~ N(m, s**2),

and the (truncated) moments of ``X = m + s*Y`` follow from those of the standard
normal ``Y`` on ``(alpha, beta) = ((L - m)/s, (U - m)/s)`` by the recurrence

    I_0 = Phi(beta) - Phi(alpha),   I_1 = phi(alpha) - phi(beta),
    I_j = alpha**(j-1) phi(alpha) - beta**(j-1) phi(beta) + (j - 1) I_{j-2}.

An unbounded term converges exactly when ``re(b) < 1/2``; the condition is kept
symbolically, so that evaluation reports infinity exactly where the integral diverges.

>>> from verify.cases.symbols import EPS, SIGMA
>>> gaussian_expectation(EPS**4).value
3
>>> gaussian_expectation(sympy.exp(SIGMA * EPS)).value
exp(sigma**2/2)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import sympy

from verify.exact.term_sums import NEG_INF, POS_INF, TermKey, TermSum
from verify.exact.terms import NoClosedForm, expand_terms

Method = Literal["closed-form", "quadrature"]

_HALF = sympy.Rational(1, 2)


@dataclass(frozen=True)
class Expectation:
    """E[integrand(eps)] for eps ~ N(0, 1).

    ``value`` is the closed form (``None`` when the rules found none: then
    ``method == "quadrature"`` and only ``integrand`` is meaningful).  The closed
    form is valid where every expression in ``divergence`` has real part < 1/2;
    where one reaches 1/2 the integral diverges.
    """

    integrand: sympy.Expr
    value: sympy.Expr | None
    divergence: tuple[sympy.Expr, ...]
    method: Method
    reason: str = ""


def gaussian_expectation(integrand: sympy.Expr) -> Expectation:
    """The exact E[integrand] under eps ~ N(0, 1), or a labelled request for quadrature."""
    try:
        terms = expand_terms(integrand)
    except NoClosedForm as error:
        return Expectation(integrand, None, (), "quadrature", str(error))
    return expectation_of_terms(terms, integrand)


def expectation_of_terms(terms: TermSum, integrand: sympy.Expr) -> Expectation:
    """The closed form of an already expanded integrand (see :func:`.terms.expand_terms`)."""
    contributions = []
    for key, coefficient in terms.items():
        moment = term_expectation(key)
        if moment != 0:  # odd moments of plain terms vanish: skip the costly product
            contributions.append(coefficient if moment == 1 else coefficient * moment)
    value = sympy.Add(*contributions)
    divergence = tuple(
        sorted(
            {key.quadratic for key in terms if key.lower == NEG_INF or key.upper == POS_INF},
            key=sympy.default_sort_key,
        )
    )
    return Expectation(integrand, value, divergence, "closed-form")


@lru_cache(maxsize=8192)
def term_expectation(key: TermKey) -> sympy.Expr:
    """E[eps**n exp(a eps + b eps**2) 1{L < eps < U}], valid where the integral converges."""
    plain = key.linear == 0 and key.quadratic == 0
    if plain and key.lower == NEG_INF and key.upper == POS_INF:
        # E[eps**n] = (n - 1)!! for even n, 0 for odd n: the common polynomial case.
        return sympy.Integer(0 if key.power % 2 else math.prod(range(key.power - 1, 0, -2)))
    precision = 2 * (_HALF - key.quadratic)  # 2c, the precision of the shifted Gaussian
    mean = key.linear / precision
    scale = 1 / sympy.sqrt(precision)
    normaliser = sympy.exp(key.linear**2 / (2 * precision)) * scale
    moment = _shifted_moment(key.power, mean, scale, key.lower, key.upper)
    factor = _nonempty(key.lower, key.upper)
    return normaliser * moment * factor


def _nonempty(lower: sympy.Expr, upper: sympy.Expr) -> sympy.Expr:
    """1 where the interval (lower, upper) is non-empty; symbolic when that is unknown."""
    if lower == NEG_INF or upper == POS_INF or (upper - lower).is_positive:
        return sympy.Integer(1)
    return sympy.Heaviside(upper - lower, 0)


def _shifted_moment(
    n: int, mean: sympy.Expr, scale: sympy.Expr, lower: sympy.Expr, upper: sympy.Expr
) -> sympy.Expr:
    """E[X**n 1{lower < X < upper}] for X ~ N(mean, scale**2)."""
    if lower == NEG_INF and upper == POS_INF:
        return _full_moment(n, mean, scale)
    alpha = NEG_INF if lower == NEG_INF else (lower - mean) / scale
    beta = POS_INF if upper == POS_INF else (upper - mean) / scale
    standard = _truncated_standard_moments(n, alpha, beta)
    return sympy.Add(
        *(sympy.binomial(n, j) * mean ** (n - j) * scale**j * standard[j] for j in range(n + 1))
    )


def _full_moment(n: int, mean: sympy.Expr, scale: sympy.Expr) -> sympy.Expr:
    """E[X**n] for X ~ N(mean, scale**2): sum over even j of C(n, j) m^(n-j) s^j (j-1)!!."""
    return sympy.Add(
        *(
            sympy.binomial(n, j) * mean ** (n - j) * scale**j * sympy.factorial2(j - 1)
            for j in range(0, n + 1, 2)
        )
    )


def _truncated_standard_moments(n: int, alpha: sympy.Expr, beta: sympy.Expr) -> list[sympy.Expr]:
    """[I_0, ..., I_n] with I_j = E[Y**j 1{alpha < Y < beta}], Y ~ N(0, 1)."""
    moments = [_cdf(beta) - _cdf(alpha)]
    if n >= 1:
        moments.append(_boundary(0, alpha) - _boundary(0, beta))
    for j in range(2, n + 1):
        moments.append(_boundary(j - 1, alpha) - _boundary(j - 1, beta) + (j - 1) * moments[j - 2])
    return moments


def _cdf(x: sympy.Expr) -> sympy.Expr:
    if x == NEG_INF:
        return sympy.Integer(0)
    if x == POS_INF:
        return sympy.Integer(1)
    return (1 + sympy.erf(x / sympy.sqrt(2))) / 2


def _boundary(power: int, x: sympy.Expr) -> sympy.Expr:
    """x**power * phi(x), which vanishes at both infinities."""
    if x in (NEG_INF, POS_INF):
        return sympy.Integer(0)
    return x**power * sympy.exp(-(x**2) / 2) / sympy.sqrt(2 * sympy.pi)
