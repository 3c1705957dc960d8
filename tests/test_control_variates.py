"""Control variates He_k(eps) in the variance checks (verify.montecarlo.control_variates).

The wrong inputs: a variance formula off by 2% (caught with control variates on, at an N
where the plain check is blind); deliberately wrong coefficients beta (unbiased: they
cost power only); Hermite moments and residual variances against computations that
share nothing with the engine (mpmath quadrature of hand-written estimators, a tensor
Gauss-Hermite rule over score_loo's M draws); and the self-test ``--perturb
variance=1.02`` on the shifted quadratic, whose score-family sigma variance checks it
missed before (power 0.003 to 0.58 at the 2^24 cap).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Callable
from pathlib import Path

import mpmath
import numpy as np
import pytest

import verify
from verify.cases.budget import LOO_ESTIMATOR
from verify.cases.expressions import parse_expression
from verify.cases.symbols import Z, parameter_symbol
from verify.exact.derivation import Derivation, derive
from verify.exact.evaluation import exact_point
from verify.montecarlo.check_moments import ExactMoments, exact_moments
from verify.montecarlo.check_plan import count_checks
from verify.montecarlo.check_records import Check
from verify.montecarlo.checks import plan_streams, run_streams
from verify.montecarlo.control_variates import (
    MAX_ORDER,
    ControlPlan,
    HermiteSums,
    controlled_variance,
    hermite_moments,
    hermite_values,
)
from verify.montecarlo.engine import Pair, PairMoments, sample_pairs, stream_seed
from verify.montecarlo.loo_check import loo_pair
from verify.montecarlo.loo_moments import loo_hermite_moments
from verify.montecarlo.perturb import perturbed
from verify.montecarlo.sample_size import variance_power
from verify.montecarlo.samplers import component, estimator_pair
from verify.montecarlo.significance import judge, threshold, variance_controls, variance_spread

QUADRATIC = "(z - k)**2"
AT = {"mu": 1.0, "sigma": 1.0, "k": 0.0}
T = threshold(235)  # the quadratic's own family


def _derivation(text: str) -> Derivation:
    return derive(parse_expression(text, {"z": Z, "k": parameter_symbol("k")}))


def _moments(text: str, estimator: str, parameter: str, at: dict[str, float]) -> ExactMoments:
    """The exact moments of one component, with the Hermite moments of its controls."""
    derivation, point = _derivation(text), exact_point(at)
    sampler = component(derivation, estimator, parameter, point)
    exact = exact_moments(derivation, estimator, parameter, point, sampler)
    hermite = hermite_moments(derivation, estimator, parameter, point, sampler)
    return dataclasses.replace(exact, hermite=hermite)


@functools.lru_cache(maxsize=8)
def _pair(text: str, estimator: str, at: tuple[tuple[str, float], ...]) -> Pair:
    return estimator_pair(_derivation(text), estimator, exact_point(dict(at)))


def _stream(
    text: str, estimator: str, at: dict[str, float], samples: int, seed: int = 7
) -> tuple[PairMoments, HermiteSums]:
    """``samples`` draws of the estimator's pair and the Hermite means of their eps."""
    sums = HermiteSums()
    (moments,) = sample_pairs(
        [_pair(text, estimator, tuple(at.items()))],
        stream_seed(seed, "cv", 0, 0),
        [samples],
        [None],
        noise_observers=[sums],
    )
    return moments, sums


def test_a_two_percent_variance_error_is_caught_where_the_plain_check_is_blind() -> None:
    exact = _moments(QUADRATIC, "score", "sigma", AT)
    n = 2**21
    plan = variance_controls(exact, n, T)
    assert plan is not None
    assert exact.hermite is not None
    plain = dataclasses.replace(exact, hermite=None)
    assert variance_power(plain, n, T) < 0.2  # blind without controls ...
    assert variance_power(exact, n, T) > 0.999  # ... and not with them
    moments, sums = _stream(QUADRATIC, "score", AT, n)
    right = judge(exact, moments.sigma, n, T, None, sums.means())[1]
    assert right.passed is True
    assert right.control_variates is not None
    for factor in (1.02, 0.98):
        wrong = dataclasses.replace(exact, variance=exact.variance * factor)
        outcome = judge(wrong, moments.sigma, n, T, None, sums.means())[1]
        assert outcome.passed is False, outcome
    # Without the Hermite means the same samples are judged by the plain check.
    assert judge(exact, moments.sigma, n, T)[1].control_variates is None


def _wrong_plan(exact: ExactMoments, scale: float) -> ControlPlan:
    """Coefficients off by ``scale`` (as a wrong formula would give), with the true c_k."""
    plan = variance_controls(exact, 2**21, T)
    assert plan is not None
    coefficients = tuple(b * scale for b in plan.coefficients)
    return dataclasses.replace(plan, coefficients=coefficients)


