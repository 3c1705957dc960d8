"""Claims are settled exactly: true ones hold, false ones are refuted with a real counterexample."""

from __future__ import annotations

from pathlib import Path

import mpmath
import pytest
import sympy

from verify.cases.case_files import load_case
from verify.cases.symbols import MU, SIGMA
from verify.exact.derivation import derive
from verify.exact.evaluation import evaluate_variance, exact_point
from verify.montecarlo.claims import (
    check_claims,
    compared_with,
    is_higher,
    symbolically_equal,
    values_differ,
)

DATA = Path(__file__).parent / "data"


def verdicts(name: str) -> list[dict[str, object]]:
    case = load_case(DATA / f"{name}.toml")
    return [result.to_json() for result in check_claims(case, derive(case.r))]


def test_true_claims_hold_and_false_ones_are_refuted() -> None:
    results = verdicts("quadratic_claims")
    assert [r["index"] for r in results] == [0, 1, 2, 3]  # 0-based, in file order
    assert [r["verdict"] for r in results] == ["holds", "refuted", "holds", "refuted"]
    assert "note" not in results[0]  # proved by simplify, not only sampled
    assert "counterexample" not in results[0]


def test_a_refuted_equals_claim_reports_a_point_where_the_values_differ() -> None:
    refuted = verdicts("quadratic_claims")[1]
    example = refuted["counterexample"]
    assert isinstance(example, dict)
    at = example["at"]
    # The claim said 4*sigma; the truth is 4*sigma**2.
    assert example["derived"] == pytest.approx(4 * at["sigma"] ** 2)
    assert example["claimed"] == pytest.approx(4 * at["sigma"])
    assert example["method"] == "closed-form"
    case = load_case(DATA / "quadratic_claims.toml")
    assert case.domain.sigma[0] <= at["sigma"] <= case.domain.sigma[1]
    assert at["k"] in case.parameters["k"]


def test_a_refuted_lower_claim_reports_both_variances_and_they_confirm_it() -> None:
    refuted = verdicts("cosine_claims")[0]
    assert refuted["verdict"] == "refuted"
    example = refuted["counterexample"]
    assert isinstance(example, dict)
    variance = example["variance"]
    assert set(variance) == {"pathwise", "score"}
    assert variance["pathwise"] > variance["score"]
    # The exact evaluation at the reported point confirms it.
    case = load_case(DATA / "cosine_claims.toml")
    derivation = derive(case.r)
    point = exact_point(example["at"])
    pathwise = evaluate_variance(derivation, "pathwise", "mu", point).value
    score = evaluate_variance(derivation, "score", "mu", point).value
    assert pathwise > score
    assert float(pathwise) == pytest.approx(variance["pathwise"], rel=1e-15)


def test_a_claim_written_with_real_functions_matches_the_complex_derivation() -> None:
    result = verdicts("cosine_claims")[1]
    assert result == {
        "index": 1,
        "verdict": "holds",
        "claim": "objective equals cos(k*mu)*exp(-k**2*sigma**2/2)",
    }


def test_without_a_closed_form_a_true_claim_holds_numerically() -> None:
    [result] = verdicts("sigmoid_sum")
    assert (result["verdict"], result["note"]) == ("holds", "holds (numerically)")


def test_verdicts_and_counterexamples_are_deterministic() -> None:
    assert verdicts("quadratic_claims") == verdicts("quadratic_claims")
    assert verdicts("cosine_claims") == verdicts("cosine_claims")


def test_the_numeric_comparison_catches_differences_beyond_twenty_digits() -> None:
    one = mpmath.mpf(1)
    with mpmath.workdps(50):  # the precision the values are computed at
        assert values_differ(one, one + mpmath.mpf("1e-18"))
        assert not values_differ(one, one + mpmath.mpf("1e-25"))
    assert not values_differ(mpmath.mpf(0), mpmath.mpf("1e-40"))  # 50-digit cancellation
    assert values_differ(mpmath.inf, one)
    assert values_differ(mpmath.nan, mpmath.nan)
    assert not values_differ(mpmath.inf, mpmath.inf)


def test_ties_do_not_refute_a_lower_claim_but_any_excess_does() -> None:
    one = mpmath.mpf(1)
    assert not is_higher(one, one)
    with mpmath.workdps(50):  # the precision the variances are computed at
        assert not is_higher(one + mpmath.mpf("1e-40"), one)
        assert is_higher(one + mpmath.mpf("1e-20"), one)
    assert is_higher(mpmath.inf, one)
    assert is_higher(mpmath.nan, one)


def test_symbolic_equality_is_proved_or_left_open_never_wrongly_proved() -> None:
    assert symbolically_equal(4 * SIGMA**2, 4 * SIGMA**2)
    assert not symbolically_equal(4 * SIGMA**2, 4 * SIGMA)
    assert not symbolically_equal(None, MU)
    exponentials = (sympy.exp(sympy.I * MU) + sympy.exp(-sympy.I * MU)) / 2
    assert symbolically_equal(exponentials, sympy.cos(MU))


def lower_claim(tmp_path: Path, lower: str) -> dict[str, object]:
    text = f"""title = "cosine, a lower claim about {lower}"
r = "cos(k*z)"

[parameters]
k = 2.0

[domain]
mu = [0.0, 1.0]
sigma = [0.5, 1.0]

[[claims]]
lower = "{lower}"
parameter = "mu"
"""
    path = tmp_path / "cosine_lower.toml"
    path.write_text(text)
    case = load_case(path)
    [result] = check_claims(case, derive(case.r))
    return result.to_json()


def test_a_lower_claim_about_a_further_estimator_compares_with_the_score_function(
    tmp_path: Path,
) -> None:
    """Var[(r - E r) eps/sigma] > Var[r eps/sigma] where cos(k mu) != 0 and k sigma > 1/sqrt 2."""
    refuted = lower_claim(tmp_path, "score_baseline_mean")
    assert refuted["verdict"] == "refuted"
    example = refuted["counterexample"]
    assert isinstance(example, dict)
    assert set(example["variance"]) == {"score_baseline_mean", "score"}
    assert example["variance"]["score_baseline_mean"] > example["variance"]["score"]
    assert compared_with("score") == "pathwise"
    assert compared_with("measure_valued_coupled") == "score"
