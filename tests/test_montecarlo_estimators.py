"""Monte Carlo agrees with the exact moments of the baseline and measure-valued estimators.

At a couple of points of a cosine, a quadratic, an exponential and (for the
measure-valued estimators, whose samples are differences of r) two kinked costs, each
component's sample mean and variance and the components' covariance are checked
against the exact ones by the suite's own statistics, at a threshold strict enough
for a whole test session; every estimator must also be unbiased.  The thresholds are
exact, so the modest N is sound, only less powerful (``tests/test_checks.py`` shows
what the default N catches).
"""

from __future__ import annotations

import mpmath
import pytest

from verify.cases.estimators import ESTIMATOR_NAMES
from verify.cases.expressions import parse_expression
from verify.cases.symbols import GRADIENT_PARAMETERS, Z, parameter_symbol
from verify.exact.derivation import derive
from verify.exact.evaluation import evaluate_gradient, exact_point
from verify.montecarlo.check_moments import exact_moments
from verify.montecarlo.covariance import judge_covariance
from verify.montecarlo.covariance_moments import exact_covariance
from verify.montecarlo.engine import sample_pair, stream_seed
from verify.montecarlo.samplers import estimator_pair
from verify.montecarlo.significance import Outcome, judge, threshold

SAMPLES = 2**18
T = threshold(100_000)
UNBIASED = mpmath.mpf(10) ** -25
BASELINES = ("score_baseline_mean", "score_baseline_optimal")
MEASURE_VALUED = ("measure_valued", "measure_valued_coupled")
SMOOTH = [("cos(k*z)", 2.0), ("(z - k)**2", 1.0), ("exp(k*z)", 0.5)]
KINKED = [("Abs(z - k)", 0.3), ("Max(z - k, 0)", -0.2)]
POINTS = [{"mu": 1.0, "sigma": 1.0}, {"mu": -0.5, "sigma": 0.7}]
CASES = [(text, k, estimator) for text, k in SMOOTH for estimator in BASELINES + MEASURE_VALUED] + [
    (text, k, estimator) for text, k in KINKED for estimator in MEASURE_VALUED
]


def outcomes(text: str, at: dict[str, float], estimator: str, seed: int) -> list[Outcome]:
    """The five checks of one joint stream, after asserting unbiasedness exactly."""
    derivation = derive(parse_expression(text, {"z": Z, "k": parameter_symbol("k")}))
    point = exact_point(at)
    pair = estimator_pair(derivation, estimator, point)
    mu, sigma = (
        exact_moments(derivation, estimator, parameter, point, sampler)
        for parameter, sampler in zip(GRADIENT_PARAMETERS, (pair.mu, pair.sigma), strict=True)
    )
    for parameter, exact in zip(GRADIENT_PARAMETERS, (mu, sigma), strict=True):
        gradient = evaluate_gradient(derivation, parameter, point).value
        assert abs(exact.mean - gradient) <= UNBIASED * max(1, abs(gradient)), parameter
    key = stream_seed(seed, text, 0, ESTIMATOR_NAMES.index(estimator))
    sample = sample_pair(pair, key, SAMPLES)
    covariance = exact_covariance(derivation, estimator, point, pair, mu, sigma)
    return [
        *judge(mu, sample.mu, SAMPLES, T),
        *judge(sigma, sample.sigma, SAMPLES, T),
        judge_covariance(covariance, sample, SAMPLES, T),
    ]


@pytest.mark.parametrize(("text", "k", "estimator"), CASES)
def test_monte_carlo_agrees_with_the_exact_moments(text: str, k: float, estimator: str) -> None:
    checked = 0
    for seed, location in enumerate(POINTS):
        for outcome in outcomes(text, location | {"k": k}, estimator, seed):
            assert outcome.passed is not False, outcome
            # Every mean is checked; a variance or covariance may be too skewed at this N.
            assert outcome.passed is True or outcome.statistic != "mean", outcome
            checked += outcome.passed is True
    assert checked >= 5, "at least half the checks run"  # of 10
