"""The Monte Carlo checks can fail: wrong means and variances are flagged at the default N.

Each test perturbs a correct exact moment (times 1.02, a dropped term, a sign flip)
and shows the check flags it, on the same samples that pass unperturbed -- for the
classic estimators, a baseline and the measure-valued estimators (on a kinked cost
too).  The costs are built here with parse_expression, independent of the case
library.  Thresholds use the family of a large run (:data:`RUN_FAMILY` checks), the
hardest setting.  Covariance checks: ``tests/test_covariance.py``.
"""

from __future__ import annotations

import dataclasses
import math

import mpmath
import pytest
import sympy

from verify.cases.expressions import parse_expression
from verify.cases.symbols import Z, parameter_symbol
from verify.exact.derivation import derive
from verify.exact.evaluation import evaluate_formula, exact_point
from verify.montecarlo.check_moments import ExactMoments, exact_moments
from verify.montecarlo.engine import (
    DEFAULT_SAMPLES,
    DEFAULT_SEED,
    Moments,
    sample_moments,
    sample_pair,
    stream_seed,
)
from verify.montecarlo.robust import BlockMeans, block_statistics, robust_blocks
from verify.montecarlo.samplers import component, estimator_pair
from verify.montecarlo.samplers import estimator_function as compile_estimator
from verify.montecarlo.significance import (
    Outcome,
    judge,
    mean_bounds,
    per_check_alpha,
    planned_skips,
    robust_reasons,
    threshold,
)

RUN_FAMILY = 4096
T = threshold(RUN_FAMILY)
COSINE, QUADRATIC, EXPONENTIAL = "cos(k*z)", "(z - k)**2", "exp(k*z)"
KINK = "Abs(z - k)"
AT_ONE = {"mu": 1.0, "sigma": 1.0, "k": 1.0}
AT_ZERO_K = {"mu": 1.0, "sigma": 1.0, "k": 0.0}
# (cost, point, estimator, component): where the default N catches a 2% variance error
# (see benchmarks/bench_montecarlo.py for the smallest detectable error of each).
TWO_PERCENT = [
    (COSINE, AT_ONE, "score", "mu"),
    (COSINE, AT_ONE, "pathwise", "mu"),
    (COSINE, AT_ONE, "pathwise", "sigma"),
    (QUADRATIC, AT_ZERO_K, "pathwise", "mu"),
    (EXPONENTIAL, {"mu": 0.0, "sigma": 1.0, "k": 0.5}, "pathwise", "mu"),
    (COSINE, AT_ONE, "score_baseline_optimal", "mu"),
    (COSINE, AT_ONE, "measure_valued", "sigma"),
    (QUADRATIC, AT_ZERO_K, "measure_valued_coupled", "mu"),
    (EXPONENTIAL, {"mu": 1.0, "sigma": 1.0, "k": 0.5}, "measure_valued", "mu"),
    (KINK, AT_ZERO_K, "measure_valued", "mu"),
    (KINK, AT_ZERO_K, "measure_valued_coupled", "sigma"),
]


def stream(
    text: str, at: dict[str, float], estimator: str, parameter: str, samples: int, seed: int
) -> tuple[ExactMoments, Moments]:
    derivation = derive(parse_expression(text, {"z": Z, "k": parameter_symbol("k")}))
    point = exact_point(at)
    sampler = component(derivation, estimator, parameter, point)
    exact = exact_moments(derivation, estimator, parameter, point, sampler)
    return exact, sample_moments(sampler, stream_seed(seed, text, 0, 0), samples)


def second_moment_shifted(exact: ExactMoments, delta: mpmath.mpf) -> ExactMoments:
    """The moments a formula with E[g^2] off by ``delta`` gives, consistently.

    The central moments follow from the raw ones: ``mu3`` moves by ``-3 m1 delta`` and
    ``mu4`` by ``6 m1^2 delta``; the sixth (sizing only) is standardised by the new
    variance, as :func:`~verify.montecarlo.check_moments.exact_moments` would do.
    """
    variance = exact.variance + delta
    return dataclasses.replace(
        exact,
        variance=variance,
        third=exact.third - 3 * exact.mean * delta,
        fourth=exact.fourth + 6 * exact.mean**2 * delta,
        sixth=exact.sixth * float(exact.variance / variance) ** 3,
    )


def verdicts(exact: ExactMoments, sample: Moments, samples: int = DEFAULT_SAMPLES) -> list[Outcome]:
    return list(judge(exact, sample, samples, T))


