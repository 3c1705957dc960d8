"""The covariance check: the sample covariance of (g_mu, g_sigma) against the exact one.

The contract:

- **What is compared.**  Both components are drawn together (:func:`verify.montecarlo.engine.
  sample_pair`); their unbiased sample covariance ``C`` is compared with the exact
  covariance ``c = E[g_mu g_sigma] - E[g_mu] E[g_sigma]`` as ``z = (C - c) / SE``.
  For the product and baseline estimators both components are functions of the same
  eps, and ``E[g_mu g_sigma]`` is :meth:`~verify.exact.derivation.Derivation.cross_moment`.
  The measure-valued estimators draw their components independently, so ``c = 0``
  exactly; the check then tests the sampler's independence.
- **Standard error, exactly.**  With ``W = (g_mu - m_mu)(g_sigma - m_sigma)``,
  ``Var(C) = (mu22 - c**2 (N-2)/(N-1) + var_mu var_sigma/(N-1)) / N``, where
  ``mu22 = E[W**2]``.  For the product estimators ``mu22`` expands into
  ``E[f**k w_mu**p w_sigma**q]`` (:meth:`~verify.exact.derivation.Derivation.
  product_expectation`); for the baselines, with ``f = r - b``, into
  ``E[r**k w_mu**p w_sigma**q]`` and the exact baselines; for independent components
  it is ``var_mu var_sigma``.  Each part is evaluated by the engine (closed form at
  50 digits, or labelled quadrature) and combined at 50 digits.
- **Tail.**  As for the variance check (:mod:`verify.montecarlo.significance`): a first-order
  Cornish-Fisher shift with the skewness of W -- exact for independent components
  (``mu3_mu mu3_sigma / (sigma_mu sigma_sigma)**3``), else from the float64 quadrature
  rule of eps (sizing only).  When the shift exceeds
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

import itertools
import math
from dataclasses import dataclass, replace
from functools import lru_cache

import mpmath
import sympy

from verify.cases.estimators import BASELINE_ESTIMATORS, ESTIMATORS, MEASURE_VALUED_ESTIMATORS
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.baselines import baseline_value, score_weight
from verify.exact.derivation import Derivation, derive
from verify.exact.evaluation import (
    WORKING_DIGITS,
    ExactPoint,
    Number,
    combined_method,
    evaluate_expectation,
)
from verify.exact.gaussian import Expectation, Method
from verify.montecarlo.check_moments import ExactMoments, rule_expectation
from verify.montecarlo.engine import Pair, PairMoments
from verify.montecarlo.noise import FloatArray
from verify.montecarlo.outcome import Outcome
from verify.montecarlo.robust import robust_outcome
from verify.montecarlo.significance import MAX_CORRECTION, too_skewed

_ROUNDING = 1e-12
_SLACK = mpmath.mpf(10) ** -20  # beyond 50-digit rounding


@dataclass(frozen=True)
class ExactCovariance:
    """The exact covariance of one estimator's components and what its check needs."""

    covariance: mpmath.mpf
    mu22: mpmath.mpf  # E[W**2]; nan when a component is degenerate (W = 0)
    skewness: float  # of W, for sizing; inf where E[W**3] is infinite
    mu: ExactMoments
    sigma: ExactMoments
    method: Method

    @property
    def is_degenerate(self) -> bool:
        """A constant component: the covariance is exactly 0."""
        return self.mu.is_degenerate or self.sigma.is_degenerate


def exact_covariance(
    derivation: Derivation,
    estimator: str,
    point: ExactPoint,
    pair: Pair,
    mu: ExactMoments,
    sigma: ExactMoments,
) -> ExactCovariance:
    """The exact covariance, ``mu22`` and the skewness of W (see the module docstring)."""
    zero = mpmath.mpf(0)
    method = combined_method(mu.method, sigma.method)
    if mu.is_degenerate or sigma.is_degenerate or not _finite(mu, sigma):
        return ExactCovariance(zero, mpmath.nan, math.nan, mu, sigma, method)
    if estimator in MEASURE_VALUED_ESTIMATORS:
        with mpmath.workdps(WORKING_DIGITS):
            mu22 = mu.variance * sigma.variance
            skewness = float(mu.third * sigma.third / mpmath.sqrt(mu22) ** 3)
        return ExactCovariance(zero, mu22, skewness, mu, sigma, method)
    cross = evaluate_expectation(derivation.cross_moment(estimator), point)
    raw, methods = _raw_cross_moments(derivation, estimator, point)
    with mpmath.workdps(WORKING_DIGITS):
        covariance = cross.value - mu.mean * sigma.mean
        raw[(1, 1)] = cross.value
        mu22 = _central_mu22(raw, mu, sigma)
    skewness = _skewness_of_product(pair, mu, sigma)
    return ExactCovariance(
        covariance, mu22, skewness, mu, sigma, combined_method(method, cross.method, *methods)
    )