@pytest.mark.parametrize("scale", [0.0, 0.5, 1.7])
def test_wrong_coefficients_stay_unbiased_and_only_cost_power(scale: float) -> None:
    exact = _moments(QUADRATIC, "pathwise", "sigma", AT)
    best, wrong = variance_controls(exact, 2**21, T), _wrong_plan(exact, scale)
    assert best is not None
    # Var[T] grows by sum_k k! (beta_k - beta_k*)^2 >= 0: power, never the level.
    n = 2**12
    assert variance_spread(exact, n, wrong) >= variance_spread(exact, n, best)
    # The level: 400 independent checks at alpha = 0.05 with the wrong coefficients.
    error = math.sqrt(float(variance_spread(exact, n, wrong)) / n)
    rejected = 0
    for seed in range(400):
        moments, sums = _stream(QUADRATIC, "pathwise", AT, n, seed)
        statistic = controlled_variance(moments.sigma.variance, wrong, sums.means())
        rejected += abs(statistic - float(exact.variance)) / error > 1.959964
    assert rejected <= 36  # P(Bin(400, 0.05) > 36) < 1e-4; a biased T rejects far more


def test_a_biased_statistic_would_fail_the_level_test() -> None:
    # The same level test can fail: Hermite means missing the constant term of He_2
    # (E[eps^2] instead of E[eps^2 - 1]) bias T by beta_2.
    exact = _moments(QUADRATIC, "pathwise", "sigma", AT)
    plan = variance_controls(exact, 2**21, T)
    assert plan is not None
    assert 2 in plan.orders
    n = 2**12
    error = math.sqrt(float(variance_spread(exact, n, plan)) / n)
    rejected = 0
    for seed in range(100):
        moments, sums = _stream(QUADRATIC, "pathwise", AT, n, seed)
        means = sums.means()
        means[2] += 1.0
        statistic = controlled_variance(moments.sigma.variance, plan, means)
        rejected += abs(statistic - float(exact.variance)) / error > 1.959964
    assert rejected > 50


def _score_sigma(eps: mpmath.mpf) -> mpmath.mpf:
    """The score function's sigma component for (z - k)^2 at mu = sigma = 1, k = 0, by hand."""
    return (1 + eps) ** 2 * (eps**2 - 1)


def _gaussian(function: Callable[[mpmath.mpf], mpmath.mpf]) -> mpmath.mpf:
    return mpmath.quad(
        lambda x: function(x) * mpmath.exp(-(x**2) / 2) / mpmath.sqrt(2 * mpmath.pi),
        [-mpmath.inf, 0, mpmath.inf],
    )


def _he(k: int, x: mpmath.mpf) -> mpmath.mpf:
    """He_k(x) by its recurrence, in mpmath (not the engine's sympy.hermite_prob)."""
    previous, current = mpmath.mpf(1), x
    for j in range(1, k):
        previous, current = current, x * current - j * previous
    return previous if k == 0 else current


def _weighted(power: int, k: int, x: mpmath.mpf) -> mpmath.mpf:
    return _score_sigma(x) ** power * _he(k, x)


def test_hermite_moments_and_residual_against_mpmath_quadrature() -> None:
    exact = _moments(QUADRATIC, "score", "sigma", AT)
    assert exact.hermite is not None
    plan = variance_controls(exact, 2**21, T)
    assert plan is not None
    coefficients = dict(zip(plan.orders, plan.coefficients, strict=True))

    def residual(x: mpmath.mpf) -> mpmath.mpf:
        return (_score_sigma(x) - mean) ** 2 - sum(b * _he(k, x) for k, b in coefficients.items())

    with mpmath.workdps(20):
        mean = _gaussian(_score_sigma)
        for k in range(1, MAX_ORDER + 1):
            square = _gaussian(functools.partial(_weighted, 2, k))
            first = _gaussian(functools.partial(_weighted, 1, k))
            assert float(exact.hermite.squares[k - 1]) == pytest.approx(float(square), rel=1e-12)
            assert float(exact.hermite.firsts[k - 1]) == pytest.approx(float(first), abs=1e-9)
        # The residual variance of the plan, directly: Var[(g - m)^2 - sum beta_k He_k].
        centre = _gaussian(residual)
        direct = _gaussian(lambda x: (residual(x) - centre) ** 2)
    assert float(plan.residual) == pytest.approx(float(direct), rel=1e-6)
    assert float(centre) == pytest.approx(float(exact.variance), rel=1e-12)


