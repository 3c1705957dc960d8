"""Streams of the benchmark's chosen costs, and the smallest errors the default N detects.

The contract: :func:`detectable` and :func:`detectable_all` return markdown tables of
the smallest relative variance error (and, for all six estimators, covariance error as
a correlation) that a full run of ``verify check`` flags with probability 1/2 and 0.99
at the least planned sample size, 2^21 -- computed from exact moments and the exact
standard errors, no sampling; a median-of-means cell (where the z-test is not trusted)
uses the median's normal approximation.  Used by ``bench_montecarlo.py``.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from _timing import markdown_table

from verify.cases.estimators import CLASSIC_ESTIMATORS, ESTIMATOR_NAMES
from verify.cases.expressions import parse_expression
from verify.cases.symbols import Z, parameter_symbol
from verify.exact.derivation import Derivation, derive
from verify.exact.evaluation import exact_point
from verify.montecarlo.check_moments import ExactMoments, exact_moments
from verify.montecarlo.covariance import covariance_robust_reason, covariance_skip, standard_error
from verify.montecarlo.covariance_moments import ExactCovariance, exact_covariance
from verify.montecarlo.engine import DEFAULT_SAMPLES, Component, Pair
from verify.montecarlo.robust import bound, robust_blocks
from verify.montecarlo.samplers import component, estimator_pair
from verify.montecarlo.significance import planned_skips, robust_reasons, threshold

COSTS = {"cosine": "cos(k*z)", "quadratic": "(z - k)**2", "exponential": "exp(k*z)"}
THROUGHPUT_K = {"cosine": 1.0, "quadratic": 0.0, "exponential": 0.5}
POWER_K = {"cosine": (1.0, 2.0, 5.0), "quadratic": (0.0, 1.0), "exponential": (0.25, 0.5, 1.0)}
COMPONENTS = [(e, p) for e in CLASSIC_ESTIMATORS for p in ("mu", "sigma")]


def reference(k: float) -> dict[str, float]:
    """The point of every table: mu = sigma = 1."""
    return {"mu": 1.0, "sigma": 1.0, "k": k}


def cost_derivation(cost: str) -> Derivation:
    """The derivation of one of :data:`COSTS`."""
    return derive(parse_expression(COSTS[cost], {"z": Z, "k": parameter_symbol("k")}))


def stream(cost: str, k: float, estimator: str, parameter: str) -> tuple[Component, ExactMoments]:
    """One component's sampler and exact moments at the reference point."""
    derivation = cost_derivation(cost)
    point = exact_point(reference(k))
    sampler = component(derivation, estimator, parameter, point)
    return sampler, exact_moments(derivation, estimator, parameter, point, sampler)


def joint(cost: str, k: float, estimator: str) -> tuple[Pair, ExactCovariance]:
    """Both components' sampler and exact (co)moments at the reference point."""
    derivation = cost_derivation(cost)
    point = exact_point(reference(k))
    pair = estimator_pair(derivation, estimator, point)
    mu, sigma = (
        exact_moments(derivation, estimator, parameter, point, sampler)
        for parameter, sampler in (("mu", pair.mu), ("sigma", pair.sigma))
    )
    return pair, exact_covariance(derivation, estimator, point, pair, mu, sigma)


def _variance_cell(exact: ExactMoments, n: int, t: float) -> str:
    """Relative variance error flagged with probability 1/2 and 0.99 at ``n`` samples."""
    if exact.is_degenerate:
        return "exact (zero variance)"
    if planned_skips(exact, n, t)["variance"] is not None:
        return "skipped (infinite moments)"
    sure = NormalDist().inv_cdf(0.99)
    if robust_reasons(exact, n, t)["variance"] is not None:
        # Median of means: bound 2 sqrt(V/B); the median's spread about sqrt(pi/2) sqrt(V/N).
        spread = float(exact.fourth) - float(exact.variance) ** 2
        half = bound(spread, n, robust_blocks(t)) / float(exact.variance)
        extra = sure * math.sqrt(math.pi / 2 * spread / n) / float(exact.variance)
        return f"{half:.2%} / {half + extra:.2%} (median of means)"
    spread = float(exact.fourth) - float(exact.variance) ** 2 * (n - 3) / (n - 1)
    relative = math.sqrt(spread / n) / float(exact.variance)
    return f"{t * relative:.2%} / {(t + sure) * relative:.2%}"


def detectable(family: int) -> str:
    """The classic estimators at several parameter values (columns: components)."""
    t, n = threshold(family), DEFAULT_SAMPLES
    rows = []
    for cost, values in POWER_K.items():
        for k in values:
            cells = [f"{cost} (k={k:g})"]
            cells += [_variance_cell(stream(cost, k, e, p)[1], n, t) for e, p in COMPONENTS]
            rows.append(tuple(cells))
    headers = ("cost at mu = sigma = 1", *(f"{e}.{p}" for e, p in COMPONENTS))
    return markdown_table(headers, rows)


def detectable_all(family: int) -> str:
    """All six estimators at the reference point: both variances and the covariance."""
    t, n = threshold(family), DEFAULT_SAMPLES
    sure = t + NormalDist().inv_cdf(0.99)
    rows = []
    for cost, k in THROUGHPUT_K.items():
        for estimator in ESTIMATOR_NAMES:
            _, exact = joint(cost, k, estimator)
            cells = [f"{cost} (k={k:g})", estimator]
            cells += [_variance_cell(m, n, t) for m in (exact.mu, exact.sigma)]
            if exact.is_degenerate or covariance_skip(exact, n, t) is not None:
                cells.append("exact (a constant component)" if exact.is_degenerate else "skipped")
            elif covariance_robust_reason(exact, n, t) is not None:
                cells.append("median of means")
            else:
                scale = math.sqrt(float(exact.mu.variance * exact.sigma.variance))
                correlation = float(standard_error(exact, n)) / scale
                cells.append(f"{t * correlation:.4f} / {sure * correlation:.4f}")
            rows.append(tuple(cells))
    headers = ("cost at mu = sigma = 1", "estimator", "variance mu", "variance sigma")
    return markdown_table((*headers, "covariance (as a correlation)"), rows)
