"""Statistically exact Monte Carlo checks of one estimator's mean and variance.

The design, a contract the reports quote:

- **What is compared.**  For each estimator component ``g`` at an exact point, ``N``
  samples give the sample mean ``m`` and the unbiased sample variance ``s^2`` (see
  :mod:`verify.montecarlo.engine`).  They are compared with the exact mean ``mu`` and
  variance ``sigma^2`` as z-scores, ``z = (m - mu) / sqrt(sigma^2/N)`` and
  ``z = (s^2 - sigma^2) / sqrt(Var(s^2))`` with ``Var(s^2) = (mu4 - sigma^4 (N-3)/(N-1))/N``.
  Every standard error comes from the exact central moments (closed form, or labelled
  quadrature, of :func:`verify.exact.evaluation.central_moments`), so nothing is guessed.
- **Threshold.**  A full run may raise a false alarm with probability at most
  :data:`FAMILY_WISE_ALPHA` = 1e-6, split evenly over its checks (Bonferroni: per check
  ``alpha = 1e-6 / family_size``, which needs no independence between checks); the
  threshold ``t`` is the two-sided normal quantile, ``P(|Z| > t) = alpha``.
- **Why the normal is trusted, and where not.**  The z-scores are normal only
  asymptotically (central limit theorem), and ``alpha`` is far in the tail.  The
  acceptance interval is therefore corrected by the Cornish-Fisher expansion with the
  exact skewness ``gamma = mu3/sigma^3`` and excess kurtosis of ``g`` (mean check, to
  second order) and with the skewness of ``(g - mu)^2`` (variance check, first order;
  it needs the sixth central moment, see :mod:`verify.montecarlo.check_moments`).  When a
  correction exceeds :data:`MAX_CORRECTION` (in units of z), when the moment it needs
  is infinite, or when ``(g - mu)^2`` is nearly constant (then ``s^2`` is dominated by
  the error of the sample mean and is far from normal), the z-test is replaced by the
  median-of-means check of :mod:`verify.montecarlo.robust` (:func:`robust_reasons` says why),
  which needs only a finite variance of the statistic and holds the same ``alpha``
  for every distribution.  ``verify check`` refuses fewer than :data:`MIN_SAMPLES`
  samples.
- **Sample size.**  Chosen per stream by :mod:`verify.montecarlo.sample_size` so that every
  variance check flags a 2% error with probability 0.99 (up to a cap).
- **Control variates.**  Where the exact moments carry Hermite moments and
  :func:`variance_controls` finds a plan, the variance z-test is of ``s^2 - sum_k beta_k
  Hbar_k`` with its exact standard error and the residual's skewness
  (:mod:`verify.montecarlo.control_variates`); without the stream's Hermite means,
  :func:`judge` makes the plain checks.
- **Skipped, never passed.**  Where a moment even the median-of-means check needs is
  infinite or undefined (the mean and variance of ``g``; for the variance check also
  ``mu4``), or a float64 sample overflowed, the check has ``passed = None`` and a reason.  A
  zero-variance estimator is compared exactly (up to float64 rounding) instead.
  Exact moments that no distribution has -- a negative variance, or a fourth central
  moment below the variance squared (kurtosis < 1) -- come only from a wrong formula:
  the variance check fails without sampling (:func:`inconsistency`).

>>> round(threshold(1), 3)  # a single check at alpha = 1e-6
4.892
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from statistics import NormalDist

import mpmath

from verify.exact.numbers import WORKING_DIGITS, Number
from verify.montecarlo.check_moments import ExactMoments
from verify.montecarlo.control_variates import ControlPlan, control_plan, controlled_variance
from verify.montecarlo.engine import Moments
from verify.montecarlo.noise import FloatArray
from verify.montecarlo.outcome import ROUNDING
from verify.montecarlo.outcome import Outcome as Outcome  # re-exported: callers judge and read it
from verify.montecarlo.robust import robust_outcome

FAMILY_WISE_ALPHA = 1e-6
MIN_SAMPLES = 10_000
MAX_CORRECTION = 1.0
STATISTICS = ("mean", "variance")


def per_check_alpha(family_size: int, family_wise_alpha: float = FAMILY_WISE_ALPHA) -> float:
    """Bonferroni: the family-wise false-alarm rate split evenly over ``family_size`` checks."""
    return family_wise_alpha / max(family_size, 1)


def threshold(family_size: int, family_wise_alpha: float = FAMILY_WISE_ALPHA) -> float:
    """The two-sided normal quantile of the per-check alpha."""
    return -NormalDist().inv_cdf(per_check_alpha(family_size, family_wise_alpha) / 2)


# Kurtosis below 1 beyond this is not 50-digit rounding of a two-point distribution's 1.
_KURTOSIS_SLACK = mpmath.mpf(10) ** -20


def inconsistency(exact: ExactMoments) -> str | None:
    """Why these exact moments belong to no distribution (None: they may)."""
    if exact.is_degenerate:
        return None
    if exact.variance < 0:
        return "the exact variance is negative, which no variance can be"
    if mpmath.isfinite(exact.fourth) and mpmath.isfinite(exact.variance):
        with mpmath.workdps(WORKING_DIGITS):
            if exact.fourth < exact.variance**2 * (1 - _KURTOSIS_SLACK):
                return (
                    "the exact fourth central moment is below the variance squared "
                    "(kurtosis < 1), which no distribution has"
                )
    return None


def planned_skips(exact: ExactMoments, samples: int, t: float) -> dict[str, str | None]:
    """Why each statistic cannot be checked at all, decided before sampling (None: it can).

    Only a moment the median-of-means check needs is a reason; where merely the z-test
    is not trusted, :func:`robust_reasons` says why and the robust check runs instead.
    """
    problem = inconsistency(exact)
    if problem is not None:
        return {"mean": problem, "variance": problem}  # failed by judge, without sampling
    if exact.variance < 0 and not exact.is_degenerate:
        return dict.fromkeys(STATISTICS, "the exact variance is negative")
    skips: dict[str, str | None] = {"mean": None, "variance": None}
    if not mpmath.isfinite(exact.mean):
        skips["mean"] = "the mean is infinite or does not exist"
    elif not mpmath.isfinite(exact.variance):
        skips["mean"] = "the variance is infinite: the sample mean has no standard error"
    if not mpmath.isfinite(exact.variance):
        skips["variance"] = "the variance is infinite or does not exist"
    elif not exact.is_degenerate and not mpmath.isfinite(exact.fourth):
        skips["variance"] = (
            "the fourth central moment is infinite: the sample variance has no standard error"
        )
    return skips


def robust_reasons(exact: ExactMoments, samples: int, t: float) -> dict[str, str | None]:
    """Why the z-test of each statistic is not trusted at ``samples`` (None: it is).

    Meaningful only where :func:`planned_skips` gives None and g is not constant.
    """
    return {
        "mean": _mean_robust(exact, samples, t),
        "variance": _variance_robust(exact, samples, t),
    }


def _mean_robust(exact: ExactMoments, samples: int, t: float) -> str | None:
    if exact.is_degenerate or not mpmath.isfinite(exact.variance):
        return None
    if not mpmath.isfinite(exact.third):
        return "the third moment is infinite: the z-score's tail has no Edgeworth control"
    first, second = mean_corrections(exact, samples, t)
    if first + second > MAX_CORRECTION:
        return too_skewed(first + second, samples)
    return None


def _variance_robust(exact: ExactMoments, samples: int, t: float) -> str | None:
    if exact.is_degenerate or not mpmath.isfinite(exact.fourth * exact.variance):
        return None
    if variance_controls(exact, samples, t) is not None:
        return None  # the controlled z-test is trusted (its plan checked the same guards)
    if not math.isfinite(exact.sixth):
        return "the sixth central moment is infinite: the sample variance's tail is uncontrolled"
    kurtosis = float(exact.fourth / exact.variance**2)
    if kurtosis - 1 <= 0 or t**2 / math.sqrt(samples * (kurtosis - 1)) > MAX_CORRECTION:
        return (
            f"(g - mean)^2 is nearly constant (kurtosis {kurtosis:.6g}): the sample variance "
            "is dominated by the sample mean's error and is not normal"
        )
    correction = abs(variance_correction(exact, samples, t))
    return too_skewed(correction, samples) if correction > MAX_CORRECTION else None


def too_skewed(correction: float, samples: int) -> str:
    return (
        f"too skewed for {samples} samples: the Cornish-Fisher correction at the threshold is "
        f"{correction:.3g} > {MAX_CORRECTION} (z units), so the normal tail cannot be trusted"
    )


def mean_corrections(exact: ExactMoments, samples: int, t: float) -> tuple[float, float]:
    """Sizes of the first- and second-order Cornish-Fisher terms at z = t (mean check)."""
    skewness, excess = _shape(exact)
    root = math.sqrt(samples)
    first = abs(skewness) * (t * t - 1) / (6 * root)
    second = abs(excess) * abs(t**3 - 3 * t) / (24 * samples)
    second += skewness**2 * abs(2 * t**3 - 5 * t) / (36 * samples)
    return first, second


def mean_bounds(exact: ExactMoments, samples: int, t: float) -> tuple[float, float]:
    """The Cornish-Fisher quantiles of the mean's z-score at the normal quantiles -t and t."""
    skewness, excess = _shape(exact)

    def quantile(x: float) -> float:
        return (
            x
            + skewness * (x * x - 1) / (6 * math.sqrt(samples))
            + excess * (x**3 - 3 * x) / (24 * samples)
            - skewness**2 * (2 * x**3 - 5 * x) / (36 * samples)
        )

    return quantile(-t), quantile(t)


