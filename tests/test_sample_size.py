"""Sample sizes planned from the exact moments: enough, not more, and honest at the cap.

The wrong input: the cosine's score-function sigma variance off by 2%, which the old
fixed N = 2^21 flagged with probability below 0.99, is flagged (both ways) at the
planned N, on samples that pass with the exact variance.
"""

from __future__ import annotations

import dataclasses
from statistics import NormalDist

from verify.cases.expressions import parse_expression
from verify.cases.symbols import Z, parameter_symbol
from verify.exact.derivation import derive
from verify.exact.evaluation import exact_point
from verify.montecarlo.check_moments import ExactMoments, exact_moments
from verify.montecarlo.engine import CHUNK_SIZE, DEFAULT_SAMPLES, sample_moments, stream_seed
from verify.montecarlo.sample_size import (
    MAX_SAMPLES,
    POWER,
    RELATIVE_ERROR,
    component_samples,
    stream_samples,
    variance_power,
)
from verify.montecarlo.samplers import component
from verify.montecarlo.significance import judge, threshold

T = threshold(4096)
COSINE, QUADRATIC = "cos(k*z)", "(z - k)**2"
AT_ONE = {"mu": 1.0, "sigma": 1.0, "k": 1.0}
AT_ZERO_K = {"mu": 1.0, "sigma": 1.0, "k": 0.0}


def moments(text: str, at: dict[str, float], estimator: str, parameter: str) -> ExactMoments:
    """The plain check's moments: without the control variates of
    tests/test_control_variates.py, whose planning those tests check."""
    derivation = derive(parse_expression(text, {"z": Z, "k": parameter_symbol("k")}))
    point = exact_point(at)
    sampler = component(derivation, estimator, parameter, point)
    exact = exact_moments(derivation, estimator, parameter, point, sampler)
    return dataclasses.replace(exact, hermite=None)


def test_the_planned_size_is_the_smallest_chunk_multiple_with_the_power() -> None:
    exact = moments(QUADRATIC, AT_ZERO_K, "score", "mu")
    n = component_samples(exact, T, minimum=CHUNK_SIZE)
    assert n % CHUNK_SIZE == 0
    assert variance_power(exact, n, T) >= POWER > variance_power(exact, n - CHUNK_SIZE, T)
    # Close to the rough rule N = ((t + z_0.99) / 0.02)^2 (kurtosis - 1).
    kurtosis = float(exact.fourth / exact.variance**2)
    rough = ((T + NormalDist().inv_cdf(POWER)) / RELATIVE_ERROR) ** 2 * (kurtosis - 1)
    assert 0.9 < n / rough < 1.1


def test_the_cap_binds_and_the_power_then_says_what_is_missing() -> None:
    exact = moments(QUADRATIC, AT_ZERO_K, "score", "sigma")
    assert component_samples(exact, T, minimum=DEFAULT_SAMPLES) == MAX_SAMPLES
    # Below the target at the cap (0.11 at 2^24), and more samples would have bought more.
    assert 0.05 < variance_power(exact, MAX_SAMPLES, T) < POWER
    assert variance_power(exact, 2 * MAX_SAMPLES, T) > variance_power(exact, MAX_SAMPLES, T)


def test_a_stream_takes_the_larger_need_and_never_less_than_the_minimum() -> None:
    score = moments(QUADRATIC, AT_ZERO_K, "score", "mu")
    pathwise = moments(QUADRATIC, AT_ZERO_K, "pathwise", "mu")
    assert component_samples(pathwise, T, minimum=DEFAULT_SAMPLES) == DEFAULT_SAMPLES
    assert stream_samples([pathwise, score], T) == component_samples(score, T, DEFAULT_SAMPLES)


def test_a_two_percent_error_the_old_fixed_size_could_miss_is_caught_at_the_planned_size() -> None:
    exact = moments(COSINE, AT_ONE, "score", "sigma")
    assert variance_power(exact, DEFAULT_SAMPLES, T) < POWER
    n = component_samples(exact, T, minimum=DEFAULT_SAMPLES)
    assert n > DEFAULT_SAMPLES
    derivation = derive(parse_expression(COSINE, {"z": Z, "k": parameter_symbol("k")}))
    sampler = component(derivation, "score", "sigma", exact_point(AT_ONE))
    sample = sample_moments(sampler, stream_seed(5, COSINE, 0, 0), n)
    assert judge(exact, sample, n, T)[1].passed is True
    for factor in (1 + RELATIVE_ERROR, 1 - RELATIVE_ERROR):
        wrong = dataclasses.replace(exact, variance=exact.variance * factor)
        assert judge(wrong, sample, n, T)[1].passed is False, factor
