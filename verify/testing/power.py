"""Power of :func:`verify.testing.check_estimator`'s checks: the planned N and what it detects.

The contract:

- **Error model.**  A relative error ``e`` in a mean, variance or covariance means the
  true value is the exact one divided by ``f = 1 + e`` or ``1 - e`` (as in
  :mod:`verify.montecarlo.sample_size`: the exact value is ``f`` times the truth); the
  power is the lower of the two.  A mean or covariance error shifts the statistic and
  leaves its spread; a variance error is a change of scale
  (:func:`verify.montecarlo.sample_size.variance_power`).
- **Power of a mean or covariance check.**  Its z-score is then normal about
  ``offset = (truth - exact) / SE``, with the exact standard error (mean:
  ``sqrt(Var/N)``; covariance: :func:`verify.montecarlo.covariance.standard_error`); it is
  flagged outside the check's Cornish-Fisher bounds.  A median-of-means check uses
  :func:`verify.montecarlo.robust.approximate_power`.  Both are the normal
  approximations :mod:`verify.montecarlo.sample_size` plans with.
- **Planned N** (:func:`planned_samples`): the smallest multiple of the engine's chunk
  size, from 10,000 up to ``maximum``, at which every mean and variance check that
  will be made detects a relative error ``e`` with probability ``power`` (a check of
  an exact 0 has no relative error, and is not planned for).
- **Detectable** (:func:`detectable`): per check made, the smallest relative error it
  detects with probability ``power`` at the N used, to 3 significant digits, by
  bisection over ``(0, 0.99]``; ``inf`` beyond, ``None`` where the exact value is 0
  or the check was not a z-test or median of means.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from statistics import NormalDist

import mpmath

from verify.montecarlo.check_moments import ExactMoments
from verify.montecarlo.covariance import (
    covariance_correction,
    covariance_robust_reason,
    covariance_skip,
    standard_error,
)
from verify.montecarlo.covariance_moments import ExactCovariance
from verify.montecarlo.robust import approximate_power, robust_blocks
from verify.montecarlo.sample_size import smallest_sufficient, variance_power
from verify.montecarlo.significance import (
    MIN_SAMPLES,
    mean_bounds,
    planned_skips,
    robust_reasons,
)

LARGEST_ERROR = 0.99  # a relative error of 1 or more would make a variance 0 or negative
Power = Callable[[int, float], float]  # P(flagged) at N samples and a relative error


def _shifted(offsets: Iterable[float], bounds: tuple[float, float]) -> float:
    """The lowest P(Z + offset outside bounds) over the offsets, Z standard normal."""
    normal = NormalDist()
    return min(normal.cdf(bounds[0] - o) + 1 - normal.cdf(bounds[1] - o) for o in offsets)


def _truths(exact: float, error: float) -> tuple[float, float]:
    return exact / (1 + error), exact / (1 - error)


def mean_power(moments: ExactMoments, t: float) -> Power | None:
    """P(the mean check flags a relative error), or None where it is not made from samples."""
    if moments.is_degenerate or planned_skips(moments, MIN_SAMPLES, t)["mean"] is not None:
        return None
    exact, variance = float(moments.mean), float(moments.variance)

    def power(samples: int, error: float) -> float:
        truths = _truths(exact, error)
        if robust_reasons(moments, samples, t)["mean"] is not None:
            blocks = robust_blocks(t)
            return min(approximate_power(exact, variance, samples, blocks, x) for x in truths)
        scale = math.sqrt(variance / samples)
        return _shifted(((x - exact) / scale for x in truths), mean_bounds(moments, samples, t))

    return power


def variance_power_of(moments: ExactMoments, t: float) -> Power | None:
    """P(the variance check flags a relative error), or None where it is not made."""
    if math.isnan(variance_power(moments, MIN_SAMPLES, t)):
        return None
    return lambda samples, error: variance_power(moments, samples, t, error)


def covariance_power(exact: ExactCovariance, t: float) -> Power | None:
    """P(the covariance check flags a relative error), or None where it is not made."""
    if exact.is_degenerate or covariance_skip(exact, MIN_SAMPLES, t) is not None:
        return None
    claimed = float(exact.covariance)

    def power(samples: int, error: float) -> float:
        truths = _truths(claimed, error)
        if covariance_robust_reason(exact, samples, t) is not None:
            spread = float(exact.mu22 - exact.covariance**2)
            blocks = robust_blocks(t)
            return min(approximate_power(claimed, spread, samples, blocks, x) for x in truths)
        scale = float(standard_error(exact, samples))
        shift = covariance_correction(exact, samples, t)
        offsets = ((x - claimed) / scale for x in truths)
        return _shifted(offsets, (-t + shift, t + shift))

    return power


def check_powers(exact: ExactCovariance, t: float) -> list[tuple[str, mpmath.mpf, Power | None]]:
    """The five checks of a stream in record order: (statistic, exact value, power)."""
    powers: list[tuple[str, mpmath.mpf, Power | None]] = []
    for moments in (exact.mu, exact.sigma):
        powers.append(("mean", moments.mean, mean_power(moments, t)))
        powers.append(("variance", moments.variance, variance_power_of(moments, t)))
    powers.append(("covariance", exact.covariance, covariance_power(exact, t)))
    return powers


def _plannable(value: mpmath.mpf) -> bool:
    return bool(mpmath.isfinite(value)) and value != 0


def planned_samples(
    streams: Iterable[ExactCovariance], t: float, error: float, power: float, maximum: int
) -> int:
    """The N at which every mean and variance check detects ``error`` (module docstring)."""
    needed = [MIN_SAMPLES]
    for exact in streams:
        for statistic, value, of in check_powers(exact, t):
            if statistic != "covariance" and of is not None and _plannable(value):
                enough = _enough(of, error, power)
                needed.append(smallest_sufficient(enough, MIN_SAMPLES, maximum))
    return max(needed)


def _enough(of: Power, error: float, power: float) -> Callable[[int], bool]:
    return lambda samples: of(samples, error) >= power


def detectable(of: Power | None, value: mpmath.mpf, samples: int, power: float) -> float | None:
    """The smallest relative error detected with probability ``power`` (module docstring)."""
    if of is None or not _plannable(value):
        return None
    if of(samples, LARGEST_ERROR) < power:
        return math.inf
    low, high = 0.0, LARGEST_ERROR
    while high - low > 1e-4 * high:
        middle = (low + high) / 2
        low, high = (low, middle) if of(samples, middle) >= power else (middle, high)
    return float(f"{high:.3g}")