def variance_controls(exact: ExactMoments, samples: int, t: float) -> ControlPlan | None:
    """The control variates of the variance check at ``samples`` (None: the plain check).

    Used where :mod:`.control_variates` applies and the z-test of the controlled
    statistic is trusted: the residual keeps the sample mean's error within
    :data:`MAX_CORRECTION` standard errors, and its Cornish-Fisher shift is within it too.
    """
    if exact.hermite is None or exact.is_degenerate or inconsistency(exact) is not None:
        return None
    if not (mpmath.isfinite(exact.fourth) and mpmath.isfinite(exact.variance)):
        return None
    if not math.isfinite(exact.sixth):  # the residual's skewness would not exist either
        return None
    return control_plan(
        exact.mean, exact.variance, exact.fourth, exact.hermite, samples, t, MAX_CORRECTION
    )


def variance_spread(
    exact: ExactMoments, samples: int, plan: ControlPlan | None, factor: float = 1.0
) -> mpmath.mpf:
    """N times the variance of the variance check's statistic, for a truth that is the
    claimed moments with the variance divided by ``factor`` (a scale change, see
    :func:`verify.montecarlo.sample_size.variance_power`); ``factor`` 1: the claimed ones.

    Plain: ``(mu4 - sigma^4 (N-3)/(N-1)) / f^2``; controlled, with fixed coefficients
    ``beta_k`` and ``c_k`` scaling as the variance, it loses
    ``sum_k (2 beta_k c_k / f - k! beta_k^2)``.
    """
    with mpmath.workdps(WORKING_DIGITS):
        scale = mpmath.mpf(factor)
        n = mpmath.mpf(samples)
        spread = (exact.fourth - exact.variance**2 * (n - 3) / (n - 1)) / scale**2
        if plan is None:
            return spread
        for k, beta, covariance in zip(
            plan.orders, plan.coefficients, plan.covariances, strict=True
        ):
            spread -= (
                2 * beta * covariance / scale
                - plan.copies * math.factorial(k) * mpmath.mpf(beta) ** 2
            )
        return spread


