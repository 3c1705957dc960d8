"""Certified one-dimensional integrals of ``w(x) K(x)``, with ``K(x) = int_0^x g(e) de`` not closed.

The contract: :func:`running_integral` returns an ``arb`` ball containing
``int_{nodes[0]}^{nodes[-1]} w(x) K(x) dx`` for ball functions ``w`` (the outer weight,
density included) and ``g`` (the inner integrand), given breakpoints ``nodes`` that
include 0 and every kink of ``w`` and ``g``.  It is how the coupled measure-valued
sigma moments ``E[eps r(mu + sigma eps)**i K_j(eps)]`` are certified when no
antiderivative of ``r**j`` is known: the integral over the triangle ``0 < e < x`` is
two-dimensional, but the inner variable is never integrated numerically inside the
outer one (no nested quadrature).  Instead, on each piece ``[s, t]`` of the outer
range, walking outward from 0 so that ``K(s)`` is already known:

1. ``g`` on the piece, mapped to ``tau`` in [-1, 1], is replaced by its Chebyshev
   interpolant ``p`` of degree ``n`` at the ``n + 1`` Chebyshev extreme points, computed
   in ball arithmetic (the interpolant of ball data contains the exact interpolant).
   If ``g`` is analytic in the Bernstein ellipse ``E_rho`` with ``|g| <= M`` there, then
   ``|g - p| <= 4 M rho**-n / (rho - 1)`` on [-1, 1] (Trefethen, *Approximation Theory
   and Approximation Practice*, SIAM 2013, Theorem 8.2).  ``M`` comes from ONE ball
   evaluation of ``g`` on a complex box that contains the ellipse, in the ``analytic``
   mode of :mod:`verify.exact.ball_closures` (non-finite at poles, kinks and branch
   cuts, so a finite ``M`` also certifies analyticity).
2. ``K(x) = K(s) + h (P(tau) - P(-1))`` with ``P`` the exact antiderivative of ``p``
   and ``h = (t - s)/2``, up to ``2 |h| E`` where ``E`` is the interpolation bound; the
   piece's share of the outer integral is FLINT's certified ``acb.integral`` of ``w``
   times this polynomial (which is entire), plus ``4 h**2 E sup|w|`` in the radius
   (``sup|w|`` from one ball evaluation of ``w`` over the real piece).
3. ``K(t) = K(s) + h (P(1) - P(-1))`` within ``2 |h| E`` carries to the next piece.

Pieces whose ``g`` is not analytic on any ellipse tried, or would need a degree above
:data:`MAX_DEGREE`, are bounded outright when their share is provably below its budget
(far tails), else bisected (at most :data:`MAX_DEPTH` times; then the result is
``nan``: uncertified, never wrong).  The monomial coefficients of a degree-``n``
interpolant grow like ``2**n``, so the model is built and evaluated ``n + 16`` bits
above the working precision.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from flint import acb, acb_poly, arb, ctx

from verify.exact.balls import BallEvaluator, working_precision

MAX_DEGREE = 64
MAX_DEPTH = 8
# Bernstein ellipse parameters tried for each piece, largest (fastest convergence) first.
RHOS = (16.0, 8.0, 4.0, 2.5, 1.6, 1.25)
# Widest piece (in the outer variable) before any analyticity test.
MAX_WIDTH = 2
SUP_PARTS = 16


# (low, high, w, g): w and g on [low, high], their kinks resolved for that piece.
Piece = tuple[arb, arb, BallEvaluator, BallEvaluator]


def running_integral(pieces: Sequence[Piece], target: arb) -> arb:
    """``int w(x) K(x) dx`` over consecutive ``pieces``, one of which starts at 0."""
    bits = ctx.prec
    zero = next(i for i, piece in enumerate(pieces) if piece[0] == 0)
    # Outward from 0 on each side, so that K at a piece's start is known.
    right = list(pieces[zero:])
    left = [(high, low, w, g) for low, high, w, g in reversed(pieces[:zero])]
    share = target / max(len(pieces), 1) / 8
    total = arb(0)
    for side in (right, left):
        running = arb(0)  # K at the start of the next piece
        for start, end, outer, inner in side:
            for low, high in _split(start, end):
                part, running = _piece(outer, inner, low, high, running, share, bits, 0)
                total += part
                if not total.is_finite():
                    return arb("nan")
    return total


def _split(start: arb, end: arb) -> list[tuple[arb, arb]]:
    """``[start, end]`` cut into equal pieces of width at most :data:`MAX_WIDTH`."""
    count = max(1, math.ceil(abs(float(end.mid() - start.mid())) / MAX_WIDTH))
    cuts = [start + (end - start) * k / count for k in range(count)] + [end]
    return list(itertools.pairwise(cuts))


def _piece(
    outer: BallEvaluator,
    inner: BallEvaluator,
    start: arb,
    end: arb,
    running: arb,
    share: arb,
    bits: int,
    depth: int,
) -> tuple[arb, arb]:
    """(this piece's share of the integral, K at ``end``), from K at ``start``."""
    half = (end - start) / 2
    middle = (start + end) / 2
    weight_sup = _sup_abs(outer, start, end)
    if not weight_sup.is_finite():
        return arb("nan"), arb("nan")
    # |model error of the piece| <= 4 h**2 E sup|w|: aim at the piece's share.
    wanted = share / (4 * half * half * weight_sup + arb(2) ** -bits)
    model = _chebyshev_model(inner, middle, half, wanted, bits)
    if model is None:
        crude = _crude(inner, start, end, running, weight_sup, share)
        if crude is not None:
            return crude
        if depth >= MAX_DEPTH:
            return arb("nan"), arb("nan")
        first, running = _piece(outer, inner, start, middle, running, share / 2, bits, depth + 1)
        second, running = _piece(outer, inner, middle, end, running, share / 2, bits, depth + 1)
        return first + second, running
    antiderivative, error, extra_bits = model
    with working_precision(bits + extra_bits):
        base = acb(running) - half * antiderivative(acb(-1))

        def integrand(tau: acb, analytic: bool) -> acb:
            return outer([middle + half * tau], analytic) * (base + half * antiderivative(tau))

        share_of_integral = acb.integral(
            integrand, -1, 1, rel_tol=arb(2) ** -(bits - 8), abs_tol=share
        ).real * abs(half)
        model_error = 4 * half * half * error * weight_sup
        increment = half * (antiderivative(acb(1)) - antiderivative(acb(-1))).real
    share_of_integral += arb(0, _upper(model_error))
    running_error = 2 * abs(half) * error
    return +share_of_integral, +(running + increment + arb(0, _upper(running_error)))


def _crude(
    inner: BallEvaluator, start: arb, end: arb, running: arb, weight_sup: arb, share: arb
) -> tuple[arb, arb] | None:
    """A far piece whose share is negligible, bounded outright (no model), or None.

    ``|K| <= |K(start)| + 2|h| sup|g|`` on the piece, so ``|int w K| <= 2|h| sup|w| sup|K|``;
    used where ``g`` varies too fast for a low-degree model (``exp(a z**2)`` far out)
    while the density has made the piece's share smaller than its budget."""
    width = abs(end - start)
    rise = width * _sup_abs(inner, start, end)
    bound = width * weight_sup * (_upper(abs(running)) + rise)
    if not (bound.is_finite() and bound < share):
        return None
    return arb(0, _upper(bound)), running + arb(0, _upper(rise))


def _sup_abs(function: BallEvaluator, start: arb, end: arb) -> arb:
    """An upper bound of ``|function|`` on the real interval, from :data:`SUP_PARTS` sub-balls
    (one ball over the whole piece overestimates: ``1 + x**2`` on [-1, 1] would contain 0)."""
    bound = arb(0)
    for k in range(SUP_PARTS):
        low = start + (end - start) * k / SUP_PARTS
        high = start + (end - start) * (k + 1) / SUP_PARTS
        bound = bound.max(_upper(abs(function([acb(low.union(high))]).real)))
    return bound


def _chebyshev_model(
    inner: BallEvaluator, middle: arb, half: arb, wanted: arb, bits: int
) -> tuple[acb_poly, arb, int] | None:
    """(antiderivative P in tau of the interpolant, its error bound E, extra bits) or None."""
    best: tuple[int, float, arb] | None = None
    log_wanted = _log(wanted)
    reach = _upper(abs(half))
    for rho in RHOS:
        exact_rho = arb(rho)  # the double, exactly
        semi_major = _upper((exact_rho + 1 / exact_rho) / 2)
        semi_minor = _upper((exact_rho - 1 / exact_rho) / 2)
        box = acb(
            arb(middle.mid(), _upper(reach * semi_major + middle.rad())),
            arb(0, _upper(reach * semi_minor)),
        )
        bound = inner([box], True)
        if not bound.is_finite():
            continue
        magnitude = bound.abs_upper()
        # 4 M rho**-n / (rho - 1) <= wanted.
        needed = (_log(4 * magnitude / (rho - 1)) - log_wanted) / math.log(rho)
        degree = max(2, math.ceil(needed))
        if degree <= MAX_DEGREE and (best is None or degree < best[0]):
            best = (degree, rho, magnitude)
    if best is None:
        return None
    degree, rho, magnitude = best
    extra_bits = degree + 16
    with working_precision(bits + extra_bits):
        nodes = [(arb.pi() * k / degree).cos() for k in range(degree + 1)]
        values = [inner([acb(middle + half * node)]) for node in nodes]
        if not all(value.is_finite() for value in values):
            return None
        interpolant = acb_poly.interpolate([acb(node) for node in nodes], values, "barycentric")
        error = _upper(4 * magnitude * arb(rho) ** -degree / (arb(rho) - 1))
        return interpolant.integral(), error, extra_bits


def _upper(value: arb) -> arb:
    """The upper end of a ball, as an exact ball."""
    return value.mid() + value.rad()


def _log(value: arb) -> float:
    """The natural logarithm of a positive ball's upper end, as a float (for degree choice)."""
    mantissa, exponent = _upper(value).mid().man_exp()
    if mantissa == 0:
        return -1e6
    return math.log(abs(int(mantissa))) + int(exponent) * math.log(2)
