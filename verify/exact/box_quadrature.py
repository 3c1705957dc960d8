"""Gaussian expectations with no closed form, enclosed over a whole box of (mu, sigma, ...).

The contract: :func:`box_expectation` prepares ``E[h(eps; x)]``, eps ~ N(0, 1), for every
``x`` in a ``domain`` box; :meth:`BoxExpectation.enclose` then returns, for any sub-box,
an ``arb`` ball that contains the expectation at *every* point of it.  ``None`` means no
enclosure can be certified (no growth bound for the tails): the caller reports the box
undecided.

- **The integral over |eps| <= L** is FLINT's ``acb.integral`` of ``h * density`` with the
  box's coordinates passed as *wide* balls: each evaluation of the integrand encloses it
  for all parameters at once, and Petras's error bound (from the integrand's analytic
  continuation) holds for each parameter value, so the result encloses the integral
  for every point of the box (loosely: the width of the parameters does not shrink).
- **The tails |eps| > L** are bounded once for the whole domain by the structural growth
  bound of :mod:`verify.exact.growth`: each coordinate is written ``low + (high - low) u``
  with ``u`` in [0, 1] (the growth rules' unit variables), and each term's factor that
  does not depend on eps is bounded by its ball over the domain.  ``L`` is the first
  reach whose tail bound is below :data:`TAIL_TARGET`; the bound is added to the radius.

Derivatives in a coordinate are expectations of the differentiated integrand
(differentiation under the integral: the same growth bounds dominate it), which is what
the centred form of :mod:`verify.analysis.regions` uses.  Cost: a few milliseconds per
integral at :data:`QUADRATURE_PRECISION` bits, so a box costs far more than a closed
form's; see README "Proven regions" for the shares reached in the time limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy
from flint import acb, arb

from verify.cases.symbols import EPS
from verify.exact.balls import BallFunction, compile_balls, working_precision
from verify.exact.box_enclosure import (
    Box,
    BoxFunction,
    Sign,
    certified_sign,
    intersection,
    interval_ball,
)
from verify.exact.growth import Growth, growth_bound, tail_bound

QUADRATURE_PRECISION = 64
TAIL_TARGET = arb(2) ** -36
REACHES = (8, 10, 12, 16, 20, 24, 32, 40, 48, 64)
_DENSITY = sympy.exp(-(EPS**2) / 2) / sympy.sqrt(2 * sympy.pi)
_POINT_TOLERANCE, _POINT_EVALUATIONS = arb(2) ** -30, 4000
_WIDE = (arb(2) ** -10, 400)


@dataclass(frozen=True)
class BoxExpectation:
    """E[h(eps; x)] over sub-boxes of the domain it was prepared for."""

    weighted: BallFunction  # h * density, in (eps, *variables)
    reach: int
    tail: arb

    def enclose(self, box: Box) -> arb:
        """A ball containing E[h] at every point of ``box``."""
        point = all(low == high for low, high in box)
        # Wide parameters bound the radius from below whatever the rule does: a loose
        # tolerance and a small budget cost little and lose nothing (the ball stays valid).
        tolerance, budget = (_POINT_TOLERANCE, _POINT_EVALUATIONS) if point else _WIDE
        with working_precision(QUADRATURE_PRECISION):
            arguments = [interval_ball(low, high) for low, high in box]
            inside = acb.integral(
                lambda x, analytic: self.weighted([x, *arguments], analytic),
                -self.reach,
                self.reach,
                rel_tol=tolerance,
                abs_tol=TAIL_TARGET,
                eval_limit=budget,
            )
            return inside.real + arb(0, self.tail)


@lru_cache(maxsize=256)
def box_expectation(
    integrand: sympy.Expr, variables: tuple[sympy.Symbol, ...], domain: Box
) -> BoxExpectation | None:
    """E[integrand] prepared over ``domain`` (see the module docstring), or None."""
    growth = domain_growth(integrand, variables, domain)
    if growth is None:
        return None
    for reach in REACHES:
        tail = tail_bound(growth, arb(reach))
        if tail < TAIL_TARGET:
            break
    else:
        return None
    weighted = compile_balls(integrand * _DENSITY, (EPS, *variables))
    return BoxExpectation(weighted, reach, tail)


def domain_growth(
    integrand: sympy.Expr, variables: tuple[sympy.Symbol, ...], domain: Box
) -> Growth | None:
    """|integrand| <= A exp(B|eps| + C eps**2) for every point of ``domain``, or None."""
    units = {v: sympy.Dummy(f"unit_{v.name}", real=True) for v in variables}
    substitution = {
        v: _exact(low) + (_exact(high) - _exact(low)) * units[v]
        for v, (low, high) in zip(variables, domain, strict=True)
    }
    # exp(p) with p <= 0 (a Gaussian factor such as exp(-(mu + sigma*eps)**2)) lies in
    # (0, 1]: a unit variable to the growth rules, which cannot bound it themselves.
    decaying = {
        e: sympy.Dummy("decaying", real=True)
        for e in integrand.atoms(sympy.exp)
        if e.args[0].is_nonpositive
    }
    unit_names = frozenset((*units.values(), *decaying.values()))
    total: Growth | None = None
    for term in sympy.Add.make_args(integrand):
        factor, rest = term.as_independent(EPS, as_Add=False)
        bound = growth_bound(rest.xreplace(decaying).xreplace(substitution), EPS, unit_names)
        if bound is None:
            return None
        size = _largest(factor, variables, domain)
        if size is None:
            return None
        scaled = Growth(size * bound.scale, bound.linear, bound.quadratic)
        total = scaled if total is None else total + scaled
    return total


def _largest(
    factor: sympy.Expr, variables: tuple[sympy.Symbol, ...], domain: Box
) -> sympy.Expr | None:
    """An exact upper bound of |factor| over the domain, from its ball."""
    with working_precision(QUADRATURE_PRECISION):
        ball = compile_balls(factor, variables)([interval_ball(lo, hi) for lo, hi in domain])
    if not ball.is_finite():
        return None
    upper = abs(ball.real).upper() + abs(ball.imag).upper()
    if upper == 0:
        return sympy.Integer(0)
    mantissa, exponent = upper.man_exp()
    return sympy.Integer(int(mantissa)) * sympy.Integer(2) ** int(exponent)


def _exact(value: float) -> sympy.Rational:
    return sympy.Rational(value)  # a float is an exact binary rational


@dataclass(frozen=True)
class BoxVariance:
    """Var[g] = E[g**2] - E[g]**2 from the box expectations of g, g**2 and their partials."""

    first: BoxExpectation
    second: BoxExpectation
    first_partials: tuple[BoxExpectation, ...]
    second_partials: tuple[BoxExpectation, ...]


def box_variance(
    first: sympy.Expr, second: sympy.Expr, variables: tuple[sympy.Symbol, ...], domain: Box
) -> BoxVariance | None:
    """The variance of g from the integrands of E[g] and E[g**2], or None (see above)."""
    free = [v for v, (low, high) in zip(variables, domain, strict=True) if high > low]
    prepared = [box_expectation(e, variables, domain) for e in (first, second)]
    partials = [
        [box_expectation(sympy.diff(e, v), variables, domain) for v in free]
        for e in (first, second)
    ]
    first_partials = tuple(p for p in partials[0] if p is not None)
    second_partials = tuple(p for p in partials[1] if p is not None)
    if prepared[0] is None or prepared[1] is None or len(first_partials) < len(free):
        return None
    if len(second_partials) < len(free):
        return None
    return BoxVariance(prepared[0], prepared[1], first_partials, second_partials)


@dataclass(frozen=True)
class ClosedVariance:
    """A closed-form variance (its box function) on the same footing as a BoxVariance."""

    function: BoxFunction

    def parts(self, box: Box, centre: Box) -> tuple[arb, arb, list[arb]]:
        """(enclosure over the box, value at the centre, slopes along the box's free sides)."""
        whole = [interval_ball(low, high) for low, high in box]
        point = [interval_ball(low, high) for low, high in centre]
        slopes = [
            partial(whole).real
            for partial, (low, high) in zip(self.function.partials, box, strict=True)
            if high > low
        ]
        return self.function.value(whole).real, self.function.value(point).real, slopes


def _variance_parts(variance: BoxVariance, box: Box, centre: Box) -> tuple[arb, arb, list[arb]]:
    """(enclosure over the box, value at the centre, slopes along the free sides)."""
    mean = variance.first.enclose(box)
    natural = variance.second.enclose(box) - mean**2
    point_mean = variance.first.enclose(centre)
    at_centre = variance.second.enclose(centre) - point_mean**2
    slopes = [
        d_second.enclose(box) - 2 * mean * d_first.enclose(box)
        for d_first, d_second in zip(variance.first_partials, variance.second_partials, strict=True)
    ]
    return natural, at_centre, slopes


@dataclass(frozen=True)
class QuadratureDifference:
    """Var[first] - Var[second] over boxes: natural and centred forms, intersected.

    Either variance may be a closed form (:class:`ClosedVariance`) when the other needs
    quadrature."""

    variances: tuple[BoxVariance | ClosedVariance, BoxVariance | ClosedVariance]
    # c_first Var[first] - c_second Var[second]: costs per estimate for the efficiency
    # comparison (exact binary numbers; 1 and 1 compare the variances themselves).
    costs: tuple[float, float] = (1.0, 1.0)

    def sign(self, box: Box) -> Sign:
        """The certified sign over ``box``, or None (three-valued, as in box_enclosure)."""
        with working_precision(QUADRATURE_PRECISION):
            centre = tuple(((low + high) / 2,) * 2 for low, high in box)
            sides = [(low, high) for low, high in box if high > low]
            natural, at_centre = arb(0), arb(0)
            slopes = [arb(0) for _ in sides]
            weights = (arb(self.costs[0]), -arb(self.costs[1]))
            for weight, variance in zip(weights, self.variances, strict=True):
                if isinstance(variance, ClosedVariance):
                    parts = variance.parts(box, centre)
                else:
                    parts = _variance_parts(variance, box, centre)
                natural += weight * parts[0]
                at_centre += weight * parts[1]
                for i, slope in enumerate(parts[2]):
                    slopes[i] += weight * slope
            centred = at_centre
            for (low, high), slope in zip(sides, slopes, strict=True):
                centred += slope * (arb(low).union(arb(high)) - arb((low + high) / 2))
            if natural.is_finite() and centred.is_finite():
                return certified_sign(intersection(natural, centred))
            return certified_sign(centred if centred.is_finite() else natural)