def test_score_loo_hermite_moments_against_a_tensor_rule() -> None:
    derivation, point, samples = _derivation("cos(k*z)"), exact_point(AT | {"k": 1.0}), 3
    found = loo_hermite_moments(derivation, point, samples, 4)
    assert found is not None
    pair = loo_pair(derivation, point, samples)
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)
    weights = weights / math.sqrt(2 * math.pi)
    lanes = [np.array(c) for c in zip(*itertools.product(nodes, repeat=samples), strict=True)]
    weight = np.prod(np.array(list(itertools.product(weights, repeat=samples))), axis=1)
    assert pair.joint is not None
    values = pair.joint(*lanes)
    for (squares, firsts), g in zip(found, values, strict=True):
        for k in range(1, 5):
            control = sum(hermite_values(lane, k) for lane in lanes)
            assert float(squares[k - 1]) == pytest.approx(float(np.sum(weight * g * g * control)))
            assert float(firsts[k - 1]) == pytest.approx(
                float(np.sum(weight * g * control)), abs=1e-12
            )


def test_the_hermite_means_of_a_stream_are_those_of_its_noise() -> None:
    sums = HermiteSums(copies=2)
    eps = [np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.0, -0.25])]
    sums(eps, 2)  # the first two draws only
    sums([e[2:] for e in eps], 1)
    for k in range(MAX_ORDER + 1):
        expected = sum(hermite_values(e, k).sum() for e in eps) / 3
        assert sums.means()[k] == pytest.approx(expected, rel=1e-12, abs=1e-12)


CASE_K0 = verify.Case(QUADRATIC, parameters={"k": [0.0]})


def _score_checks(case: verify.Case, perturb: dict[str, float] | None) -> list[Check]:
    """The score function and score_loo at the reference point, planned and judged as in
    check_case, with the case's own family size."""
    streams = [
        s
        for s in plan_streams(case)
        if s.estimator in ("score", LOO_ESTIMATOR) and s.key[0] == 0 and s.exact is not None
    ]
    if perturb:
        streams = [dataclasses.replace(s, exact=perturbed(s.exact, perturb)) for s in streams]  # type: ignore[arg-type]
    return run_streams(case.name, streams, None, 3, threshold(count_checks(case)))


def test_the_perturbation_self_test_catches_the_score_sigma_variance_it_missed() -> None:
    right, wrong = _score_checks(CASE_K0, None), _score_checks(CASE_K0, {"variance": 1.02})
    assert all(c.outcome.passed is True for c in right)
    variances = [c.outcome for c in wrong if c.outcome.statistic == "variance"]
    assert len(variances) == 4
    assert all(o.passed is False for o in variances), variances
    assert all(o.power is not None and o.power >= 0.99 for o in variances)
    assert all(o.control_variates is not None for o in variances)


@pytest.mark.slow
def test_verify_check_perturb_fails_every_variance_check_of_the_quadratic() -> None:
    case = Path(__file__).parent.parent / "cases" / "quadratic.toml"
    right = verify.check(case).document
    wrong = verify.check(case, perturb={"variance": 1.02}).document
    assert right["errors"] == []
    assert not any(c["passed"] is False for c in right["cases"][0]["checks"])
    variances = [c for c in wrong["cases"][0]["checks"] if c["statistic"] == "variance"]
    missed = [c for c in variances if c["passed"] is not False]
    # The exact zero (coupled measure-valued mu at k = 1) too: perturbed on the
    # estimator's scale (tests/test_perturb.py).
    assert missed == [], missed


def _direct_hermite_means(arrays: list[np.ndarray]) -> np.ndarray:
    """Hbar_k of one copy over the arrays, from He_k written out (k <= 4 here)."""
    eps = np.concatenate(arrays)
    he = [np.ones_like(eps), eps, eps**2 - 1, eps**3 - 3 * eps, eps**4 - 6 * eps**2 + 3]
    return np.array([h.mean() for h in he])


def test_power_sums_are_shared_only_by_streams_reading_the_same_chunk() -> None:
    # Streams of one pool read the same eps array each chunk, so their power sums are
    # computed once; an array of equal shape and other values, or fewer draws of the same
    # array, must get its own (a memo keyed on shape or on the array alone would not).
    rng = np.random.default_rng(11)
    first, second = rng.standard_normal(256), rng.standard_normal(256)
    together, alone, short = HermiteSums(), HermiteSums(), HermiteSums()
    together([first], 256)
    alone([first.copy()], 256)  # another array: computed afresh, the same floats
    assert np.array_equal(together.powers, alone.powers)
    together([second], 256)
    short([second], 100)
    assert np.allclose(together.means()[:5], _direct_hermite_means([first, second]), atol=1e-12)
    assert np.allclose(short.means()[:5], _direct_hermite_means([second[:100]]), atol=1e-12)
