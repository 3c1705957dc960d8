"""The variance difference D = Var[pathwise] - Var[score] along one variable, and its zeros.

The contract: :class:`Difference` evaluates D quickly (float64 on a grid) and exactly
(50-digit closed forms, or the labelled 40-digit quadrature); the searches below use
only exact values to decide a sign, and quick values only to choose where to look:

- :func:`refine_crossing` closes a bracket whose ends have opposite exact signs to
  relative :data:`RELATIVE_TOLERANCE` (Illinois, i.e. regula falsi that halves the
  stale end's value, with bisection steps where a variance is infinite);
- :func:`lowest_point` minimises ``sign * D`` over an interval (zooming float64
  grids), to look for a tangential zero;
- :func:`edge_of_equality` bisects the end of a run of exactly equal variances.

An infinite variance is larger than any finite one: D = +inf when only the pathwise
variance is infinite, -inf when only the score's is; both infinite gives no sign.
"""

from __future__ import annotations

import mpmath
import numpy as np

from verify.analysis.sweep import EXACT_DIGITS, VarianceFunction
from verify.exact.gaussian import Method

RELATIVE_TOLERANCE = 1e-12
_MAX_STEPS = 300
# 8 zooms of 33 points narrow a bracket 16**8 ~ 4e9-fold.
_ZOOMS, _ZOOM_POINTS = 8, 33
# Equal within what the 50-digit evaluation guarantees (25 digits, see
# VarianceFunction.value) or what 40-digit quadrature leaves after a subtraction.
_EQUAL = {"closed-form": 1e-22, "quadrature": 1e-22}
# A refined crossing whose |D| stays above this (relative) is a jump, not a zero.
_JUMP = 1e-6

Sign = int | None  # -1: pathwise lower, +1: score lower, 0: equal, None: no order


def signed_difference(pathwise: mpmath.mpf | float, score: mpmath.mpf | float) -> mpmath.mpf:
    """pathwise - score, with inf - finite = inf and inf - inf = nan."""
    with mpmath.workdps(EXACT_DIGITS):
        return mpmath.mpf(pathwise) - mpmath.mpf(score)


def sign_of(
    pathwise: mpmath.mpf | float, score: mpmath.mpf | float, tolerance: mpmath.mpf | float
) -> Sign:
    """The sign of D, 0 when within ``tolerance`` relative to the larger variance.

    >>> sign_of(1.0, 2.0, 1e-12), sign_of(mpmath.inf, 2.0, 0), sign_of(0.0, 0.0, 0)
    (-1, 1, 0)
    """
    difference = signed_difference(pathwise, score)
    if mpmath.isnan(difference):
        return None
    if mpmath.isinf(difference):
        return 1 if difference > 0 else -1
    scale = max(abs(mpmath.mpf(pathwise)), abs(mpmath.mpf(score)))
    if abs(difference) <= tolerance * scale:
        return 0
    return 1 if difference > 0 else -1


def lower_estimator(sign: Sign) -> str | None:
    """The estimator with the lower variance where D has this sign (None: neither)."""
    return {-1: "pathwise", 1: "score"}.get(sign) if sign is not None else None


