"""Certified quadrature for the expectations the closed-form rules do not cover.

The contract: :func:`certified_expectation` returns E[f(eps)], eps ~ N(0, 1), at one
exact point as an ``arb`` ball that provably contains the true value.  Every number
it gives is reported with method ``"quadrature"`` and that ball's radius.

- **The integral over |eps| <= L** is FLINT's ``acb.integral`` (Petras's algorithm
  with Gauss-Legendre rules and rigorous error bounds from the integrand's analytic
  continuation), on pieces split at every breakpoint found (:func:`breakpoints`) of
  ``Abs``, ``sign``, ``Heaviside``, ``Max``, ``Min`` and ``Piecewise``; on each piece the
  kinks whose branch is proved are resolved (:mod:`verify.exact.branches`), so the
  integrand is analytic across the piece's ends.
- **An integrand ``w(eps) * Integral(g(e), (e, 0, eps))``** (the coupled measure-valued
  moments without an antiderivative) is a one-dimensional running integral
  (:mod:`verify.exact.running_integral`), never a nested quadrature.
- **The tails |eps| > L** are bounded, not assumed small: a structural growth bound
  ``|f(x)| <= A exp(B|x| + C x**2)`` (:mod:`verify.exact.growth`) integrates against the
  density in closed form; ``L`` is the first of :data:`REACHES` whose tail bound is
  below the target, and the tail bound is added to the radius.
- **The target** is a radius of 2^-100 relative or 2^-120 absolute, at 128 bits
  (:data:`TIGHT`), for every reported value.  Code that only needs a few digits (the
  Monte Carlo checks sizing their samples) may ask for a looser one with
  :func:`quadrature_target`: the result is still a certified ball, only wider; a value
  already known at the tight target is returned instead.
- **Where no growth bound can be proved** (for example ``exp(exp(z))``, or ``tan``)
  nothing is certified: divergence is then detected from the tails (the integrand times the
  density still growing at |eps| = 60) and returned as an infinity, or else
  mpmath's tanh-sinh value is returned with radius ``None`` (uncertified).

>>> from verify.cases.symbols import EPS
>>> ball = certified_expectation(sympy.log(1 + sympy.exp(EPS)), {})
>>> float(ball.mid())  # doctest: +ELLIPSIS
0.80605918334...
>>> float(ball.rad()) < 1e-30
True
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import sympy
from flint import acb, arb

from verify.cases.symbols import EPS
from verify.exact.ball_closures import NotCompilable
from verify.exact.balls import BallEvaluator, number_ball, working_precision
from verify.exact.box_compile import ball_function
from verify.exact.branches import breakpoints as breakpoints  # re-exported: callers import it here
from verify.exact.branches import on_piece
from verify.exact.growth import Growth, growth_bound, tail_bound
from verify.exact.running_integral import running_integral

WORKING_DIGITS = 40
# Bits of the ball arithmetic; a second, higher rung is tried if the first is too wide.
PRECISION_LADDER = (128, 256)
# Far reaches serve loose growth bounds: a sigmoid's derivative to the fourth power at
# slope 8 is bounded by 4096 exp(32 + 32|x|) (the denominator's growth is not credited),
# whose tail falls below the target only beyond |x| = 68.
REACHES = (8, 10, 12, 14, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128)


@dataclass(frozen=True)
class Target:
    """A radius of at most ``2**-relative`` times the value, or ``2**-absolute``, reached
    with working precisions from ``ladder`` (bits) in turn."""

    relative: int
    absolute: int
    ladder: tuple[int, ...]

    def good_enough(self, ball: arb) -> bool:
        """Whether ``ball`` is finite and within the target."""
        if not ball.is_finite():
            return False
        radius = ball.rad()
        return bool(
            radius <= arb(2) ** -self.relative * abs(ball.mid())
            or radius <= arb(2) ** -self.absolute
        )

    @property
    def tolerance(self) -> arb:
        """The absolute tolerance of each part (pieces, tails): well inside the target."""
        return arb(2) ** -(self.absolute + 8)


TIGHT = Target(100, 120, PRECISION_LADDER)
_TARGET: ContextVar[Target] = ContextVar("quadrature_target", default=TIGHT)
CACHE_SIZE = 8192  # tight and loose results together (it was 4096 tight ones)


@contextmanager
def quadrature_target(relative: int, absolute: int, ladder: tuple[int, ...]) -> Iterator[None]:
    """Within the block, :func:`certified_expectation` aims at radius ``2**-relative``
    relative or ``2**-absolute`` absolute, at the precisions of ``ladder``: for numbers that
    only size or guard something (never reported), so that fewer nodes serve."""
    token = _TARGET.set(Target(relative, absolute, ladder))
    try:
        yield
    finally:
        _TARGET.reset(token)


_KINKS = (sympy.Abs, sympy.sign, sympy.Heaviside, sympy.Max, sympy.Min)
_TAIL_NEAR, _TAIL_FAR = 30, 60
_DENSITY = sympy.exp(-(EPS**2) / 2) / sympy.sqrt(2 * sympy.pi)


def certified_expectation(integrand: sympy.Expr, point: Mapping[sympy.Symbol, sympy.Expr]) -> arb:
    """E[integrand(eps)] under N(0, 1) at ``point``, as a ball (radius inf: uncertified).

    Cached on the integrand at the point: compound quantities (baselines, measure-valued
    moments) share parts, a mean recurs in variances, covariances and biases, and the
    same integral recurs at points that differ only in names it does not contain (a
    one-coordinate moment of a sum or product over d coordinates, at every d).  The
    radius aims at the current target (:func:`quadrature_target`; :data:`TIGHT` unless
    asked), and a ball already computed at :data:`TIGHT` serves every target.
    """
    # Sorted by name: the printer behind str() was a tenth of the cost of a cache hit.
    specialised = _specialise(integrand, tuple(sorted(point.items(), key=_name)))
    target = _TARGET.get()
    for key in dict.fromkeys(((specialised, TIGHT), (specialised, target))):
        if key in _RESULTS:
            _RESULTS.move_to_end(key)
            return _RESULTS[key]
    ball = _expectation(specialised, target)
    _RESULTS[(specialised, target)] = ball
    if len(_RESULTS) > CACHE_SIZE:
        _RESULTS.popitem(last=False)
    return ball


def _name(item: tuple[sympy.Symbol, sympy.Expr]) -> str:
    return str(item[0].name)


# The most recently used results, by (specialised integrand, target).
_RESULTS: OrderedDict[tuple[sympy.Expr, Target], arb] = OrderedDict()


def clear_cache() -> None:
    """Forget every computed expectation (benchmarks time them from scratch)."""
    _RESULTS.clear()


def quadrature_expectation(
    integrand: sympy.Expr, point: Mapping[sympy.Symbol, sympy.Expr]
) -> mpmath.mpf:
    """The midpoint of :func:`certified_expectation`, as an mpmath number (for scans)."""
    return ball_to_mpf(certified_expectation(integrand, point))


def ball_to_mpf(ball: arb) -> mpmath.mpf:
    """The ball's midpoint, exactly, as mpmath's binary float (inf and nan kept)."""
    if ball.is_nan():
        return mpmath.nan
    if not ball.mid().is_finite():
        return mpmath.inf if ball.mid() > 0 else -mpmath.inf
    mantissa, exponent = ball.mid().man_exp()
    with mpmath.workprec(max(int(mantissa).bit_length(), 53)):
        return mpmath.mpf((int(mantissa), int(exponent)))


@lru_cache(maxsize=4096)
def _specialise(
    integrand: sympy.Expr, point: tuple[tuple[sympy.Symbol, sympy.Expr], ...]
) -> sympy.Expr:
    # xreplace, not subs: the point is numbers, and subs was most of the time here.
    return sympy.sympify(integrand).xreplace(dict(point))


def _expectation(specialised: sympy.Expr, target: Target) -> arb:
    growth = growth_bound(specialised, EPS)
    if growth is None:
        return _uncertified(specialised)
    found = _reach(growth, target)
    if found is None:
        return arb("nan")  # the bound proves no convergence (C >= 1/2, or too loose)
    reach, tail = found
    try:
        integrate = _integrator(specialised, reach, target.tolerance)
    except NotCompilable:
        return _uncertified(specialised)  # a function with a bound but no ball evaluation
    ball = arb("nan")
    for bits in target.ladder:
        with working_precision(bits):
            ball = integrate(bits) + arb(0, tail)
            if target.good_enough(ball):
                return +ball
    return ball


def _integrator(specialised: sympy.Expr, reach: int, tolerance: arb) -> Callable[[int], arb]:
    """The integral over |eps| <= reach at a precision: acb.integral piece by piece, or for
    ``w(eps) int_0^eps g(e) de`` the running integral.  Each piece gets the integrand with
    its kinks resolved (:mod:`verify.exact.branches`), analytic across the piece's ends."""
    running = running_parts(specialised)
    if running is None:
        ends = _ends(specialised, reach, with_zero=False)
        weighted = specialised * _DENSITY
        functions = [_resolved(weighted, low, high) for low, high in itertools.pairwise(ends)]
        return lambda bits: _integrate(ends, functions, bits, tolerance)
    outer, integral = running
    inner = integral.function.subs(integral.limits[0][0], EPS)
    ends = _ends(outer * inner, reach, with_zero=True)
    pairs = [
        (_resolved(outer * _DENSITY, low, high), _resolved(inner, low, high))
        for low, high in itertools.pairwise(ends)
    ]

    def integrate(bits: int) -> arb:
        balls = [number_ball(end).real for end in ends]
        pieces = [
            (low, high, weight, inner_function)
            for (low, high), (weight, inner_function) in zip(
                itertools.pairwise(balls), pairs, strict=True
            )
        ]
        return running_integral(pieces, tolerance)

    return integrate


