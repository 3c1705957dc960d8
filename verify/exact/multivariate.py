"""Expectations over several independent standard normals, one coordinate at a time.

The contract: :func:`expect_over` returns E[f(eps_1, ..., eps_k)] for independent
eps_i ~ N(0, 1) as an :class:`~verify.exact.gaussian.Expectation`.  Independence makes
the integral iterated: each coordinate in turn is integrated by the one-dimensional rules
of :mod:`verify.exact.gaussian`, the other coordinates held as symbols (the rules take
any coefficient free of the integration variable, so ``cos(a eps_1 + b eps_2)``
integrates over eps_1 to ``exp(-a**2/2) cos(b eps_2)``, which integrates again).  The
order is chosen as it goes: any coordinate whose integral has a closed form is taken
next.

When no remaining coordinate has one -- a kink in a linear form of two coordinates,
``Heaviside(z1 - z2)``, integrates over z1 to a normal CDF of z2, whose Gaussian
moments the rules do not cover -- and exactly one coordinate remains, the result is a
one-dimensional integral of a closed-form integrand, labelled ``"quadrature"`` and
certified by :mod:`verify.exact.quadrature` like any other.  More than one remaining
coordinate raises :class:`~verify.exact.terms.NoClosedForm`: nested quadrature is not
attempted.  Divergence conditions (``re(b) >= 1/2``) are collected from every step;
a step whose condition would depend on a coordinate not yet integrated is not taken.

>>> e1, e2 = sympy.symbols("e1 e2", real=True)
>>> expect_over(sympy.cos(e1 + 2 * e2), (e1, e2)).value
exp(-5/2)
>>> expect_over(sympy.Heaviside(e1 - e2), (e1, e2)).method
'quadrature'
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy

from verify.cases.symbols import EPS
from verify.exact.gaussian import Expectation, gaussian_expectation
from verify.exact.terms import NoClosedForm


def expect_over(integrand: sympy.Expr, variables: Sequence[sympy.Symbol]) -> Expectation:
    """E[integrand] over the independent standard normal ``variables`` (see the module)."""
    if integrand.has(EPS):
        raise ValueError("expect_over integrates named coordinates; eps itself must not occur")
    current = sympy.sympify(integrand)
    remaining = [v for v in variables if current.has(v)]
    divergence: list[sympy.Expr] = []
    while remaining:
        step = _next_closed_step(current, remaining)
        if step is None:
            break
        variable, value, conditions = step
        remaining.remove(variable)
        current = value
        divergence.extend(conditions)
    if not remaining:
        conditions = tuple(sorted(set(divergence), key=sympy.default_sort_key))
        return Expectation(integrand, current, conditions, "closed-form")
    if len(remaining) == 1:
        reason = "no closed form for the last coordinate: one-dimensional quadrature"
        return Expectation(current.xreplace({remaining[0]: EPS}), None, (), "quadrature", reason)
    names = ", ".join(str(v) for v in remaining)
    raise NoClosedForm(f"no closed form over {names}; quadrature in several dimensions is not done")


def _next_closed_step(
    current: sympy.Expr, remaining: list[sympy.Symbol]
) -> tuple[sympy.Symbol, sympy.Expr, tuple[sympy.Expr, ...]] | None:
    """The first remaining coordinate whose integral is closed, with its value and conditions."""
    for variable in remaining:
        others = [v for v in remaining if v is not variable]
        one = gaussian_expectation(current.xreplace({variable: EPS}))
        if one.value is None:
            continue
        if any(condition.has(*others) for condition in one.divergence if others):
            continue
        return variable, one.value, one.divergence
    return None