def _finite(*moments: ExactMoments) -> bool:
    return all(mpmath.isfinite(m.fourth) and mpmath.isfinite(m.variance) for m in moments)


def _central_mu22(
    raw: dict[tuple[int, int], mpmath.mpf], mu: ExactMoments, sigma: ExactMoments
) -> mpmath.mpf:
    """E[(X - m_x)**2 (Y - m_y)**2] from the raw moments E[X**p Y**q], p, q <= 2."""
    raw[(1, 0)], raw[(0, 1)] = mu.mean, sigma.mean
    raw[(2, 0)] = mu.variance + mu.mean**2
    raw[(0, 2)] = sigma.variance + sigma.mean**2
    raw[(0, 0)] = mpmath.mpf(1)
    return mpmath.fsum(
        math.comb(2, p)
        * math.comb(2, q)
        * (-mu.mean) ** (2 - p)
        * (-sigma.mean) ** (2 - q)
        * raw[(p, q)]
        for p in range(3)
        for q in range(3)
    )


def _raw_cross_moments(
    derivation: Derivation, estimator: str, point: ExactPoint
) -> tuple[dict[tuple[int, int], mpmath.mpf], list[Method]]:
    """E[g_mu**p g_sigma**q] for (p, q) in (2, 1), (1, 2), (2, 2), and the parts' methods.

    With ``g = (f - b) w`` (``b = 0`` for a product estimator), ``E[g_mu**p g_sigma**q]``
    is ``sum_ij C(p,i) C(q,j) (-b_mu)**(p-i) (-b_sigma)**(q-j) E[f**(i+j) w_mu**p w_sigma**q]``.
    """
    baseline = estimator in BASELINE_ESTIMATORS
    uses = "r" if baseline else ESTIMATORS[estimator].uses
    offsets = [mpmath.mpf(0), mpmath.mpf(0)]
    methods: list[Method] = []
    if baseline:
        values = [
            evaluate_expectation(baseline_value(estimator, derivation, p), point)
            for p in GRADIENT_PARAMETERS
        ]
        offsets = [value.value for value in values]
        methods += [value.method for value in values]
    raw = {}
    for p, q in ((2, 1), (1, 2), (2, 2)):
        terms = []
        for i, j in itertools.product(range(p + 1), range(q + 1)):
            if (offsets[0] == 0 and i < p) or (offsets[1] == 0 and j < q):
                continue  # a zero power of a zero baseline
            part = evaluate_expectation(_part(derivation.r, estimator, uses, i + j, p, q), point)
            methods.append(part.method)
            with mpmath.workdps(WORKING_DIGITS):
                coefficient = math.comb(p, i) * math.comb(q, j)
                offset = (-offsets[0]) ** (p - i) * (-offsets[1]) ** (q - j)
                terms.append(coefficient * offset * part.value)
        with mpmath.workdps(WORKING_DIGITS):
            raw[(p, q)] = mpmath.fsum(terms)
    return raw, methods


@lru_cache(maxsize=512)
def _part(r: sympy.Expr, estimator: str, uses: str, order: int, p: int, q: int) -> Expectation:
    """E[f**order w_mu**p w_sigma**q], built once per cost (the weights are the score's
    for the baselines)."""
    if estimator in BASELINE_ESTIMATORS:
        weight = score_weight("mu") ** p * score_weight("sigma") ** q
    else:
        weights = ESTIMATORS[estimator].weights
        weight = weights["mu"] ** p * weights["sigma"] ** q
    return derive(r).product_expectation(uses, order, sympy.expand(weight))


def _skewness_of_product(pair: Pair, mu: ExactMoments, sigma: ExactMoments) -> float:
    """The skewness of W = (g_mu - m_mu)(g_sigma - m_sigma) by the rule of eps (sizing)."""
    if not (math.isfinite(mu.sixth) and math.isfinite(sigma.sixth)):
        return math.inf  # E[|W|**3] <= (E[X**6] E[Y**6])**(1/2) is all there is
    scale = math.sqrt(float(mu.variance) * float(sigma.variance))
    centres = (float(mu.mean), float(sigma.mean))

    def standard(*noise: FloatArray) -> FloatArray:
        deviation = pair.mu.function(*noise) - centres[0]
        return deviation * (pair.sigma.function(*noise) - centres[1]) / scale

    noise = pair.mu.noise
    first = rule_expectation(noise, standard)
    second = rule_expectation(noise, lambda *n: (standard(*n) - first) ** 2)
    third = rule_expectation(noise, lambda *n: (standard(*n) - first) ** 3)
    if not (math.isfinite(third) and second > 0):
        return math.inf
    return float(third / second**1.5)


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