def _resolved(expr: sympy.Expr, low: sympy.Expr, high: sympy.Expr) -> BallEvaluator:
    if expr.has(*_KINKS, sympy.Piecewise):
        expr = on_piece(expr, EPS, low, high)
    # acb.integral calls the piece's function thousands of times: straight-line code
    # where it can be, the closures' balls exactly, without a call per node.
    return ball_function(expr, (EPS,))


def running_parts(integrand: sympy.Expr) -> tuple[sympy.Expr, sympy.Integral] | None:
    """(w, Integral(g(e), (e, 0, eps))) when ``integrand`` is their product, else None."""
    integrals = integrand.atoms(sympy.Integral)
    if len(integrals) != 1 or not integrand.is_Mul:
        return None
    (integral,) = integrals
    limits = integral.limits
    if len(limits) != 1 or len(limits[0]) != 3 or tuple(limits[0][1:]) != (0, EPS):
        return None
    if integral not in integrand.args:
        return None
    outer = sympy.Mul(*(factor for factor in integrand.args if factor != integral))
    return None if outer.has(sympy.Integral) else (outer, integral)


def _reach(growth: Growth, target: Target) -> tuple[int, arb] | None:
    """The first reach whose tail bound is below the target's tolerance, with that bound."""
    for reach in REACHES:
        tail = tail_bound(growth, arb(reach))
        if tail < target.tolerance:
            return reach, tail
    return None