def _shift(skewness: float, samples: int, t: float) -> float:
    return float(skewness * (t * t - 1) / (6 * math.sqrt(samples)))


def variance_correction(exact: ExactMoments, samples: int, t: float) -> float:
    """The first-order Cornish-Fisher shift of the variance's z-score quantiles at +-t
    (of the controlled statistic where :func:`variance_controls` gives a plan)."""
    plan = variance_controls(exact, samples, t)
    if plan is not None:
        return _shift(plan.skewness, samples, t)
    kurtosis = float(exact.fourth / exact.variance**2)
    skewness = (exact.sixth - 3 * kurtosis + 2) / (kurtosis - 1) ** 1.5
    return _shift(float(skewness), samples, t)


def _shape(exact: ExactMoments) -> tuple[float, float]:
    """Skewness and excess kurtosis (0 where the fourth moment is infinite)."""
    with mpmath.workdps(WORKING_DIGITS):
        skewness = float(exact.third / exact.variance**1.5)
        fourth = exact.fourth / exact.variance**2
    return skewness, float(fourth - 3) if mpmath.isfinite(fourth) else 0.0


def judge(
    exact: ExactMoments,
    sample: Moments | None,
    samples: int,
    t: float,
    blocks: Mapping[str, FloatArray] | None = None,
    controls: FloatArray | None = None,
) -> tuple[Outcome, Outcome]:
    """The mean and variance outcomes of one stream (``sample`` None when nothing is run).

    ``blocks`` maps a statistic to its block means (:func:`.robust.block_statistics`), which
    the median-of-means check needs where the z-test is not trusted; ``controls`` the
    stream's means of ``He_k(eps)`` (:class:`.control_variates.HermiteSums`), which the
    variance check uses where :func:`variance_controls` gives a plan (without them, the
    plain checks are made).
    """
    if controls is None and exact.hermite is not None:
        exact = replace(exact, hermite=None)  # no Hermite means: the plain checks
    numbers = {"mean": exact.mean, "variance": exact.variance}
    problem = inconsistency(exact)
    if problem is not None:
        # Only a wrong formula gives this; it fails without sampling.
        return (
            Outcome(
                "mean",
                Number(exact.mean, exact.method),
                reason=f"{problem}: no trustworthy standard error",
            ),
            Outcome("variance", Number(exact.variance, exact.method), passed=False, reason=problem),
        )
    skips = planned_skips(exact, samples, t)
    robust = robust_reasons(exact, samples, t)
    spreads = {"mean": exact.variance, "variance": exact.fourth - exact.variance**2}
    outcomes = []
    for statistic in STATISTICS:
        number = Number(numbers[statistic], exact.method)
        reason = skips[statistic]
        if reason is None and sample is not None and sample.nonfinite:
            reason = f"{sample.nonfinite} of {samples} float64 samples overflowed (inf or nan)"
        if reason is None and robust[statistic] is not None and statistic not in (blocks or {}):
            reason = f"{robust[statistic]}; its median-of-means check was not sampled"
        if reason is not None or sample is None:
            outcomes.append(Outcome(statistic, number, reason=reason or "not sampled"))
        elif exact.is_degenerate:
            outcomes.append(_degenerate(statistic, number, exact, sample))
        elif robust[statistic] is not None and blocks is not None:
            outcomes.append(
                robust_outcome(statistic, number, spreads[statistic], blocks[statistic], samples, t)
            )
            outcomes[-1] = replace(outcomes[-1], robust_reason=robust[statistic])
        else:
            outcomes.append(_z_outcome(statistic, number, exact, sample, samples, t, controls))
    return outcomes[0], outcomes[1]


