"""Property-based Monte Carlo checks over every case in cases/ (discovered when tests run).

For each case, hypothesis draws points (mu, sigma on grids over the case's domain,
parameters from their listed values); the Monte Carlo seed is derived from the drawn
point, so a failure reproduces and shrinks.  At each point, for the classic
estimators (score, pathwise): each component's sample mean and variance, and the
covariance of the two, must agree with the exact ones (the statistically exact checks
of :mod:`verify.montecarlo.significance` and :mod:`~.covariance`, with a threshold so
strict that a false alarm in the whole test session has probability below 1e-6), and
the estimators must be unbiased -- the score function always, the pathwise estimator
unless r is discontinuous, in which case its bias must show up somewhere.  The four
further estimators are checked the same way at each case's reference point (slow:
their exact moments cost up to minutes for some costs; the default session checks
them on chosen costs in ``tests/test_montecarlo_estimators.py``).

The default session stays fast: a quarter of the profile's examples per case (two
under the fast profile), a modest N (the thresholds are exact, so a small N is still
sound, only less powerful), and a single example for the cases whose moments need
quadrature.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import mpmath
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings

from verify.cases.case import Case
from verify.cases.case_files import discover_cases, load_case
from verify.cases.estimators import CLASSIC_ESTIMATORS, ESTIMATOR_NAMES
from verify.cases.points import points
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.derivation import derive
from verify.exact.evaluation import evaluate_gradient, exact_point
from verify.exact.results import evaluate_point, point_json
from verify.montecarlo.check_moments import exact_moments
from verify.montecarlo.check_plan import check_points, closed_form_expected
from verify.montecarlo.covariance import judge_covariance
from verify.montecarlo.covariance_moments import exact_covariance
from verify.montecarlo.engine import sample_pair, stream_seed
from verify.montecarlo.samplers import estimator_pair
from verify.montecarlo.significance import judge, threshold

# Explicit-dimension cases (r in z1..zd) have their own samplers and checks: every
# component at the reference point in `verify run`, and tests/test_explicit.py.
CASE_FILES = [
    path
    for path in discover_cases(Path(__file__).resolve().parent.parent / "cases")
    if load_case(path).coordinates is None
]
SAMPLES = 2**14
# 1e-6 over up to 1e5 checks per session: a spurious failure is (designed) rarer than 1e-6.
T = threshold(100_000)
UNBIASED = mpmath.mpf(10) ** -25


def point_seed(at: dict[str, float]) -> int:
    """The Monte Carlo seed of a drawn point: the same point always draws the same noise."""
    return zlib.crc32(json.dumps(at, sort_keys=True).encode())


def examples(case: Case) -> settings:
    if closed_form_expected(case):
        return settings(max_examples=max(2, settings.default.max_examples // 4))
    return settings(max_examples=1)


def check_estimator(case: Case, at: dict[str, float], estimator: str, seed: int) -> None:
    """Mean, variance and covariance checks of one estimator at one point; unbiasedness."""
    derivation = derive(case.r)
    point = exact_point(at)
    pair = estimator_pair(derivation, estimator, point)
    components = dict(zip(GRADIENT_PARAMETERS, (pair.mu, pair.sigma), strict=True))
    exact = {
        parameter: exact_moments(derivation, estimator, parameter, point, sampler)
        for parameter, sampler in components.items()
    }
    covariance = exact_covariance(derivation, estimator, point, pair, exact["mu"], exact["sigma"])
    key = stream_seed(seed, case.name, 0, ESTIMATOR_NAMES.index(estimator))
    sample = sample_pair(pair, key, SAMPLES)
    outcomes = [*judge(exact["mu"], sample.mu, SAMPLES, T)]
    outcomes += [*judge(exact["sigma"], sample.sigma, SAMPLES, T)]
    outcomes.append(judge_covariance(covariance, sample, SAMPLES, T))
    for outcome in outcomes:
        assert outcome.passed is not False, (estimator, outcome)
    if estimator != "pathwise" or not derivation.is_discontinuous:
        for parameter in GRADIENT_PARAMETERS:
            gradient = evaluate_gradient(derivation, parameter, point).value
            what = f"E[{estimator}.{parameter}] vs gradient"
            assert_equal(exact[parameter].mean, gradient, what)


def check_point(case: Case, at: dict[str, float]) -> None:
    for estimator in CLASSIC_ESTIMATORS:
        check_estimator(case, at, estimator, point_seed(at))


def assert_equal(value: mpmath.mpf, expected: mpmath.mpf, what: str) -> None:
    if not (mpmath.isfinite(value) and mpmath.isfinite(expected)):
        return  # an infinite or undefined gradient has no bias to measure
    size = max(abs(value), abs(expected), mpmath.mpf(1))
    assert abs(value - expected) <= UNBIASED * size, f"{what}: {value} != {expected}"


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda path: path.stem)
def test_monte_carlo_agrees_with_the_exact_moments_at_drawn_points(path: Path) -> None:
    case = load_case(path)

    @examples(case)
    @given(at=points(case))
    def run(at: dict[str, float]) -> None:
        check_point(case, at)

    run()


@pytest.mark.slow
@pytest.mark.parametrize("path", CASE_FILES, ids=lambda path: path.stem)
def test_further_estimators_agree_with_the_exact_moments_at_the_reference(path: Path) -> None:
    case = load_case(path)
    at = check_points(case)[0]
    for estimator in ESTIMATOR_NAMES:
        if estimator not in CLASSIC_ESTIMATORS:
            check_estimator(case, at, estimator, point_seed(at))


DISCONTINUOUS = [p for p in CASE_FILES if derive(load_case(p).r).is_discontinuous]


@pytest.mark.parametrize("path", DISCONTINUOUS, ids=lambda path: path.stem)
def test_a_discontinuous_cost_has_a_reported_pathwise_bias_somewhere(path: Path) -> None:
    case = load_case(path)
    derivation = derive(case.r)

    def biased(at: dict[str, float]) -> bool:
        result = evaluate_point(derivation, exact_point(at), ("pathwise",))
        return any(result.bias("pathwise", p).value != 0 for p in GRADIENT_PARAMETERS)

    search = settings(
        max_examples=50,
        derandomize=True,
        database=None,
        phases=[Phase.generate],  # any biased point will do; shrinking would only cost time
        suppress_health_check=list(HealthCheck),
    )
    at = find(points(case), biased, settings=search)
    result = evaluate_point(derivation, exact_point(at), ("pathwise",))
    record = point_json(case.name, at, result, derivation.is_discontinuous)
    assert record["discontinuous"] is True
    assert any(record["bias"]["pathwise"][p] != 0.0 for p in GRADIENT_PARAMETERS)  # type: ignore[index]


def test_the_suite_covers_the_case_library() -> None:
    assert len(CASE_FILES) >= 2
    assert DISCONTINUOUS, "the library should hold a discontinuous cost (step)"
