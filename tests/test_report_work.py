"""Issue 12 in the reports: the work section, score_loo's form in M, the efficiency maps."""

from __future__ import annotations

from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy

import verify
from verify.analysis.loo_form import loo_forms
from verify.analysis.maps import log_efficiency_ratio
from verify.analysis.reference_work import (
    ReferenceWork,
    efficiency_ranking,
    least,
    lowest_per_sample,
    most_efficient,
    reference_work,
)
from verify.cases.symbols import Z
from verify.exact.derivation import derive
from verify.exact.dimension import derive_case
from verify.exact.evaluation import evaluate_expectation, exact_point
from verify.exact.leave_one_out import M, at_samples, covariance, loo_variance_at
from verify.exact.numbers import Number
from verify.exact.results import evaluate_point

SIX = (
    "score",
    "pathwise",
    "score_baseline_mean",
    "score_baseline_optimal",
    "measure_valued",
    "measure_valued_coupled",
)


def _work(r: str, at: dict[str, float], **keys: object) -> ReferenceWork:
    case = verify.Case(r, **keys)  # type: ignore[arg-type]
    derivation = derive_case(case)
    point = exact_point(at)
    return reference_work(case, derivation, point, evaluate_point(derivation, point, SIX))


@pytest.mark.parametrize("r", [(Z - 1) ** 2, sympy.cos(Z), sympy.exp(Z) + Z**3])
def test_the_form_in_m_matches_the_covariance_formula(r: sympy.Expr) -> None:
    point = exact_point({"mu": 0.5, "sigma": 1.5})
    source = derive(r)
    for form in loo_forms(source, point):
        for samples in (2, 3, 7):
            direct = evaluate_expectation(
                at_samples(covariance(source, form.first, form.second), samples), point
            ).value
            regrouped = form.limit.value / samples + form.excess.value / (samples * (samples - 1))
            assert float(regrouped) == pytest.approx(float(direct), rel=1e-12, abs=1e-12)
            if form.formula is not None:
                exact = form.formula.subs(M, samples)
                assert float(exact) == pytest.approx(float(direct), rel=1e-12, abs=1e-12)


def test_the_form_catches_a_wrong_m() -> None:
    # The same check with M + 1 in the direct formula fails: the regrouping is not vacuous.
    point, source = exact_point({"mu": 1, "sigma": 1}), derive(sympy.cos(Z))
    form = loo_forms(source, point)[0]
    wrong = loo_variance_at(source, "mu", 5, point).value
    assert float(form.limit.value / 4 + form.excess.value / 12) != pytest.approx(float(wrong))


def test_most_efficient_beside_lowest_variance() -> None:
    # (z - 1)**2 at mu = sigma = 1: for sigma, pathwise 8 x 2 = 16 ties measure_valued_coupled
    # 4 x 4 = 16, while the lowest variance per sample is measure_valued_coupled alone.
    work = _work("(z - k)**2", {"mu": 1, "sigma": 1, "k": 1}, parameters={"k": [1]})
    assert lowest_per_sample(work, "sigma") == ["measure_valued_coupled"]
    assert most_efficient(work, "sigma") == ["pathwise", "measure_valued_coupled"]
    ranking = efficiency_ranking(work, "sigma")
    assert ranking[0] in ("pathwise", "measure_valued_coupled")
    assert ranking[-1] == "score"  # 74 x 1, the largest
    # With r' as cheap as r, pathwise alone is the most efficient for sigma.
    cheap = _work(
        "(z - k)**2",
        {"mu": 1, "sigma": 1, "k": 1},
        parameters={"k": [1]},
        cost={"derivative": 1},
    )
    assert most_efficient(cheap, "sigma") == ["pathwise"]


def test_least_keeps_ties_and_skips_infinities() -> None:
    values = {
        "a": Number.exact(mpmath.mpf(2), "closed-form"),
        "b": Number.exact(mpmath.mpf(2), "closed-form"),
        "c": Number.exact(mpmath.inf, "closed-form"),
    }
    assert least(values, ["a", "b", "c"]) == ["a", "b"]
    assert least(values, ["c"]) == []


def test_the_efficiency_map_is_the_ratio_of_work() -> None:
    pathwise, score = np.array([1.0, 0.0, 3.0]), np.array([4.0, 0.0, 1.0])
    ratio = log_efficiency_ratio(pathwise, score, 2.0)
    assert ratio[0] == pytest.approx(np.log(0.5))  # 2 x 1 against 4: pathwise cheaper
    assert ratio[1] == 0.0  # both zero: a tie, not log 2
    assert ratio[2] == pytest.approx(np.log(6.0))


def test_the_report_has_the_work_section(tmp_path: Path) -> None:
    case = verify.Case("(z - k)**2", name="shifted", parameters={"k": [1]})
    written = verify.report(case, tmp_path, samples=2**10)
    text = written.markdown
    assert "## Per unit of work at the reference point" in text
    assert "**most efficient** (least variance x cost): pathwise / measure_valued_coupled" in text
    assert r"\frac{2 \left(5 - \frac{4}{M}\right)}{M - 1}" in text
    assert "| score | 1 | 15.0 | 74.0 | gradient is 0 | 1850 | gradient is 0 | 1850 |" in text
    assert "![efficiency, k=1](shifted/efficiency-map-1.png)" in text
    image = tmp_path / "shifted" / "efficiency-map-1.png"
    assert image.read_bytes().startswith(b"\x89PNG")
    assert image.read_bytes() != (tmp_path / "shifted" / "map-1.png").read_bytes()


def test_the_index_answers_both_questions(tmp_path: Path) -> None:
    from verify.reporting.index import render_index

    quadratic = verify.Case("(z - k)**2", name="quadratic", parameters={"k": [1]})
    record = verify.report(quadratic, tmp_path, samples=2**10).record["index"]
    assert record["work"]["efficient"] == {
        "mu": "measure_valued_coupled",
        "sigma": "pathwise = measure_valued_coupled",
    }
    page = render_index([record], {})
    assert "| most efficient at reference (mu / sigma) |" in page
    assert "| measure_valued_coupled / pathwise = measure_valued_coupled |" in page
    assert "## Lowest variance per sample, and per unit of work" in page
    # Per sample measure_valued_coupled wins sigma alone; per unit of work it ties pathwise.
    assert "| pathwise | 0 / 0 | 0 / 1 |" in page
    assert "| measure_valued_coupled | 1 / 1 | 1 / 1 |" in page
    assert "differ in 1 (case, component) pairs" in page
    ranking = next(line for line in page.splitlines() if line.startswith("| k=1 | sigma |"))
    assert ranking.index("pathwise 16.0") < ranking.index("score_loo 58.66666667")
    assert ranking.endswith("score 74.0 |")
    # A case of another name gets no ranking section.
    other = dict(record, case="other")
    assert "Efficiency ranking" not in render_index([other], {})
