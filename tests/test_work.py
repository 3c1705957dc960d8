"""Issue 12's budget: [estimate] samples, [cost] derivative, the options, and the JSON keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import verify
from verify.cases.budget import cost_per_sample
from verify.cli import main

QUADRATIC = 'r = "(z - k)**2"\n[parameters]\nk = [1.0]\n'


def _write(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "quadratic.toml"
    path.write_text(QUADRATIC + extra, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        ("[estimate]\nsamples = 1\n", "estimate.samples: must be at least 2"),
        ("[estimate]\nsamples = 2.5\n", "estimate.samples: must be an integer >= 2, got a float"),
        ("[estimate]\nsamples = 4.0\n", "estimate.samples: must be an integer, got the float 4.0"),
        (
            "[estimate]\nsamples = true\n",
            "estimate.samples: must be an integer >= 2, got a boolean",
        ),
        ("[estimate]\nsize = 4\n", "estimate.size: unknown key; allowed keys here: samples"),
        ("[cost]\nderivative = -1\n", "cost.derivative: must be >= 0"),
        ('[cost]\nderivative = "two"\n', "cost.derivative: must be a number, got a string"),
        ("[estimate.samples]\nx = 1\n", "estimate.samples: must be an integer >= 2, got a table"),
    ],
)
def test_a_bad_budget_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, line: str
) -> None:
    path = _write(tmp_path, extra)
    assert main(["evaluate", str(path), "--at", "mu=1", "--at", "sigma=1", "--json"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"{path}: {line}"), err


@pytest.mark.parametrize(
    ("option", "line"),
    [
        (["--samples-per-estimate", "1"], "--samples-per-estimate: must be at least 2"),
        (["--samples-per-estimate", "2.5"], "--samples-per-estimate: must be an integer"),
        (["--derivative-cost", "-1"], "--derivative-cost: must be >= 0"),
        (["--derivative-cost", "nan"], "--derivative-cost: must be a finite number"),
    ],
)
def test_a_bad_option_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: list[str], line: str
) -> None:
    path = _write(tmp_path, "")
    assert main(["evaluate", str(path), "--at", "mu=1", "--at", "sigma=1", *option]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(line), err


def test_the_api_refuses_a_bad_budget_with_a_case_error() -> None:
    case = verify.Case("(z - k)**2", parameters={"k": [1]})
    with pytest.raises(verify.CaseError, match="samples_per_estimate: must be at least 2"):
        verify.evaluate(case, mu=1, sigma=1, samples_per_estimate=1)
    with pytest.raises(verify.CaseError, match="derivative_cost: must be >= 0"):
        verify.evaluate(case, mu=1, sigma=1, derivative_cost=-0.5)


def _record(case: verify.Case, **options: object) -> dict[str, object]:
    document: dict[str, object] = json.loads(
        verify.evaluate(case, mu=1, sigma=1, **options).to_json()
    )
    return document


def test_the_json_keys_and_defaults() -> None:
    record = _record(verify.Case("(z - k)**2", parameters={"k": [0]}))
    loo = record["estimators"]["score_loo"]  # type: ignore[index]
    assert loo["samples"] == 4
    assert set(loo) == {"samples", "mean", "variance", "covariance"}
    assert record["cost"] == {
        "score": 1.0,
        "pathwise": 2.0,
        "score_baseline_mean": 1.0,
        "score_baseline_optimal": 1.0,
        "measure_valued": 4.0,
        "measure_valued_coupled": 4.0,
        "score_loo": 1.0,
    }
    efficiency = record["efficiency"]
    estimators = record["estimators"]
    for name, values in estimators.items():  # type: ignore[attr-defined]
        factor = 4.0 if name == "score_loo" else record["cost"][name]  # type: ignore[index]
        for p in ("mu", "sigma"):
            assert efficiency[name][p] == pytest.approx(factor * values["variance"][p], 1e-15)  # type: ignore[index]
            assert record["radius"][f"efficiency.{name}.{p}"] < 1e-25  # type: ignore[index]
    for key in ("mean.mu", "variance.sigma", "covariance", "trace", "bias.mu"):
        assert record["radius"][f"score_loo.{key}"] < 1e-25  # type: ignore[index]
    assert record["methods"]["score_loo.variance.mu"] == "closed-form"  # type: ignore[index]


def test_samples_needed_and_a_zero_gradient() -> None:
    # (z - 1)**2 at mu = sigma = 1: gradient (0, 2); score Var_sigma = 74, so n = 74 / 0.04.
    record = _record(verify.Case("(z - k)**2", parameters={"k": [1]}), derivative_cost=3)
    needed = record["samples_needed"]
    assert needed["score"] == {"mu": None, "sigma": 1850}  # type: ignore[index]
    assert needed["pathwise"]["sigma"] == 200  # type: ignore[index]  # Var 8 / 0.04
    assert record["evaluations_needed"]["pathwise"]["sigma"] == 600  # type: ignore[index]
    # score_loo at M = 4: Var = 44/3, ceil(366.67) = 367 estimates of 4 samples.
    assert needed["score_loo"]["sigma"] == 4 * 367  # type: ignore[index]
    assert "gradient is 0" in record["notes"]["score.samples_needed.mu"]  # type: ignore[index]


def test_the_case_file_budget_and_the_options_override_it(tmp_path: Path) -> None:
    path = _write(tmp_path, "[estimate]\nsamples = 16\n[cost]\nderivative = 3\n")
    case = verify.Case.from_file(path)
    record = _record(case)
    assert record["estimators"]["score_loo"]["samples"] == 16  # type: ignore[index]
    assert record["cost"]["pathwise"] == 3.0  # type: ignore[index]
    record = _record(case, samples_per_estimate=2, derivative_cost=1)
    assert record["samples_per_estimate"] == 2
    assert record["cost"]["pathwise"] == 1.0
    # M = 2 for (z - 1)**2 at mu = sigma = 1: 2 (5M - 4) / (M (M - 1)) = 6.
    assert record["estimators"]["score_loo"]["variance"]["mu"] == pytest.approx(6.0, 1e-15)  # type: ignore[index]


def test_the_cost_model() -> None:
    assert [cost_per_sample(e) for e in ("score", "pathwise", "score_loo")] == [1, 2, 1]
    assert cost_per_sample("pathwise", 3.5) == 3.5
    assert cost_per_sample("measure_valued_coupled") == 4


def test_the_text_output_has_the_symbolic_formula(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "")
    assert main(["evaluate", str(path), "--at", "mu=1", "--at", "sigma=1"]) == 0
    out = capsys.readouterr().out
    assert "Var score_loo[mu]" in out
    assert "M" in out.split("Var score_loo[mu]")[1].split("\n")[0]


def test_the_variance_of_an_m_sample_estimate() -> None:
    result = verify.evaluate(verify.Case("(z - k)**2", parameters={"k": [1]}), mu=1, sigma=1)
    # A single-sample estimator's M-sample average: Var / M (pathwise Var_sigma = 8).
    assert float(result.variance_of_average("pathwise", "sigma", 3).value) == pytest.approx(8 / 3)
    # score_loo at M: the record's value at its own M, 2 (5M - 4) / (M (M - 1)) at any M.
    at_four = result.variance_of_average("score_loo", "mu", 4)
    assert float(at_four.value) == result.record["estimators"]["score_loo"]["variance"]["mu"]  # type: ignore[index]
    assert float(result.variance_of_average("score_loo", "mu", 10).value) == pytest.approx(
        2 * 46 / 90, rel=1e-15
    )
    with pytest.raises(ValueError, match="M >= 2"):
        result.variance_of_average("score_loo", "mu", 1)


@pytest.mark.parametrize("k", [0.6, 1.0, 1.5, 2.0])
def test_the_crossover_in_m_matches_a_search_along_m(k: float) -> None:
    # Brute force: the least M in 2..60 with M Var_loo(M) < c Var_pathwise (c = 2).
    result = verify.evaluate(verify.Case("cos(k*z)", parameters={"k": [k]}), mu=1, sigma=1)
    reported = result.record["score_loo_beats_pathwise_from"]
    for p in ("mu", "sigma"):
        budget = 2 * float(result.variance("pathwise", p))
        searched = next(
            (
                m
                for m in range(2, 61)
                if m * float(result.variance_of_average("score_loo", p, m).value) < budget
            ),
            None,
        )
        assert reported[p] == searched, (k, p)  # type: ignore[index]


def test_the_crossover_in_m_search_catches_a_wrong_answer() -> None:
    # cos(z) at mu = sigma = 1: M = 8 for mu; M = 7 does not yet beat pathwise.
    result = verify.evaluate(verify.Case("cos(k*z)", parameters={"k": [1]}), mu=1, sigma=1)
    assert result.record["score_loo_beats_pathwise_from"]["mu"] == 8  # type: ignore[index]
    budget = 2 * float(result.variance("pathwise", "mu"))
    assert 7 * float(result.variance_of_average("score_loo", "mu", 7).value) >= budget
    assert 8 * float(result.variance_of_average("score_loo", "mu", 8).value) < budget


def test_a_claim_may_name_score_loo() -> None:
    from verify.exact.dimension import derive_case
    from verify.montecarlo.claims import check_claims

    claims = [{"lower": "score_loo", "parameter": p} for p in ("mu", "sigma")]
    # Far from its minimum the quadratic's cost is large: the baseline pays at M = 4.
    held = verify.Case("(z - k)**2", parameters={"k": [3]}, claims=claims)
    assert [c.verdict for c in check_claims(held, derive_case(held))] == ["holds", "holds"]
    # sin(z) has E[r] near 0 in places: the baseline's noise costs more than it saves.
    case = verify.Case("sin(z)", claims=claims[:1])
    (refuted,) = check_claims(case, derive_case(case))
    assert refuted.verdict == "refuted"
    assert refuted.counterexample is not None
    at = refuted.counterexample["at"]
    result = verify.evaluate(case, **at)  # type: ignore[arg-type]
    loo = float(result.variance_of_average("score_loo", "mu", 4).value)
    averaged = float(result.variance("score", "mu")) / 4
    assert loo > averaged
    assert refuted.counterexample["variance"] == {  # type: ignore[index]
        "score_loo": pytest.approx(loo, rel=1e-14),
        "score": pytest.approx(averaged, rel=1e-14),
    }
