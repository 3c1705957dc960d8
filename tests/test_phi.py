"""The phi form of ``[parameterization]`` (issue 11, part 3) against independent oracles.

Oracles: (1) the chain rule composed by hand -- the theta numbers of the same case at
(mu, sigma), a Jacobian differentiated numerically by mpmath from the map written in
Python, and J^T m, J^T C J in numpy; (2) a seeded Monte Carlo of g_phi = J^T g_theta
with the estimators written out here; (3) 40-digit closed forms by hand for r = z**2,
against which the certified radii must hold.  None of them uses verify.exact.phi_*.
Bad input is tests/test_phi_inputs.py.
"""

from __future__ import annotations

import json
import math
import types
from pathlib import Path

import mpmath
import numpy as np
import pytest

import verify
from verify.cases.case_files import load_case
from verify.cli import main
from verify.exact.derivation import derive
from verify.reporting.markdown_phi import phi_section
from verify.reporting.phi_rows import gather_phi

CASES = Path(__file__).resolve().parent.parent / "cases"
# A map in which w moves both mu and sigma, so its verdict can differ from b's.
SHARED = {"phi": ["w", "b", "c"], "mu": "w*x + b", "sigma": "exp(w*x + c)"}
SEED = {"phi": ["w", "b", "v", "c"], "mu": "w*x + b", "sigma": "exp(v*x + c)"}


def shared_case(r: str = "cos(k*z)", **parameters: list[float]) -> verify.Case:
    return verify.Case(
        r, parameters=parameters or {"k": [1.3], "x": [0.7]}, parameterization=SHARED
    )


def shared_map(phi: list[mpmath.mpf], x: float) -> tuple[mpmath.mpf, mpmath.mpf]:
    w, b, c = phi
    return w * x + b, mpmath.exp(w * x + c)


def numeric_jacobian(phi: list[float], x: float) -> np.ndarray:
    """d(mu, sigma)/d(w, b, c) by mpmath's numerical differentiation (2 x 3)."""
    with mpmath.workdps(40):
        rows = []
        for component in (0, 1):
            row = []
            for j in range(3):

                def along(t: mpmath.mpf, j: int = j, component: int = component) -> mpmath.mpf:
                    moved = [mpmath.mpf(v) for v in phi]
                    moved[j] += t
                    return shared_map(moved, x)[component]

                row.append(float(mpmath.diff(along, 0)))
            rows.append(row)
    return np.array(rows)


def test_chain_rule_matches_a_hand_composition_with_a_numerical_jacobian() -> None:
    phi, x = [0.4, -0.2, 0.1], 0.7
    result = verify.evaluate(shared_case(), w=phi[0], b=phi[1], c=phi[2], x=x)
    block = json.loads(result.to_json())["parameterization"]
    with mpmath.workdps(40):
        mu, sigma = shared_map([mpmath.mpf(repr(v)) for v in phi], x)
    assert result.at == pytest.approx({"mu": float(mu), "sigma": float(sigma), "k": 1.3, "x": x})
    # The same case at that (mu, sigma): the theta numbers, and no phi block there.
    theta = json.loads(verify.evaluate(shared_case(), mu=float(mu), sigma=float(sigma)).to_json())
    assert "parameterization" not in theta
    assert "phi" not in theta
    jacobian = numeric_jacobian(phi, x)
    names = ["w", "b", "c"]
    assert block["phi"] == names
    for t, row in zip(("mu", "sigma"), jacobian, strict=True):
        assert [block["jacobian"][t][n] for n in names] == pytest.approx(row, rel=1e-12, abs=1e-15)
    gradient = jacobian.T @ [theta["gradient"]["mu"], theta["gradient"]["sigma"]]
    assert [block["gradient"][n] for n in names] == pytest.approx(gradient, rel=1e-9)
    for estimator, record in theta["estimators"].items():
        mean = jacobian.T @ [record["mean"]["mu"], record["mean"]["sigma"]]
        covariance = jacobian.T @ np.array(record["covariance"]["matrix"]) @ jacobian
        mine = block["estimators"][estimator]
        assert [mine["mean"][n] for n in names] == pytest.approx(mean, rel=1e-9, abs=1e-12)
        assert np.array(mine["covariance"]["matrix"]) == pytest.approx(covariance, rel=1e-9)
        assert [mine["variance"][n] for n in names] == pytest.approx(np.diag(covariance), 1e-9)
        assert mine["covariance"]["trace"] == pytest.approx(np.trace(covariance), rel=1e-9)
    for j, name in enumerate(names):
        score, pathwise = (
            (jacobian.T @ np.array(theta["estimators"][e]["covariance"]["matrix"]) @ jacobian)[j, j]
            for e in ("score", "pathwise")
        )
        assert block["lower"][name] == ("score" if score < pathwise else "pathwise")
    assert result.variance("pathwise", "w") == pytest.approx(
        block["estimators"]["pathwise"]["variance"]["w"]
    )
    assert result.lower("w") == block["lower"]["w"]


