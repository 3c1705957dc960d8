"""score_loo inside verify check: a stream of M-sample estimates with exact moments,
checked in every coordinate it is reported for, perturbable, its power stated."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
import sympy
from flint import arb
from numpy.polynomial.hermite_e import hermegauss

import verify
from verify.cases.budget import LOO_ESTIMATOR
from verify.cases.symbols import Z
from verify.exact.derivation import derive
from verify.exact.evaluation import exact_point
from verify.exact.leave_one_out import loo_variance_at
from verify.montecarlo.check_plan import check_points, count_checks, loo_point_count
from verify.montecarlo.check_records import Check
from verify.montecarlo.checks import plan_streams, run_streams
from verify.montecarlo.loo_moments import loo_mixed_moments
from verify.montecarlo.perturb import perturbed
from verify.montecarlo.significance import threshold

NODES, WEIGHTS = hermegauss(60)
WEIGHTS = WEIGHTS / math.sqrt(2 * math.pi)


def _loo_records(case: verify.Case, **options: object) -> list[dict[str, object]]:
    document = verify.check(case, seed=3, **options).document  # type: ignore[arg-type]
    return [c for c in document["cases"][0]["checks"] if c["estimator"] == "score_loo"]


def brute_moment(r: sympy.Expr, samples: int, p: int, q: int) -> float:
    """E[g_mu**p g_sigma**q] at mu = 0.5, sigma = 1 by a tensor Gauss-Hermite rule over the
    M draws: shares nothing with the generating-function algebra under test."""
    f = sympy.lambdify(Z, r, "numpy")
    grid = np.array(list(itertools.product(NODES, repeat=samples)))
    weight = np.prod(np.array(list(itertools.product(WEIGHTS, repeat=samples))), axis=1)
    eps = grid
    costs = f(0.5 + eps)
    centred = costs - costs.mean(axis=1, keepdims=True)
    g_mu = (centred * eps).sum(axis=1) / (samples - 1)
    g_sigma = (centred * (eps**2 - 1)).sum(axis=1) / (samples - 1)
    return float(np.sum(weight * g_mu**p * g_sigma**q))


@pytest.mark.parametrize("samples", [2, 3])
@pytest.mark.parametrize("order", [(4, 0), (0, 4), (2, 2), (2, 1), (0, 6), (6, 0)])
def test_mixed_moments_equal_the_brute_force_rule(samples: int, order: tuple[int, int]) -> None:
    r = sympy.cos(Z) + Z**2 / 4
    moments, method = loo_mixed_moments(derive(r), exact_point({"mu": 0.5, "sigma": 1}), samples)
    assert method == "closed-form"
    expected = brute_moment(r, samples, *order)
    assert float(moments[order].value) == pytest.approx(expected, rel=1e-9, abs=1e-12)


COSINE = verify.Case("cos(z)", reference={"mu": 0.5, "sigma": 1.0}, estimate={"samples": 4})


def _loo_only(
    case: verify.Case, perturb: dict[str, float] | None = None, samples: int | None = None
) -> list[Check]:
    """score_loo's checks alone, through the same planning and judging as check_case."""
    streams = [s for s in plan_streams(case) if s.estimator == LOO_ESTIMATOR]
    if perturb:
        streams = [
            dataclasses.replace(s, exact=perturbed(s.exact, perturb))
            for s in streams
            if s.exact is not None
        ]
    return run_streams(case.name, streams, samples, 3, threshold(count_checks(case)))


def test_score_loo_is_checked_at_every_reference_point_in_the_family() -> None:
    case = verify.Case("cos(k*z)", parameters={"k": [0.5, 2.0]}, estimate={"samples": 4})
    checks = _loo_only(case, samples=2**15)
    assert loo_point_count(case) == 2
    assert [c.at for c in checks[::5]] == check_points(case)[:2]
    assert all(c.outcome.passed is True for c in checks)
    assert {c.outcome.test for c in checks} <= {"z", "median_of_means"}
    assert count_checks(case) == 5 * len(plan_streams(case))


def test_score_loo_is_checked_in_coordinate_one_at_every_d() -> None:
    case = verify.Case(
        "cos(k*z)", parameters={"k": [2.0], "d": [1, 16]}, dimension="d", combine="sum"
    )
    checks = _loo_only(case, samples=2**15)
    assert sorted({c.at["d"] for c in checks}) == [1, 16]
    assert all(c.outcome.passed is True for c in checks)


def test_verify_check_perturb_reaches_score_loo() -> None:
    wrong = _loo_records(COSINE, samples=2**15, perturb={"variance": 1.5})
    variances = [r for r in wrong if r["statistic"] == "variance"]
    assert len(variances) == 2
    assert all(r["passed"] is False for r in variances), variances


def test_a_two_percent_score_loo_variance_error_is_caught_with_its_power_stated() -> None:
    right, wrong = _loo_only(COSINE), _loo_only(COSINE, {"variance": 1.02})
    assert all(c.outcome.passed is True for c in right)
    variances = [c.outcome for c in wrong if c.outcome.statistic == "variance"]
    assert len(variances) == 2
    assert all(o.passed is False for o in variances), variances
    assert all(o.power is not None and o.power >= 0.99 for o in variances)


