"""``verify evaluate``: the JSON contract, the text form and the exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verify.cli import main

COSINE = 'r = "cos(k*z)"\n[parameters]\nk = [0.5, 1.0]\n'


@pytest.fixture
def cosine(tmp_path: Path) -> Path:
    path = tmp_path / "cosine.toml"
    path.write_text(COSINE, encoding="utf-8")
    return path


def evaluate_json(capsys: pytest.CaptureFixture[str], *arguments: str) -> dict[str, object]:
    assert main(["evaluate", *arguments, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # exactly one JSON object
    document: dict[str, object] = json.loads(out)
    return document


def test_json_matches_the_contract_and_the_issue_example(
    cosine: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = evaluate_json(
        capsys, str(cosine), "--at", "mu=0.3", "--at", "sigma=0.7", "--at", "k=1.3"
    )
    assert document["case"] == "cosine"
    assert document["at"] == {"mu": 0.3, "sigma": 0.7, "k": 1.3}
    assert document["method"] == "closed-form"
    # The values of the issue's example; exp(-k^2 sigma^2/2) cos(k mu) by hand as well.
    assert document["objective"] == pytest.approx(0.6113352008759191, rel=1e-15)
    assert document["gradient"] == pytest.approx(
        {"mu": -0.3266800408632961, "sigma": -0.7232095426362124}, rel=1e-15
    )
    estimators = document["estimators"]
    assert isinstance(estimators, dict)
    assert set(estimators) >= {"score", "pathwise"}
    for statistics in estimators.values():
        assert set(statistics) >= {"mean", "variance"}
        assert set(statistics["mean"]) == set(statistics["variance"]) == {"mu", "sigma"}


def test_infinite_variance_is_the_string_inf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    heavy = tmp_path / "heavy.toml"
    heavy.write_text('r = "exp(z**2/3)"\n', encoding="utf-8")
    document = evaluate_json(capsys, str(heavy), "--at", "mu=0", "--at", "sigma=1")
    assert document["objective"] == pytest.approx(3**0.5)
    variances = document["estimators"]["pathwise"]["variance"]  # type: ignore[index]
    assert variances == {"mu": "inf", "sigma": "inf"}


def test_single_valued_parameters_may_be_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "shifted.toml"
    path.write_text('r = "(z - k)**2"\n[parameters]\nk = 1\n', encoding="utf-8")
    document = evaluate_json(capsys, str(path), "--at", "mu=1", "--at", "sigma=1")
    assert document["at"] == {"mu": 1.0, "sigma": 1.0, "k": 1.0}
    assert document["estimators"]["pathwise"]["variance"]["mu"] == 4.0  # type: ignore[index]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--at", "mu=0", "--at", "sigma=1"], "missing value for k"),
        (["--at", "mu=0", "--at", "sigma=1", "--at", "k=1", "--at", "q=2"], "NAME one of"),
        (["--at", "mu=0", "--at", "sigma=-1", "--at", "k=1"], "sigma must be > 0"),
        (["--at", "mu=x", "--at", "sigma=1", "--at", "k=1"], "is not a number"),
        (["--at", "mu=nan", "--at", "sigma=1", "--at", "k=1"], "finite"),
    ],
)
def test_bad_points_exit_2_with_one_line_naming_the_file(
    cosine: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert main(["evaluate", str(cosine), *arguments]) == 2
    err = capsys.readouterr().err
    assert err.startswith(str(cosine))
    assert message in err
    assert err.count("\n") == 1


def test_a_bad_case_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('r = "().__class__"\n', encoding="utf-8")
    assert main(["evaluate", str(path), "--at", "mu=0", "--at", "sigma=1"]) == 2
    assert capsys.readouterr().err.startswith(f"{path}: r: ")


def test_text_output_shows_formulas_and_methods(
    cosine: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["evaluate", str(cosine), "--at", "mu=0.3", "--at", "sigma=0.7", "--at", "k=1.3"]) == 0
    )
    out = capsys.readouterr().out
    assert "E[r]            = exp(-k**2*sigma**2/2)*cos(k*mu)" in out
    assert "0.611335200875919149335970680197  (closed-form)" in out