def test_verdicts_for_w_and_b_differ_when_w_moves_both_mu_and_sigma() -> None:
    # mu = 0, sigma = 1, x = 1: b moves mu only and keeps mu's verdict; w mixes in sigma.
    result = verify.evaluate(shared_case("cos(z)", x=[1.0]), w=0, b=0, c=0)
    plain = verify.evaluate(verify.Case("cos(z)"), mu=0, sigma=1)
    assert result.lower("b") == plain.lower("mu") == "score"
    assert result.lower("c") == plain.lower("sigma") == "pathwise"
    assert result.lower("w") == "pathwise"


def test_a_seeded_monte_carlo_of_g_phi_agrees_with_the_exact_moments() -> None:
    w, b, c, x, k = 0.4, -0.2, 0.1, 0.7, 1.3
    result = verify.evaluate(shared_case(), w=w, b=b, c=c, x=x)
    block = result.record["parameterization"]
    assert isinstance(block, dict)
    mu, sigma = w * x + b, math.exp(w * x + c)
    jacobian = np.array([[x, 1.0, 0.0], [x * sigma, 0.0, sigma]])  # by hand
    samples = 400_000
    eps = np.random.default_rng(20240611).standard_normal(samples)
    z = mu + sigma * eps
    r, dr = np.cos(k * z), -k * np.sin(k * z)
    theta = {
        "score": np.stack([r * eps / sigma, r * (eps**2 - 1) / sigma], axis=1),
        "pathwise": np.stack([dr, dr * eps], axis=1),
    }
    for estimator, g_theta in theta.items():
        g_phi = g_theta @ jacobian  # one chain-rule step per sample
        exact = block["estimators"][estimator]
        exact_cov = np.array(exact["covariance"]["matrix"])
        mean = np.array([exact["mean"][n] for n in ("w", "b", "c")])
        # The standard error of a mean, from the exact variance: 6 of them is a 2e-9 alarm.
        assert np.all(
            np.abs(g_phi.mean(axis=0) - mean) <= 6 * np.sqrt(np.diag(exact_cov) / samples)
        )
        centred = g_phi - mean
        for i in range(3):
            for j in range(3):
                product = centred[:, i] * centred[:, j]
                # The standard error of a covariance: the spread of the centred products.
                error = 6 * product.std() / math.sqrt(samples) + 1e-12
                assert abs(product.mean() - exact_cov[i, j]) <= error, (estimator, i, j)


def test_radii_hold_against_forty_digit_closed_forms_by_hand() -> None:
    # r = z**2, pathwise: g_mu = 2z, g_sigma = 2z eps; Var 4 sigma^2, 4(mu^2 + 2 sigma^2),
    # Cov 4 mu sigma.  The seed map at a point where sigma = exp(3/10) is irrational.
    case = verify.Case("z**2", parameters={"x": [0.5]}, parameterization=SEED)
    result = verify.evaluate(case, w=0.5, b=0.1, v=0, c=0.3)
    assert result.phi is not None
    with mpmath.workdps(40):
        x = mpmath.mpf(1) / 2
        mu, sigma = x / 2 + mpmath.mpf(1) / 10, mpmath.exp(mpmath.mpf(3) / 10)
        cov = mpmath.matrix(
            [[4 * sigma**2, 4 * mu * sigma], [4 * mu * sigma, 4 * (mu**2 + 2 * sigma**2)]]
        )
        jac = mpmath.matrix([[x, 1, 0, 0], [0, 0, x * sigma, sigma]])
        exact = jac.T * cov * jac
        for i, name in enumerate(("w", "b", "v", "c")):
            for j in range(4):
                number = result.phi.covariances["pathwise"][i][j]
                assert number.radius is not None
                assert abs(number.value - exact[i, j]) <= number.radius + mpmath.mpf(10) ** -38
                assert number.radius <= 1e-30 * max(1.0, abs(float(exact[i, j])))
            gradient = result.phi.gradient[name]  # dJ/dmu = 2 mu, dJ/dsigma = 2 sigma
            hand = jac[0, i] * 2 * mu + jac[1, i] * 2 * sigma
            assert gradient.radius is not None
            assert abs(gradient.value - hand) <= gradient.radius + mpmath.mpf(10) ** -38


def test_infinite_variances_follow_cauchy_schwarz_and_exact_zeros() -> None:
    case = shared_case("exp(z**2/3)", x=[0.0, 1.0])  # sigma = 1: every variance is infinite
    both = verify.evaluate(case, w=0, b=0, c=0, x=1)
    block = both.record["parameterization"]
    assert isinstance(block, dict)
    variance = block["estimators"]["pathwise"]["variance"]
    # b moves mu only, c sigma only: inf; w moves both, two infinities: not determined.
    assert variance == {"w": "nan", "b": "inf", "c": "inf"}
    assert block["lower"] == {"w": "undefined", "b": "tie", "c": "tie"}
    # At x = 0, w moves nothing: g_w = 0 * g_mu + 0 * g_sigma is exactly 0.
    none = verify.evaluate(case, w=0, b=0, c=0, x=0)
    assert none.phi is not None
    zero = none.phi.variance("score", "w")
    assert (zero.value, zero.radius) == (0, 0.0)