@pytest.mark.parametrize(("text", "at", "estimator", "parameter"), TWO_PERCENT)
def test_a_two_percent_variance_error_is_flagged(
    text: str, at: dict[str, float], estimator: str, parameter: str
) -> None:
    exact, sample = stream(text, at, estimator, parameter, DEFAULT_SAMPLES, DEFAULT_SEED)
    mean, variance = verdicts(exact, sample)
    assert (mean.passed, variance.passed) == (True, True), (mean, variance)
    for factor in (1.02, 0.98):
        wrong = dataclasses.replace(exact, variance=exact.variance * factor)
        assert verdicts(wrong, sample)[1].passed is False, factor


@pytest.mark.parametrize(
    ("text", "at", "estimator", "parameter"),
    [
        TWO_PERCENT[1],
        TWO_PERCENT[2],
        (QUADRATIC, AT_ZERO_K, "score", "mu"),
        (QUADRATIC, AT_ZERO_K, "score_baseline_optimal", "mu"),
        (QUADRATIC, AT_ZERO_K, "measure_valued", "mu"),
        (QUADRATIC, AT_ZERO_K, "measure_valued_coupled", "sigma"),
    ],
)
def test_a_dropped_term_of_the_variance_formula_is_flagged(
    text: str, at: dict[str, float], estimator: str, parameter: str
) -> None:
    derivation = derive(parse_expression(text, {"z": Z, "k": parameter_symbol("k")}))
    formula = derivation.variance_formula(estimator, parameter)
    assert formula is not None
    point = exact_point(at)
    exact, sample = stream(text, at, estimator, parameter, DEFAULT_SAMPLES, DEFAULT_SEED)
    flagged_by_z = 0
    for term in sympy.Add.make_args(sympy.expand(formula)):
        value = evaluate_formula(term, (), point)
        if abs(value) < mpmath.mpf("0.02") * exact.variance:
            continue  # dropping it changes the variance by less than 2%
        outcome = verdicts(second_moment_shifted(exact, -value), sample)[1]
        assert outcome.passed is False, term  # by its z-score, or for being negative
        flagged_by_z += outcome.z is not None
    assert flagged_by_z >= 1


@pytest.mark.parametrize(
    ("text", "at", "estimator", "parameter"),
    [
        (COSINE, {"mu": 1.0, "sigma": 1.0, "k": 1.0}, "pathwise", "mu"),
        (COSINE, {"mu": 1.0, "sigma": 1.0, "k": 1.0}, "score", "sigma"),
        (QUADRATIC, {"mu": 1.0, "sigma": 1.0, "k": 0.0}, "score", "mu"),
        (EXPONENTIAL, {"mu": 0.0, "sigma": 1.0, "k": 0.5}, "score", "sigma"),
        (COSINE, AT_ONE, "score_baseline_mean", "mu"),
        (KINK, AT_ZERO_K, "measure_valued", "sigma"),
        (KINK, AT_ZERO_K, "measure_valued_coupled", "mu"),
    ],
)
def test_a_sign_flip_in_the_mean_is_flagged(
    text: str, at: dict[str, float], estimator: str, parameter: str
) -> None:
    exact, sample = stream(text, at, estimator, parameter, DEFAULT_SAMPLES, DEFAULT_SEED)
    assert verdicts(exact, sample)[0].passed is True
    flipped = dataclasses.replace(exact, mean=-exact.mean)
    assert verdicts(flipped, sample)[0].passed is False


def test_a_wrong_mean_of_a_zero_variance_estimator_is_flagged() -> None:
    exact, sample = stream("k*z", {"mu": 0.3, "sigma": 1.0, "k": 3.0}, "pathwise", "mu", 10_000, 1)
    assert exact.is_degenerate
    assert [o.passed for o in verdicts(exact, sample, 10_000)] == [True, True]
    wrong = dataclasses.replace(exact, mean=exact.mean * (1 + mpmath.mpf("1e-9")))
    assert verdicts(wrong, sample, 10_000)[0].passed is False


def test_infinite_variance_skips_every_check_with_a_reason() -> None:
    """r = exp(z**2/3) at mu=0, sigma=1: E[g^2] diverges for every estimator component.

    (The measure-valued mean E[r(mu + sigma R)] is finite -- the Rayleigh tail gives
    exp(r**2/3 - r**2/2) -- but its variance is not: every check still needs E[g^2].)
    """
    derivation = derive(parse_expression("exp(z**2/3)", {"z": Z}))
    point = exact_point({"mu": 0.0, "sigma": 1.0})
    for estimator in ("score", "pathwise", "score_baseline_mean", "measure_valued"):
        for parameter in ("mu", "sigma"):
            sampler = component(derivation, estimator, parameter, point)
            exact = exact_moments(derivation, estimator, parameter, point, sampler)
            skips = planned_skips(exact, DEFAULT_SAMPLES, T)
            assert all(skips.values()), skips
            for outcome in judge(exact, None, DEFAULT_SAMPLES, T):
                assert outcome.passed is None
                assert outcome.reason is not None
                assert "infinite" in outcome.reason or "exist" in outcome.reason


