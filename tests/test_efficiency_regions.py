"""Efficiency regions: boxes proven for c_A Var[A] against c_B Var[B], checked at centres."""

from __future__ import annotations

import json
from collections.abc import Mapping

import mpmath
import pytest

import verify
import verify.api.regions as api_regions
from verify.analysis.sweep import VarianceFunction
from verify.api.regions import RegionsResult
from verify.cli.main import main
from verify.exact.dimension import derive_case

COSINE = verify.Case("cos(k*z)", name="cosine", parameters={"k": [1.0]})
PAIR = ("score", "pathwise")


def contradictions(result: RegionsResult, costs: Mapping[str, float], limit: int = 60) -> int:
    """Decided boxes whose label the exact c-weighted difference at the centre contradicts
    (an independent oracle: the variances' closed forms at 30 digits, not the balls)."""
    derivation = derive_case(result.case)
    wrong = 0
    for component, search in result.rows[0].searches.items():
        variances = {
            e: VarianceFunction.compile(derivation, e, component, {"k": 1.0}, ("mu", "sigma"))
            for e in PAIR
        }
        decided = [r for r in search.regions if r.label in PAIR][:limit]
        for region in decided:
            centre = [mpmath.mpf(low + high) / 2 for low, high in region.box[:2]]
            weighted = {e: costs[e] * variances[e].value(centre, digits=30) for e in PAIR}
            lower = "score" if weighted["score"] < weighted["pathwise"] else "pathwise"
            wrong += lower != region.label
    return wrong


def test_efficiency_labels_agree_with_the_exact_weighted_variances() -> None:
    result = verify.regions(COSINE, efficiency=True, max_boxes=600)
    assert result.costs == {"score": 1.0, "pathwise": 2.0}
    assert contradictions(result, {"score": 1.0, "pathwise": 2.0}) == 0
    # The checker can fail: the same boxes read as plain variances (costs 1 and 1)
    # contradict it wherever the factor 2 decides.
    assert contradictions(result, {"score": 1.0, "pathwise": 1.0}, limit=10**6) > 0


def test_a_wrong_cost_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pathwise priced at 1 evaluation (the derivative for free): the regions are then
    # the plain variances' and disagree with the true c-weighted ones.
    monkeypatch.setattr(api_regions, "cost_per_estimate", lambda e, m, c: 1.0)
    result = verify.regions(COSINE, efficiency=True, max_boxes=600)
    assert contradictions(result, {"score": 1.0, "pathwise": 2.0}, limit=10**6) > 0


def test_the_cost_moves_area_from_pathwise_to_score() -> None:
    plain = verify.regions(COSINE, max_boxes=2000)
    work = verify.regions(COSINE, efficiency=True, max_boxes=2000)
    for component in ("mu", "sigma"):
        # Doubling pathwise's variance can only move area to the score function: the
        # proven score share grows by more than both searches leave undecided.
        gain = work.share(component)["score"] - plain.share(component)["score"]
        slack = work.share(component)["undecided"] + plain.share(component)["undecided"]
        assert gain > slack


def test_the_command_prints_the_costs_in_its_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "regions",
            "cases/cosine.toml",
            "--at",
            "k=1",
            "--efficiency",
            "--max-boxes",
            "600",
            "--json",
        ]
    )
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["efficiency"] is True
    assert document["costs"] == {"score": 1.0, "pathwise": 2.0}
    assert document["compare"] == ["score", "pathwise"]
    main(["regions", "cases/cosine.toml", "--at", "k=1", "--max-boxes", "50", "--json"])
    plain = json.loads(capsys.readouterr().out)
    assert plain["efficiency"] is False
    assert plain["costs"] is None
