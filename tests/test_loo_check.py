"""score_loo inside verify check: five checks at the case's M, and M -> M + 1 fails them."""

from __future__ import annotations

import pytest

import verify
from verify.exact.dimension import derive_case
from verify.exact.evaluation import exact_point
from verify.montecarlo.check_plan import check_points
from verify.montecarlo.leave_one_out import loo_estimates
from verify.montecarlo.loo_check import judge_loo, loo_exact


def _loo_records(case: verify.Case) -> list[dict[str, object]]:
    document = verify.check(case, samples=10_000, seed=3).document
    return [c for c in document["cases"][0]["checks"] if c["estimator"] == "score_loo"]


@pytest.mark.parametrize("samples", [4, 16])
def test_score_loo_is_checked_at_the_case_m_and_m_plus_one_fails(samples: int) -> None:
    case = verify.Case("cos(z)", reference={"mu": 0.5, "sigma": 1.0}, estimate={"samples": samples})
    records = _loo_records(case)
    assert [(c["statistic"], c["parameter"]) for c in records] == [
        ("mean", "mu"),
        ("mean", "sigma"),
        ("variance", "mu"),
        ("variance", "sigma"),
        ("covariance", "mu,sigma"),
    ]
    assert all(c["passed"] is True for c in records), records
    assert {c["test"] for c in records} == {"z", "batch_t"}
    # The same draws against the formula at M + 1: the variance checks fail.
    derivation = derive_case(case)
    point = exact_point(check_points(case)[0])
    draws = loo_estimates(derivation.r, point, samples, 2**18, seed=7)
    assert all(o.passed for o, _ in judge_loo(loo_exact(derivation, point, samples), draws))
    wrong = judge_loo(loo_exact(derivation, point, samples + 1), draws)
    failed = {o.statistic for o, _ in wrong if not o.passed}
    assert {"variance.mu", "variance.sigma"} <= failed


def test_a_zero_variance_is_skipped_with_a_reason() -> None:
    records = _loo_records(verify.Case("3 + 0*z"))
    assert all(c["passed"] is None for c in records)
    assert "is 0 here" in str(records[0]["reason"])