def test_thresholds_split_the_family_wise_rate() -> None:
    assert per_check_alpha(1000) == pytest.approx(1e-9)
    # P(|Z| > t) for the standard normal equals the per-check alpha.
    for family in (1, 100, RUN_FAMILY):
        tail = math.erfc(threshold(family) / math.sqrt(2))
        assert tail == pytest.approx(per_check_alpha(family), rel=1e-9)
    assert threshold(10) < threshold(1000)


def test_skewness_moves_the_acceptance_interval_towards_the_long_tail() -> None:
    exact, _ = stream(EXPONENTIAL, {"mu": 0.0, "sigma": 1.0, "k": 1.0}, "pathwise", "mu", 10, 1)
    low, high = mean_bounds(exact, 100_000, T)
    # Positive skewness: both quantiles of the z-score move up.
    assert high - T > 0.05
    assert low + T > 0.05


def test_too_much_skewness_for_the_sample_size_switches_to_median_of_means() -> None:
    """Formerly skipped; the robust check (tests/test_robust.py) runs instead."""
    exact, _ = stream(EXPONENTIAL, {"mu": 0.0, "sigma": 1.0, "k": 2.0}, "score", "sigma", 10, 1)
    assert planned_skips(exact, 10_000, T) == {"mean": None, "variance": None}
    robust = robust_reasons(exact, 10_000, T)
    assert "Cornish-Fisher" in str(robust["variance"])


def test_a_nearly_constant_squared_deviation_is_checked_exactly_by_median_of_means() -> None:
    """pathwise mu of |z| at mu=0 is sign(z) = +-1: s^2 is driven by the mean's error, but
    (g - 0)^2 = 1 exactly, so the median-of-means check compares it up to rounding."""
    exact, _ = stream("Abs(z)", {"mu": 0.0, "sigma": 1.0}, "pathwise", "mu", 10, 1)
    assert planned_skips(exact, DEFAULT_SAMPLES, T) == {"mean": None, "variance": None}
    robust = robust_reasons(exact, DEFAULT_SAMPLES, T)
    assert robust["mean"] is None
    assert "nearly constant" in str(robust["variance"])
    derivation = derive(parse_expression("Abs(z)", {"z": Z}))
    point = exact_point({"mu": 0.0, "sigma": 1.0})
    pair = estimator_pair(derivation, "pathwise", point)
    functions = block_statistics(exact, 0)
    blocks = BlockMeans(10_000, robust_blocks(T), list(functions.values()))
    sample = sample_pair(pair, stream_seed(1, "abs", 0, 0), 10_000, observe=blocks)
    means = dict(zip(functions, blocks.means(), strict=True))
    variance = judge(exact, sample.mu, 10_000, T, means)[1]
    assert (variance.test, variance.passed) == ("median_of_means", True)
    wrong = dataclasses.replace(exact, variance=exact.variance * mpmath.mpf("1.000001"))
    assert judge(wrong, sample.mu, 10_000, T, means)[1].passed is False


def false_alarms(alpha: float, seeds: range, samples: int) -> tuple[int, int]:
    """(failed, made) over the streams of three costs, with alpha per check."""
    t = threshold(1, family_wise_alpha=alpha)
    failed = made = 0
    for text, at, estimator, parameter in TWO_PERCENT[:4]:
        derivation = derive(parse_expression(text, {"z": Z, "k": parameter_symbol("k")}))
        point = exact_point(at)
        function = compile_estimator(derivation, estimator, parameter, point)
        exact = exact_moments(derivation, estimator, parameter, point, function)
        for seed in seeds:
            sample = sample_moments(function, stream_seed(seed, text, 0, 0), samples)
            outcomes = [o for o in judge(exact, sample, samples, t) if o.passed is not None]
            made += len(outcomes)
            failed += sum(1 for o in outcomes if o.passed is False)
    return failed, made


def assert_rate(failed: int, made: int, alpha: float) -> None:
    """Observed false alarms within 5 binomial standard deviations of the design."""
    expected = alpha * made
    spread = 5 * math.sqrt(made * alpha * (1 - alpha))
    assert expected - spread <= failed <= expected + spread, (failed, made, expected)


def test_false_alarms_occur_at_the_designed_rate_when_alpha_is_relaxed() -> None:
    failed, made = false_alarms(0.05, range(60), 10_000)
    assert made == 480
    assert failed > 0  # the machinery does reject
    assert_rate(failed, made, 0.05)


@pytest.mark.slow
@pytest.mark.parametrize(("alpha", "seeds"), [(1e-2, 2000), (1e-3, 6000)])
def test_false_alarm_calibration(alpha: float, seeds: int) -> None:
    failed, made = false_alarms(alpha, range(seeds), 2**14)
    assert_rate(failed, made, alpha)
