"""The covariance check: the sample covariance of (g_mu, g_sigma) against the exact one.

The contract:

- **What is compared.**  Both components are drawn together (:func:`verify.montecarlo.engine.
  sample_pair`); their unbiased sample covariance ``C`` is compared with the exact
  covariance ``c`` of :mod:`verify.montecarlo.covariance_moments` as ``z = (C - c) / SE``.
  The measure-valued estimators draw their components independently, so ``c = 0``
  exactly; the check then tests the sampler's independence.
- **Standard error, exactly.**  With ``W = (g_mu - m_mu)(g_sigma - m_sigma)``,
  ``Var(C) = (mu22 - c**2 (N-2)/(N-1) + var_mu var_sigma/(N-1)) / N``, where
  ``mu22 = E[W**2]`` is exact too (:mod:`verify.montecarlo.covariance_moments`).
- **Tail.**  As for the variance check (:mod:`verify.montecarlo.significance`): a first-order
  Cornish-Fisher shift with the skewness of W (:class:`~verify.montecarlo.covariance_moments.
  ExactCovariance`).  When the shift exceeds
  :data:`~verify.montecarlo.significance.MAX_CORRECTION`, when W is nearly constant (then C is
  dominated by the error of the sample means) or when a sixth moment is infinite, the
  median-of-means check of :mod:`verify.montecarlo.robust` on ``(g_mu - m_mu)(g_sigma - m_sigma)``
  with the exact means (mean ``c``, variance ``mu22 - c**2``) runs instead
  (:func:`covariance_robust_reason`); it is skipped only when ``mu22`` is infinite.
  A component with zero variance makes ``c = 0`` exactly, compared up to rounding.
  An exact covariance beyond the Cauchy-Schwarz bound ``c**2 <= var_mu var_sigma``
  (or ``mu22 < c**2``) comes only from a wrong formula and fails without sampling.
"""

from __future__ import annotations

import math
from dataclasses import replace

import mpmath

from verify.exact.numbers import WORKING_DIGITS, Number
from verify.montecarlo.covariance_moments import ExactCovariance
from verify.montecarlo.engine import PairMoments
from verify.montecarlo.noise import FloatArray
from verify.montecarlo.outcome import Outcome
from verify.montecarlo.robust import robust_outcome
from verify.montecarlo.significance import MAX_CORRECTION, too_skewed

_ROUNDING = 1e-12
_SLACK = mpmath.mpf(10) ** -20  # beyond 50-digit rounding


def standard_error(exact: ExactCovariance, samples: int) -> mpmath.mpf:
    """The exact standard deviation of the sample covariance (module docstring)."""
    n = mpmath.mpf(samples)
    with mpmath.workdps(WORKING_DIGITS):
        spread = (
            exact.mu22
            - exact.covariance**2 * (n - 2) / (n - 1)
            + exact.mu.variance * exact.sigma.variance / (n - 1)
        )
        return mpmath.sqrt(spread / n)


def covariance_inconsistency(exact: ExactCovariance) -> str | None:
    """Why the exact covariance belongs to no distribution (None: it may)."""
    if exact.is_degenerate or not mpmath.isfinite(exact.mu22):
        return None
    with mpmath.workdps(WORKING_DIGITS):
        bound = exact.mu.variance * exact.sigma.variance * (1 + _SLACK)
        if exact.covariance**2 > bound:
            return "the exact covariance exceeds the product of the standard deviations"
        if exact.mu22 < exact.covariance**2 * (1 - _SLACK):
            return "E[W^2] is below E[W]^2 for W = (g_mu - m_mu)(g_sigma - m_sigma)"
    return None