def _degenerate(statistic: str, number: Number, exact: ExactMoments, sample: Moments) -> Outcome:
    """g is constant: the samples must reproduce the mean, with zero spread, to rounding."""
    scale = ROUNDING * max(1.0, abs(float(exact.mean)))
    observed = sample.mean if statistic == "mean" else sample.variance
    error = abs(observed - float(number.value))
    limit = scale if statistic == "mean" else scale**2
    return Outcome(statistic, number, observed, None, None, error <= limit, test="exact")


def _z_outcome(
    statistic: str,
    number: Number,
    exact: ExactMoments,
    sample: Moments,
    samples: int,
    t: float,
    controls: FloatArray | None = None,
) -> Outcome:
    record = None
    with mpmath.workdps(WORKING_DIGITS):
        if statistic == "mean":
            observed = sample.mean
            error = mpmath.sqrt(exact.variance / samples)
            bounds = mean_bounds(exact, samples, t)
        else:
            plan = variance_controls(exact, samples, t)
            observed = sample.variance
            if plan is not None:
                assert controls is not None, "a controlled check needs its stream's Hermite means"
                observed = controlled_variance(observed, plan, controls)
                record = plan.to_json(float(exact.fourth - exact.variance**2))
            error = mpmath.sqrt(variance_spread(exact, samples, plan) / samples)
            shift = variance_correction(exact, samples, t)
            bounds = (-t + shift, t + shift)
        z = float((mpmath.mpf(observed) - number.value) / error)
    passed = bounds[0] <= z <= bounds[1]
    return Outcome(
        statistic, number, observed, z, bounds, passed, test="z", control_variates=record
    )