@pytest.mark.parametrize(("statistic", "factor"), [("mean", 1.05), ("covariance", 1.1)])
def test_a_perturbed_score_loo_mean_or_covariance_is_caught(statistic: str, factor: float) -> None:
    # N fixed: the plan sizes the variance checks only, and with control variates they
    # need far fewer estimates than the mean and covariance checks do for these errors.
    caught = [
        c
        for c in _loo_only(COSINE, {statistic: factor}, samples=2**21)
        if c.outcome.statistic == statistic and c.outcome.passed is False
    ]
    assert caught


def test_score_loo_at_m_plus_one_fails_its_variance_checks() -> None:
    # The variance formula at M + 1 against estimates of M samples: a wrong M is caught.
    derivation = derive(sympy.cos(Z))
    point = exact_point({"mu": 0.5, "sigma": 1.0})
    for parameter in ("mu", "sigma"):
        ratio = float(
            loo_variance_at(derivation, parameter, 5, point).value
            / loo_variance_at(derivation, parameter, 4, point).value
        )
        [check] = [
            c
            for c in _loo_only(COSINE, {"variance": ratio})
            if c.outcome.statistic == "variance" and c.parameter == parameter
        ]
        assert check.outcome.passed is False


def test_a_zero_variance_is_compared_exactly() -> None:
    records = _loo_records(verify.Case("3 + 0*z"), samples=2**15)
    variances = [r for r in records if r["statistic"] == "variance"]
    assert all(r["test"] == "exact" and r["passed"] is True for r in variances), records


def _direct_loo(eps: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """score_loo's components for r = cos(z) at mu = 0.5, sigma = 1, written out in numpy."""
    costs = np.cos(0.5 + np.array(eps))
    centred = costs - costs.mean(axis=0)
    lanes = np.array(eps)
    count = len(eps)
    return (centred * lanes).sum(axis=0) / (count - 1), (centred * (lanes**2 - 1)).sum(axis=0) / (
        count - 1
    )


def test_score_loo_reuses_the_score_familys_r_only_on_the_same_chunk() -> None:
    # score_loo's first draw reads the score function's eps lane: r(eps) computed for the
    # score family is reused when, and only when, it is the very same array.
    from verify.montecarlo.loo_check import loo_pair
    from verify.montecarlo.samplers import estimator_pair

    derivation, point = derive(sympy.cos(Z)), exact_point({"mu": 0.5, "sigma": 1})
    score, loo = estimator_pair(derivation, "score", point), loo_pair(derivation, point, 4)
    assert score.joint is not None
    assert loo.joint is not None
    rng = np.random.default_rng(7)
    lanes = [rng.standard_normal(512) for _ in range(4)]
    other = [rng.standard_normal(512) for _ in range(4)]
    score.joint(lanes[0])  # keeps r(lanes[0])
    shared = loo.joint(*lanes)
    fresh = loo.joint(*[lane.copy() for lane in lanes])  # other arrays: computed anew
    for a, b in zip(shared, fresh, strict=True):
        np.testing.assert_array_equal(a, b)
    score.joint(lanes[0])
    # Same shape, other values: a memo matching anything but identity would serve r(lanes[0]).
    for got, want in zip(loo.joint(*other), _direct_loo(other), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def _reference_multiply(first: dict, second: dict, bounds: tuple[int, int, int]) -> dict:
    """The truncated series product as written out: every pair, the sum's degrees tested."""
    product: dict = {}
    for alpha, x in first.items():
        for beta, y in second.items():
            gamma = tuple(a + b for a, b in zip(alpha, beta, strict=True))
            a1, a2, a3, a4, a5 = gamma
            if a1 + a2 + a3 <= bounds[0] and a1 + a4 <= bounds[1] and a2 + a5 <= bounds[2]:
                product[gamma] = product.get(gamma, arb(0)) + x * y
    return product


@pytest.mark.parametrize("bounds", [(4, 2, 2), (3, 4, 1), (6, 3, 3)])
def test_truncated_series_product_keeps_every_term_and_its_rounding(
    bounds: tuple[int, int, int],
) -> None:
    # The same terms, added in the same order: equal balls, bit for bit (a product that
    # dropped or added a term, or summed in another order, would differ).
    from verify.montecarlo.loo_moments import _monomials, _multiply

    rng = np.random.default_rng(5)
    monomials = _monomials(bounds)
    first = {alpha: arb(float(rng.standard_normal())) / 3 for alpha in monomials}
    second = {alpha: arb(float(rng.standard_normal())) / 7 for alpha in monomials[::2]}
    got, want = _multiply(first, second, bounds), _reference_multiply(first, second, bounds)
    assert list(got) == list(want)
    for gamma, ball in want.items():
        assert got[gamma].mid() == ball.mid()
        assert got[gamma].rad() == ball.rad()