def test_the_one_name_form_is_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "log_scale.toml"
    path.write_text('r = "cos(k*z)"\n[parameters]\nk = 2\n[parameterization]\nsigma = "exp(s)"\n')
    assert main(["evaluate", str(path), "--at", "mu=0.4", "--at", "sigma=1.5", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document["parameterization"]) == {
        "names",
        "at",
        "jacobian",
        "gradient",
        "estimators",
        "radius",
    }
    assert "phi" not in document
    assert main(["evaluate", str(path), "--at", "s=0.4", "--at", "mu=0.4"]) == 2
    assert "NAME one of mu, sigma, k" in capsys.readouterr().err


def write(tmp_path: Path, table: str, parameters: str = "x = [0.5, 2.0]\n") -> Path:
    path = tmp_path / "amortized.toml"
    path.write_text(f'r = "cos(z)"\n[parameters]\n{parameters}[parameterization]\n{table}')
    return path


SEED_TABLE = 'phi = ["w", "b", "v", "c"]\nmu = "w*x + b"\nsigma = "exp(v*x + c)"\n'


def test_api_and_command_agree_at_a_point_in_phi(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, SEED_TABLE)
    at = {"w": 0.5, "b": 0.1, "v": 0.0, "c": 0.0, "x": 0.5}
    assert main(["evaluate", str(path), *(f"--at={n}={v}" for n, v in at.items()), "--json"]) == 0
    printed = capsys.readouterr().out.rstrip("\n")
    result = verify.evaluate(verify.Case.from_file(path), **at)
    assert result.to_json() == printed
    document = json.loads(printed)
    assert document["at"] == {"mu": 0.35, "sigma": 1.0, "x": 0.5}  # w x + b, exp(0)
    assert document["phi"] == {
        "gradient": document["parameterization"]["gradient"],
        "estimators": document["parameterization"]["estimators"],
    }
    assert main(["evaluate", str(path), *(f"--at={n}={v}" for n, v in at.items())]) == 0
    text = capsys.readouterr().out
    assert result.to_text() == text.rstrip("\n")
    assert "in phi at w=0.5, b=0.1, v=0, c=0" in text
    # The same case at (mu, sigma) still works, without the phi numbers.
    assert (
        main(
            ["evaluate", str(path), "--at", "mu=0.35", "--at", "sigma=1", "--at", "x=0.5", "--json"]
        )
        == 0
    )
    assert "phi" not in json.loads(capsys.readouterr().out)


def test_the_case_file_and_its_report_section_say_what_the_description_says() -> None:
    case = load_case(CASES / "linear_gaussian_phi.toml")
    combinations = [{"k": 1.0, "x": 0.5}, {"k": 1.0, "x": 2.0}]
    rows = gather_phi(case, derive(case.r), combinations)
    lower = [{n: row.result.lower(n) for n in ("w", "b", "v", "c")} for row in rows if row.result]
    assert lower == [
        {"w": "score", "b": "score", "v": "pathwise", "c": "pathwise"},
        {"w": "pathwise", "b": "pathwise", "v": "pathwise", "c": "pathwise"},
    ]
    section = phi_section(types.SimpleNamespace(case=case, phi_rows=rows))  # type: ignore[arg-type]
    assert section.startswith("## In the phi names")
    assert "J^{\\top} g_{\\theta}" in section  # the chain rule, stated
    assert "| k=1, x=0.5 | 0.5, 1 | w |" in section
    assert section.count("| tr Cov |") == 2
    assert (
        phi_section(types.SimpleNamespace(case=load_case(CASES / "cosine.toml"), phi_rows=[])) == ""
    )  # type: ignore[arg-type]


def test_a_reference_phi_without_a_gaussian_is_stated_in_the_report() -> None:
    case = verify.Case(
        "cos(z)",
        parameters={"x": [0.5, 4.0]},
        parameterization={"phi": ["v", "c"], "mu": "0", "sigma": "c - v*x", "reference": {"c": 1}},
    )
    rows = gather_phi(case, derive(case.r), [{"x": 0.5}, {"x": 4.0}])
    assert rows[0].result is not None  # sigma = 1 at the reference phi (v = 0, c = 1)
    assert [row.problem is None for row in rows] == [True, True]
    case = verify.Case(
        "cos(z)",
        parameters={"x": [0.5, 4.0]},
        parameterization={
            "phi": ["v", "c"],
            "mu": "0",
            "sigma": "c - v*x",
            "reference": {"v": 0.5, "c": 1},
        },
    )
    rows = gather_phi(case, derive(case.r), [{"x": 0.5}, {"x": 4.0}])
    assert rows[1].result is None  # sigma = 1 - 0.5 * 4 = -1
    assert rows[1].problem is not None
    assert "is -1 here" in rows[1].problem
    section = phi_section(types.SimpleNamespace(case=case, phi_rows=rows))  # type: ignore[arg-type]
    assert "| x=4 | | | | | | no Gaussian here: sigma: sigma = c - v*x is -1 here" in section
