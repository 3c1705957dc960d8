"""The covariance check: right covariances pass, wrong ones are flagged at the default N.

Each test perturbs a correct exact covariance (the product of the means left in, a
sign flip, a spurious 2% correlation, a bound no distribution meets) and shows the
check flags it on the same samples that pass unperturbed.  ``mu22``, on which the
standard error rests, is compared with a direct 30-digit integral of the estimator.
"""

from __future__ import annotations

import dataclasses
import math

import mpmath
import pytest
import sympy

from verify.cases.estimators import ESTIMATORS
from verify.cases.expressions import parse_expression
from verify.cases.symbols import EPS, SIGMA, Z, parameter_symbol
from verify.exact.derivation import derive
from verify.exact.evaluation import exact_point
from verify.montecarlo.check_moments import exact_moments
from verify.montecarlo.covariance import judge_covariance
from verify.montecarlo.covariance_moments import ExactCovariance, exact_covariance
from verify.montecarlo.engine import DEFAULT_SAMPLES, Pair, PairMoments, sample_pair, stream_seed
from verify.montecarlo.samplers import estimator_pair, exact_baseline
from verify.montecarlo.significance import threshold

T = threshold(4096)
COSINE, KINK = "cos(k*z)", "Abs(z - k)"
AT_ONE = {"mu": 1.0, "sigma": 1.0, "k": 1.0}
AT_ZERO_K = {"mu": 1.0, "sigma": 1.0, "k": 0.0}
STREAMS = [
    (COSINE, AT_ONE, "score"),
    (COSINE, AT_ONE, "score_baseline_mean"),
    (KINK, AT_ZERO_K, "pathwise"),
    (COSINE, AT_ONE, "measure_valued"),
    (KINK, AT_ZERO_K, "measure_valued_coupled"),
]


def parse(text: str) -> sympy.Expr:
    return parse_expression(text, {"z": Z, "k": parameter_symbol("k")})


def joint(text: str, at: dict[str, float], estimator: str) -> tuple[Pair, ExactCovariance]:
    derivation = derive(parse(text))
    point = exact_point(at)
    pair = estimator_pair(derivation, estimator, point)
    mu, sigma = (
        exact_moments(derivation, estimator, parameter, point, sampler)
        for parameter, sampler in (("mu", pair.mu), ("sigma", pair.sigma))
    )
    return pair, exact_covariance(derivation, estimator, point, pair, mu, sigma)


def sampled(text: str, pair: Pair, samples: int = DEFAULT_SAMPLES, seed: int = 1) -> PairMoments:
    return sample_pair(pair, stream_seed(seed, text, 0, 0), samples)


def passed(exact: ExactCovariance, sample: PairMoments) -> bool | None:
    return judge_covariance(exact, sample, DEFAULT_SAMPLES, T).passed


@pytest.mark.parametrize(("text", "at", "estimator"), STREAMS)
def test_a_wrong_covariance_is_flagged(text: str, at: dict[str, float], estimator: str) -> None:
    pair, exact = joint(text, at, estimator)
    sample = sampled(text, pair)
    assert passed(exact, sample) is True
    product = exact.mu.mean * exact.sigma.mean
    # The covariance reported as E[g_mu g_sigma], the product of the means not subtracted.
    assert (
        passed(dataclasses.replace(exact, covariance=exact.covariance + product), sample) is False
    )
    if exact.covariance != 0:
        flipped = dataclasses.replace(exact, covariance=-exact.covariance)
        assert passed(flipped, sample) is False
    else:  # independent components: a 2% correlation is flagged
        spread = mpmath.sqrt(exact.mu.variance * exact.sigma.variance)
        assert passed(dataclasses.replace(exact, covariance=spread / 50), sample) is False


def test_dependent_components_are_flagged_where_independence_is_claimed() -> None:
    """A sampler reusing the mu noise for sigma breaks the exact covariance of 0."""
    pair, exact = joint(COSINE, AT_ONE, "measure_valued")
    assert exact.covariance == 0
    dependent = Pair(pair.mu, pair.mu, shared=True)
    wrong = dataclasses.replace(exact, sigma=exact.mu)
    assert passed(wrong, sampled(COSINE, dependent)) is False


def test_a_covariance_beyond_cauchy_schwarz_fails_without_sampling() -> None:
    _, exact = joint(COSINE, AT_ONE, "score")
    bound = mpmath.sqrt(exact.mu.variance * exact.sigma.variance)
    wrong = dataclasses.replace(exact, covariance=bound * (1 + mpmath.mpf("1e-6")))
    outcome = judge_covariance(wrong, None, DEFAULT_SAMPLES, T)
    assert outcome.passed is False
    assert "standard deviations" in str(outcome.reason)


@pytest.mark.parametrize(
    ("text", "at", "estimator"),
    [
        (COSINE, AT_ONE, "score"),
        (COSINE, AT_ONE, "pathwise"),
        (COSINE, AT_ONE, "score_baseline_optimal"),
        ("(z - k)**2", AT_ZERO_K, "score_baseline_mean"),
    ],
)
def test_mu22_matches_a_direct_integral(text: str, at: dict[str, float], estimator: str) -> None:
    _, exact = joint(text, at, estimator)
    derivation = derive(parse(text))
    point = exact_point(at)
    components = []
    for parameter in ("mu", "sigma"):
        if estimator.startswith("score_baseline"):
            offset = exact_baseline(derivation, estimator, parameter, point)
            # The sampler's float64 baseline: mu22 agrees to float64 precision.
            f = derivation.sample_function("r") - sympy.Float(offset, 17)
            weight = {"mu": EPS / SIGMA, "sigma": (EPS**2 - 1) / SIGMA}[parameter]
        else:
            spec = ESTIMATORS[estimator]
            f, weight = derivation.sample_function(spec.uses), spec.weights[parameter]
        components.append((f * weight).subs(point))
    means = (exact.mu.mean, exact.sigma.mean)
    integrand = sympy.lambdify(
        EPS,
        (components[0] - sympy.Float(means[0], 30)) ** 2
        * (components[1] - sympy.Float(means[1], 30)) ** 2,
        modules="mpmath",
    )
    with mpmath.workdps(30):
        direct = mpmath.quad(lambda x: integrand(x) * mpmath.npdf(x), [-mpmath.inf, 0, mpmath.inf])
    assert float(exact.mu22) == pytest.approx(float(direct), rel=1e-9)


def false_alarms(alpha: float, seeds: range, samples: int) -> tuple[int, int]:
    """(failed, made) covariance checks over the STREAMS, at ``alpha`` per check."""
    t = threshold(1, family_wise_alpha=alpha)
    failed = made = 0
    for text, at, estimator in STREAMS:
        pair, exact = joint(text, at, estimator)
        for seed in seeds:
            outcome = judge_covariance(exact, sampled(text, pair, samples, seed), samples, t)
            if outcome.passed is not None:
                made += 1
                failed += outcome.passed is False
    return failed, made


def test_covariance_false_alarms_occur_at_the_designed_rate_when_alpha_is_relaxed() -> None:
    alpha = 0.05
    failed, made = false_alarms(alpha, range(60), 10_000)
    assert made >= 240
    expected, spread = alpha * made, 5 * math.sqrt(made * alpha * (1 - alpha))
    assert failed > 0  # the machinery does reject
    assert expected - spread <= failed <= expected + spread, (failed, made)