class Difference:
    """D along one variable, from the two estimators' variance functions."""

    def __init__(self, pathwise: VarianceFunction, score: VarianceFunction) -> None:
        self.pathwise, self.score = pathwise, score
        closed = pathwise.method == score.method == "closed-form"
        self.method: Method = "closed-form" if closed else "quadrature"
        self.equal = mpmath.mpf(_EQUAL[self.method])

    def grid(self, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """float64 (pathwise, score) variances on the grid."""
        return self.pathwise.values([grid]), self.score.values([grid])

    def exact(self, x: mpmath.mpf | float) -> tuple[mpmath.mpf, mpmath.mpf]:
        """(pathwise, score) variances at 50 digits, or by labelled 40-digit quadrature."""
        return (
            self.pathwise.value([x], EXACT_DIGITS, exact=True),
            self.score.value([x], EXACT_DIGITS, exact=True),
        )

    def exact_sign(self, x: mpmath.mpf | float) -> Sign:
        """The sign of D at x, decided from exact values."""
        return sign_of(*self.exact(x), self.equal)


def refine_crossing(
    difference: Difference, low: mpmath.mpf | float, high: mpmath.mpf | float
) -> tuple[mpmath.mpf, bool]:
    """The zero of D in (low, high), whose ends have opposite exact signs, and whether D
    really closes to zero there (False: D jumps, e.g. to an infinite variance)."""
    with mpmath.workdps(EXACT_DIGITS):
        a, b = mpmath.mpf(low), mpmath.mpf(high)
        fa, fb = (signed_difference(*difference.exact(x)) for x in (a, b))
        tolerance = RELATIVE_TOLERANCE * max(abs(a), abs(b), (b - a) * 1e-6)
        stale = 0  # which end was kept last: -1 a, +1 b; Illinois halves a twice-kept end
        for _ in range(_MAX_STEPS):
            if b - a <= tolerance:
                break
            c = _next_point(a, b, fa, fb)
            pathwise, score = difference.exact(c)
            sign = sign_of(pathwise, score, difference.equal)
            if sign == 0:
                return c, True
            fc = signed_difference(pathwise, score)
            if sign is not None and sign == _sign(fa):
                a, fa = c, fc
                fb, stale = (fb / 2 if stale == 1 else fb), 1
            else:
                b, fb = c, fc
                fa, stale = (fa / 2 if stale == -1 else fa), -1
        root = (a + b) / 2
        return root, _closes(difference, root)


def _next_point(a: mpmath.mpf, b: mpmath.mpf, fa: mpmath.mpf, fb: mpmath.mpf) -> mpmath.mpf:
    """The regula falsi point, or the midpoint where it is undefined or too close to an end."""
    middle = (a + b) / 2
    if not (mpmath.isfinite(fa) and mpmath.isfinite(fb)) or fa == fb:
        return middle
    c = (a * fb - b * fa) / (fb - fa)
    return c if a < c < b else middle


def _sign(value: mpmath.mpf) -> int:
    return 1 if value > 0 else -1


def _closes(difference: Difference, root: mpmath.mpf) -> bool:
    pathwise, score = difference.exact(root)
    gap = signed_difference(pathwise, score)
    if not mpmath.isfinite(gap):
        return False
    return bool(abs(gap) <= _JUMP * max(pathwise, score))


def lowest_point(difference: Difference, low: float, high: float, sign: int) -> float:
    """Where ``sign * D`` is smallest in [low, high]: float64 grids zooming in 16-fold."""
    a, b = low, high
    best = (low + high) / 2
    for _ in range(_ZOOMS):
        points = np.linspace(a, b, _ZOOM_POINTS)
        pathwise, score = difference.grid(points)
        with np.errstate(invalid="ignore"):
            values = sign * (pathwise - score)
        if not np.any(np.isfinite(values)):
            break
        k = int(np.nanargmin(np.where(np.isfinite(values), values, np.nan)))
        best = float(points[k])
        a, b = float(points[max(k - 1, 0)]), float(points[min(k + 1, _ZOOM_POINTS - 1)])
    return best


def edge_of_equality(
    difference: Difference, inside: float | mpmath.mpf, outside: float | mpmath.mpf
) -> mpmath.mpf:
    """The end, between ``inside`` (D = 0) and ``outside`` (D != 0), of a run of equality."""
    with mpmath.workdps(EXACT_DIGITS):
        a, b = mpmath.mpf(inside), mpmath.mpf(outside)
        tolerance = RELATIVE_TOLERANCE * max(abs(a), abs(b), abs(b - a) * 1e-6)
        while abs(b - a) > tolerance:
            middle = (a + b) / 2
            if difference.exact_sign(middle) == 0:
                a = middle
            else:
                b = middle
        return a
