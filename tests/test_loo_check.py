"""score_loo inside verify check: a stream of M-sample estimates with exact moments,
checked in every coordinate it is reported for, perturbable, its power stated."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sympy
from numpy.polynomial.hermite_e import hermegauss

import verify
from verify.cases.symbols import Z
from verify.exact.derivation import derive
from verify.exact.evaluation import exact_point
from verify.exact.leave_one_out import loo_variance_at
from verify.montecarlo.check_plan import check_points, count_checks, loo_point_count
from verify.montecarlo.checks import check_case
from verify.montecarlo.loo_moments import loo_mixed_moments

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
@pytest.mark.parametrize("order", [(4, 0), (0, 4), (2, 2), (3, 1), (3, 3), (6, 0)])
def test_mixed_moments_equal_the_brute_force_rule(samples: int, order: tuple[int, int]) -> None:
    r = sympy.cos(Z) + Z**2 / 4
    moments, method = loo_mixed_moments(derive(r), exact_point({"mu": 0.5, "sigma": 1}), samples)
    assert method == "closed-form"
    expected = brute_moment(r, samples, *order)
    assert float(moments[order]) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_score_loo_is_checked_at_every_reference_point_in_the_family() -> None:
    case = verify.Case("cos(k*z)", parameters={"k": [0.5, 2.0]}, estimate={"samples": 4})
    records = _loo_records(case, samples=2**15)
    assert loo_point_count(case) == 2
    assert [r["at"] for r in records[::5]] == check_points(case)[:2]
    assert all(r["passed"] is True for r in records), records
    assert {r["test"] for r in records} <= {"z", "median_of_means"}
    assert len(verify.check(case, samples=2**15).document["cases"][0]["checks"]) == count_checks(
        case
    )


def test_score_loo_is_checked_in_coordinate_one_at_every_d() -> None:
    case = verify.Case(
        "cos(k*z)", parameters={"k": [2.0], "d": [1, 16]}, dimension="d", combine="sum"
    )
    records = _loo_records(case, samples=2**15)
    assert sorted({r["at"]["d"] for r in records}) == [1, 16]  # type: ignore[index]
    assert all(r["passed"] is True for r in records), records


@pytest.mark.parametrize("perturb", [{"variance": 1.02}, {"mean": 1.05}, {"covariance": 1.1}])
def test_a_perturbed_score_loo_formula_is_caught_and_the_power_stated(
    perturb: dict[str, float],
) -> None:
    case = verify.Case("cos(z)", reference={"mu": 0.5, "sigma": 1.0}, estimate={"samples": 4})
    statistic = next(iter(perturb))
    right = _loo_records(case)
    wrong = _loo_records(case, perturb=perturb)
    assert all(r["passed"] is True for r in right), right
    caught = [r for r in wrong if r["statistic"] == statistic and r["passed"] is False]
    assert caught, wrong
    if statistic == "variance":
        assert len(caught) == 2
        assert all(float(r["power"]) >= 0.99 for r in right if r["statistic"] == "variance")  # type: ignore[arg-type]


def test_score_loo_at_m_plus_one_fails_its_variance_checks() -> None:
    # The variance formula at M + 1 against estimates of M samples: a wrong M is caught.
    case = verify.Case("cos(z)", reference={"mu": 0.5, "sigma": 1.0}, estimate={"samples": 4})
    exact = check_case(case, seed=3)
    derivation = derive(sympy.cos(Z))
    point = exact_point({"mu": 0.5, "sigma": 1.0})
    ratios = {
        p: float(
            loo_variance_at(derivation, p, 5, point).value
            / loo_variance_at(derivation, p, 4, point).value
        )
        for p in ("mu", "sigma")
    }
    variance = [
        c for c in exact.checks if c.estimator == "score_loo" and c.outcome.statistic == "variance"
    ]
    assert all(c.outcome.passed for c in variance)
    for parameter, ratio in ratios.items():
        wrong = check_case(case, seed=3, perturb={"variance": ratio})
        [check] = [
            c
            for c in wrong.checks
            if c.estimator == "score_loo"
            and c.outcome.statistic == "variance"
            and c.parameter == parameter
        ]
        assert check.outcome.passed is False


def test_a_zero_variance_is_compared_exactly() -> None:
    records = _loo_records(verify.Case("3 + 0*z"), samples=2**15)
    variances = [r for r in records if r["statistic"] == "variance"]
    assert all(r["test"] == "exact" and r["passed"] is True for r in variances), records
