"""``[parameterization]``: parsing, inverses and the chain rule for every estimator."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from verify.cases.case import CaseError
from verify.cases.case_files import load_case
from verify.cases.parameterization import parse_component
from verify.cli import main

CASE = 'r = "cos(k*z)"\n[parameters]\nk = 2\n[parameterization]\n'


def write(tmp_path: Path, table: str) -> Path:
    path = tmp_path / "reparameterised.toml"
    path.write_text(CASE + table, encoding="utf-8")
    return path


def test_softplus_inverse_and_jacobian() -> None:
    component = parse_component("sigma", "log(1 + exp(s))", reserved=frozenset())
    s = float(component.inverse(0.7))
    assert math.log1p(math.exp(s)) == pytest.approx(0.7, rel=1e-14)
    assert s == pytest.approx(math.log(math.expm1(0.7)), rel=1e-14)


def test_chain_rule_scales_every_estimator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, 'sigma = "exp(s)"\nmu = "2*m"\n')
    assert main(["evaluate", str(path), "--at", "mu=0.4", "--at", "sigma=1.5", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    new = document["parameterization"]
    assert new["names"] == {"mu": "m", "sigma": "s"}
    assert new["at"] == pytest.approx({"m": 0.2, "s": math.log(1.5)}, rel=1e-14)
    # d mu / d m = 2 and d sigma / d s = sigma = 1.5, by hand.
    assert new["jacobian"] == pytest.approx({"mu": 2.0, "sigma": 1.5}, rel=1e-14)
    for estimator, record in document["estimators"].items():
        variance, mean = record["variance"], record["mean"]
        transformed = new["estimators"][estimator]
        assert transformed["variance"]["m"] == pytest.approx(4 * variance["mu"], rel=1e-14)
        assert transformed["variance"]["s"] == pytest.approx(2.25 * variance["sigma"], rel=1e-14)
        assert transformed["mean"]["s"] == pytest.approx(1.5 * mean["sigma"], rel=1e-14)
        cross = record["covariance"]["mu_sigma"]
        assert transformed["covariance"] == pytest.approx(3.0 * cross, rel=1e-14, abs=1e-300)
    assert new["gradient"]["m"] == pytest.approx(2 * document["gradient"]["mu"], rel=1e-14)


@pytest.mark.parametrize(
    ("table", "field", "message"),
    [
        ('sigma = "exp(s) + t"\n', "parameterization.sigma", "exactly one new parameter"),
        ('sigma = "exp(k)"\n', "parameterization.sigma", "taken or invalid"),
        ('sigma = "exp(z)"\n', "parameterization.sigma", "taken or invalid"),
        ('mu = "s"\nsigma = "exp(s)"\n', "parameterization.sigma", "taken or invalid"),
        ('eps = "e"\n', "parameterization.eps", "only mu and sigma"),
        ('sigma = "s.__class__"\n', "parameterization.sigma", "attribute"),
        ("sigma = 3\n", "parameterization.sigma", "must be a string"),
        ('sigma = "exp("\n', "parameterization.sigma", "not an expression"),
    ],
)
def test_bad_parameterizations_name_the_field(
    tmp_path: Path, table: str, field: str, message: str
) -> None:
    with pytest.raises(CaseError) as caught:
        load_case(write(tmp_path, table))
    assert caught.value.field == field
    assert message in caught.value.message


def test_an_unreachable_value_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, 'mu = "exp(m)"\n')  # mu = exp(m) is never negative
    assert main(["evaluate", str(path), "--at", "mu=-1", "--at", "sigma=1", "--json"]) == 2
    err = capsys.readouterr().err
    assert "parameterization.mu" in err
    assert "never equals -1" in err