def _ends(specialised: sympy.Expr, reach: int, with_zero: bool) -> list[sympy.Expr]:
    """-reach, the breakpoints inside (and 0), reach: exact and sorted."""
    inside = [x for x in breakpoints(specialised) if -reach < float(x) < reach]
    if with_zero and not any(x == 0 for x in inside):
        inside = sorted([*inside, sympy.Integer(0)], key=float)
    return [sympy.Integer(-reach), *inside, sympy.Integer(reach)]


def _integrate(
    ends: list[sympy.Expr], functions: list[BallEvaluator], bits: int, tolerance: arb
) -> arb:
    balls = [number_ball(end).real for end in ends]
    total = acb(0)
    for (low, high), function in zip(itertools.pairwise(balls), functions, strict=True):
        total += acb.integral(
            _as_integrand(function),
            low,
            high,
            rel_tol=arb(2) ** -(bits - 8),
            abs_tol=tolerance,
        )
    return total.real


def _as_integrand(function: BallEvaluator) -> Callable[[acb, bool], acb]:
    return lambda x, analytic: function([x], analytic)


def _uncertified(specialised: sympy.Expr) -> arb:
    """No growth bound: infinity where the tails diverge, else mpmath with an infinite radius."""
    with mpmath.workdps(WORKING_DIGITS):
        function = sympy.lambdify(EPS, specialised, modules="mpmath")

        def weighted(x: mpmath.mpf) -> mpmath.mpf:
            return mpmath.re(function(x)) * mpmath.npdf(x)

        divergent = _tail_sign(weighted)
        if divergent is not None:
            if mpmath.isnan(divergent):
                return arb("nan")
            return arb.pos_inf() if divergent > 0 else arb.neg_inf()
        kinks = [mpmath.mpf(str(sympy.N(x, WORKING_DIGITS))) for x in breakpoints(specialised)]
        value = mpmath.quad(weighted, [-mpmath.inf, *kinks, mpmath.inf])
    return arb(mpmath.nstr(value, WORKING_DIGITS), "inf")


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