def covariance_skip(exact: ExactCovariance, samples: int, t: float) -> str | None:
    """Why the covariance cannot be checked, decided before sampling (None: it can)."""
    problem = covariance_inconsistency(exact)
    if problem is not None:
        return problem  # failed by judge_covariance, without sampling
    moments = (exact.mu, exact.sigma)
    if any(m.variance < 0 and not m.is_degenerate for m in moments):
        return "an exact variance is negative"
    if not all(mpmath.isfinite(m.variance) for m in moments):
        return "a variance is infinite or does not exist"
    if exact.is_degenerate:
        return None
    if not all(mpmath.isfinite(m.fourth) for m in moments) or not mpmath.isfinite(exact.mu22):
        return "a fourth moment is infinite: the sample covariance has no standard error"
    return None


def covariance_robust_reason(exact: ExactCovariance, samples: int, t: float) -> str | None:
    """Why the covariance's z-test is not trusted at ``samples`` (None: it is, or it is
    skipped): the median-of-means check of :mod:`verify.montecarlo.robust` runs instead."""
    if covariance_skip(exact, samples, t) is not None or exact.is_degenerate:
        return None
    if not math.isfinite(exact.skewness):
        return "a sixth moment is infinite: the sample covariance's tail is uncontrolled"
    spread = float(exact.mu22 - exact.covariance**2)
    product = math.sqrt(float(exact.mu.variance * exact.sigma.variance))
    if spread <= 0 or t**2 * product / math.sqrt(samples * spread) > MAX_CORRECTION:
        return (
            "(g_mu - m_mu)(g_sigma - m_sigma) is nearly constant: the sample covariance is "
            "dominated by the sample means' errors and is not normal"
        )
    shift = abs(covariance_correction(exact, samples, t))
    return too_skewed(shift, samples) if shift > MAX_CORRECTION else None


def covariance_correction(exact: ExactCovariance, samples: int, t: float) -> float:
    """The first-order Cornish-Fisher shift of the covariance z-score's quantiles at +-t."""
    return exact.skewness * (t * t - 1) / (6 * math.sqrt(samples))


def judge_covariance(
    exact: ExactCovariance,
    sample: PairMoments | None,
    samples: int,
    t: float,
    blocks: FloatArray | None = None,
) -> Outcome:
    """The covariance outcome of one joint stream (``sample`` None when nothing is run);
    ``blocks``: the block means of :func:`verify.montecarlo.robust.product_statistic`, for the
    median-of-means check."""
    number = Number(exact.covariance, exact.method)
    problem = covariance_inconsistency(exact)
    if problem is not None:  # only a wrong formula gives this
        return Outcome("covariance", number, passed=False, reason=problem)
    reason = covariance_skip(exact, samples, t)
    if reason is None and sample is not None and sample.nonfinite:
        reason = f"{sample.nonfinite} of {samples} float64 samples overflowed (inf or nan)"
    robust = covariance_robust_reason(exact, samples, t)
    if reason is None and robust is not None and blocks is None:
        reason = f"{robust}; its median-of-means check was not sampled"
    if reason is not None or sample is None:
        return Outcome("covariance", number, reason=reason or "not sampled")
    if robust is not None and blocks is not None:
        spread = exact.mu22 - exact.covariance**2
        outcome = robust_outcome("covariance", number, spread, blocks, samples, t)
        return replace(outcome, robust_reason=robust)
    observed = sample.covariance
    if exact.is_degenerate:
        scales = [
            max(1.0, abs(float(m.mean)), math.sqrt(max(float(m.variance), 0.0)))
            for m in (exact.mu, exact.sigma)
        ]
        limit = _ROUNDING * scales[0] * scales[1]
        passed = abs(observed) <= limit
        return Outcome("covariance", number, observed, None, None, passed, test="exact")
    with mpmath.workdps(WORKING_DIGITS):
        z = float((mpmath.mpf(observed) - exact.covariance) / standard_error(exact, samples))
    shift = covariance_correction(exact, samples, t)
    bounds = (-t + shift, t + shift)
    passed = bounds[0] <= z <= bounds[1]
    return Outcome("covariance", number, observed, z, bounds, passed, test="z")
