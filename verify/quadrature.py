"""Labelled mpmath quadrature for the expectations the closed-form rules do not cover.

The contract: :func:`quadrature_expectation` returns E[f(eps)], eps ~ N(0, 1), at one
numeric point, computed by tanh-sinh quadrature at :data:`WORKING_DIGITS` digits,
with the real line split at every breakpoint of ``Abs``, ``sign``, ``Heaviside``,
``Max`` and ``Min`` (quadrature converges slowly across kinks).  Every number it
gives is reported with method ``"quadrature"``.  A divergent integral is detected
from the tails (the integrand times the density still growing at |eps| = 60) and
returned as an infinity rather than as a meaningless finite number.

>>> from verify.symbols import EPS
>>> float(quadrature_expectation(sympy.log(1 + sympy.exp(EPS)), {}))  # doctest: +ELLIPSIS
0.80605918334...
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import mpmath
import sympy

from verify.symbols import EPS

WORKING_DIGITS = 40

_KINKS = (sympy.Abs, sympy.sign, sympy.Heaviside, sympy.Max, sympy.Min)
_TAIL_NEAR, _TAIL_FAR = 30, 60


def quadrature_expectation(
    integrand: sympy.Expr, point: Mapping[sympy.Symbol, sympy.Expr]
) -> mpmath.mpf:
    """E[integrand(eps)] under N(0, 1) at ``point`` (which fixes every other symbol).

    Cached: compound quantities (baselines, measure-valued moments) share parts, and a
    mean recurs in variances, covariances and biases.
    """
    return _cached_quadrature(integrand, tuple(sorted(point.items(), key=str)))


@lru_cache(maxsize=4096)
def _cached_quadrature(
    integrand: sympy.Expr, point: tuple[tuple[sympy.Symbol, sympy.Expr], ...]
) -> mpmath.mpf:
    specialised = integrand.subs(dict(point))
    with mpmath.workdps(WORKING_DIGITS):
        function = sympy.lambdify(EPS, specialised, modules="mpmath")

        def weighted(x: mpmath.mpf) -> mpmath.mpf:
            return mpmath.re(function(x)) * mpmath.npdf(x)

        divergent = _tail_sign(weighted)
        if divergent is not None:
            return divergent
        nodes = [-mpmath.inf, *breakpoints(specialised), mpmath.inf]
        return +mpmath.quad(weighted, nodes)


def breakpoints(integrand: sympy.Expr) -> list[mpmath.mpf]:
    """The sorted real roots in eps of the arguments of kink functions (linear ones only)."""
    roots: set[mpmath.mpf] = set()
    for kink in integrand.atoms(*_KINKS):
        arguments = kink.args if isinstance(kink, sympy.Max | sympy.Min) else kink.args[:1]
        differences = [a - b for a in arguments for b in arguments if a != b] or arguments
        for argument in differences:
            roots.update(_linear_root(argument))
    return sorted(roots)


def _linear_root(argument: sympy.Expr) -> list[mpmath.mpf]:
    if not argument.free_symbols <= {EPS}:
        return []  # a kink inside an inner integral (its variable is not eps)
    poly = sympy.Poly(argument, EPS) if argument.is_polynomial(EPS) else None
    if poly is None or poly.degree() != 1:
        return []
    slope, intercept = (complex(c) for c in poly.all_coeffs())
    return [mpmath.mpf(-intercept.real / slope.real)] if slope.real else []


def _tail_sign(weighted: object) -> mpmath.mpf | None:
    """+-inf or nan when the weighted integrand still grows far out in a tail, else None."""
    signs = []
    for direction in (-1, 1):
        near = weighted(direction * _TAIL_NEAR)  # type: ignore[operator]
        far = weighted(direction * _TAIL_FAR)  # type: ignore[operator]
        if abs(far) > abs(near) and far != 0:
            signs.append(mpmath.sign(far))
    if not signs:
        return None
    if all(sign > 0 for sign in signs):
        return mpmath.inf
    if all(sign < 0 for sign in signs):
        return -mpmath.inf
    return mpmath.nan
