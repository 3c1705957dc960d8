"""Sums of Gaussian-integrable terms, :data:`TermSum`, and their algebra.

The contract: a :data:`TermSum` maps each :class:`TermKey`, the term

    eps**power * exp(linear*eps + quadratic*eps**2) * 1{lower < eps < upper},

to its ``eps``-free coefficient; zero coefficients are dropped, so ``{}`` is 0.
:func:`constant`, :func:`add`, :func:`scale`, :func:`multiply` and :func:`power` keep
that form: in a product the powers and exponents add (exponent sums are expanded, so
equal exponents give equal keys) and the truncations intersect, and a product whose
interval is empty vanishes almost surely and is dropped.  What the terms of an
expression are is :mod:`verify.exact.terms`'s; their expectations,
:mod:`verify.exact.gaussian`'s.

>>> two = add(constant(sympy.Integer(1)), constant(sympy.Integer(1)))
>>> list(power(two, 3).values())
[8]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy

NEG_INF = sympy.S.NegativeInfinity
POS_INF = sympy.S.Infinity


@dataclass(frozen=True)
class TermKey:
    """``eps**power * exp(linear*eps + quadratic*eps**2) * 1{lower < eps < upper}``."""

    power: int
    linear: sympy.Expr
    quadratic: sympy.Expr
    lower: sympy.Expr
    upper: sympy.Expr


TermSum = dict[TermKey, sympy.Expr]

_ZERO = sympy.Integer(0)
_CONSTANT_KEY = TermKey(0, _ZERO, _ZERO, NEG_INF, POS_INF)


def constant(value: sympy.Expr) -> TermSum:
    """The term sum of an ``eps``-free value."""
    return {} if value == 0 else {_CONSTANT_KEY: value}


def add(left: TermSum, right: TermSum) -> TermSum:
    """``left + right``, merging equal terms and dropping zeros."""
    total = dict(left)
    for key, coefficient in right.items():
        merged = total.get(key, _ZERO) + coefficient
        if merged == 0:
            total.pop(key, None)
        else:
            total[key] = merged
    return total


def scale(terms: TermSum, factor: sympy.Expr) -> TermSum:
    """``factor * terms`` for an ``eps``-free factor."""
    if factor == 0:
        return {}
    return {key: coefficient * factor for key, coefficient in terms.items()}


def multiply(left: TermSum, right: TermSum) -> TermSum:
    """``left * right``: exponents add, truncations intersect."""
    # Collect each key's products and sum them once: pairwise sums would rebuild
    # (and re-flatten) a growing SymPy Add for every product.
    collected: dict[TermKey, list[sympy.Expr]] = {}
    for key_l, coefficient_l in left.items():
        for key_r, coefficient_r in right.items():
            key = _product_key(key_l, key_r)
            if key is not None:
                collected.setdefault(key, []).append(coefficient_l * coefficient_r)
    product = {key: sympy.Add(*parts) for key, parts in collected.items()}
    return {key: coefficient for key, coefficient in product.items() if coefficient != 0}


def power(terms: TermSum, exponent: int) -> TermSum:
    """``terms**exponent`` for a non-negative integer exponent (binary powering)."""
    result = constant(sympy.Integer(1))
    base = terms
    while exponent:
        if exponent & 1:
            result = multiply(result, base)
        exponent >>= 1
        if exponent:
            base = multiply(base, base)
    return result


def _product_key(left: TermKey, right: TermKey) -> TermKey | None:
    lower = _tighter(left.lower, right.lower, NEG_INF, sympy.Max)
    upper = _tighter(left.upper, right.upper, POS_INF, sympy.Min)
    if lower.is_finite and upper.is_finite and (upper - lower).is_nonpositive:
        return None  # an empty interval: the product vanishes almost surely
    return TermKey(
        power=left.power + right.power,
        linear=_sum(left.linear, right.linear),
        quadratic=_sum(left.quadratic, right.quadratic),
        lower=lower,
        upper=upper,
    )


def _tighter(
    first: sympy.Expr, second: sympy.Expr, unbounded: sympy.Expr, pick: type
) -> sympy.Expr:
    """Max or Min of two bounds, without SymPy's comparisons in the common trivial cases."""
    if first in (unbounded, second):
        return second
    if second == unbounded:
        return first
    return _bound(first, second, pick)


@lru_cache(maxsize=4096)
def _bound(first: sympy.Expr, second: sympy.Expr, pick: type) -> sympy.Expr:
    # SymPy does not cache Max and Min, whose constructors compare their arguments
    # symbolically; the same pair of kinks recurs in every product of a power.
    return pick(first, second)


def _sum(first: sympy.Expr, second: sympy.Expr) -> sympy.Expr:
    """An exponent sum, expanded so that equal exponents give equal keys."""
    if first == 0:
        return second
    if second == 0:
        return first
    return sympy.expand(first + second)
