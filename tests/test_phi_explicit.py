"""The phi form with an explicit dimension: the chain rule through the full 2d x p Jacobian.

The oracle: the same case evaluated in (mu_i, sigma_i) at the point the phi values give,
its 2d x 2d covariance matrices and gradient carried to phi by a Jacobian written out by
hand from the map below (not derived by the code under test), in mpmath.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import mpmath
import numpy as np
import pytest

import verify
from verify.cli import main

CASES = Path(__file__).resolve().parent.parent / "cases"
CASE = CASES / "explicit_amortized_cosine.toml"
COMPONENTS = ("mu1", "mu2", "sigma1", "sigma2")
NAMES = ("w", "b", "c")


def hand_jacobian(w: float, b: float, c: float, x: float) -> list[list[float]]:
    """d(mu1, mu2, sigma1, sigma2)/d(w, b, c) of mu1 = w x + b, mu2 = w x - b,
    sigma1 = exp(c), sigma2 = exp(c + w): rows are components, columns phi names."""
    return [
        [x, 1.0, 0.0],
        [x, -1.0, 0.0],
        [0.0, 0.0, math.exp(c)],
        [math.exp(c + w), 0.0, math.exp(c + w)],
    ]


def in_theta(w: float, b: float, c: float, x: float) -> dict[str, object]:
    """The record at the (mu_i, sigma_i) the phi values give (floats: 1e-16 relative)."""
    at = {"mu1": w * x + b, "mu2": w * x - b, "sigma1": math.exp(c), "sigma2": math.exp(c + w)}
    record: dict[str, object] = json.loads(verify.evaluate(CASE, x=x, **at).to_json())
    return record


def chained(record: dict[str, object], jacobian: list[list[float]]) -> dict[str, object]:
    """J^T gradient, and J^T C J for score and pathwise, by hand."""
    j = mpmath.matrix(jacobian)
    gradient = mpmath.matrix([record["gradient"][c] for c in COMPONENTS])  # type: ignore[index]
    out: dict[str, object] = {"gradient": j.T * gradient}
    for estimator in ("score", "pathwise"):
        matrix = record["estimators"][estimator]["covariance"]["matrix"]  # type: ignore[index]
        out[estimator] = j.T * mpmath.matrix(matrix) * j
    return out


def close(first: float, second: float) -> bool:
    # The theta point is rounded to floats (sigma2 = exp(c + w)): 1e-12 relative is
    # ample above that rounding, and far below any wrong Jacobian entry's effect.
    return abs(first - second) <= 1e-12 * max(1.0, abs(first), abs(second))


@pytest.mark.parametrize("phi", [(0.5, 0.1, 0.0, 0.5), (-0.3, 0.7, 0.2, 2.0)])
def test_numbers_in_phi_follow_from_the_full_covariance_by_the_chain_rule(
    phi: tuple[float, float, float, float],
) -> None:
    w, b, c, x = phi
    record = json.loads(verify.evaluate(CASE, w=w, b=b, c=c, x=x).to_json())
    hand = chained(in_theta(w, b, c, x), hand_jacobian(w, b, c, x))
    block = record["phi"]
    for i, name in enumerate(NAMES):
        assert close(block["gradient"][name], float(hand["gradient"][i]))  # type: ignore[index]
    for estimator in ("score", "pathwise"):
        matrix = block["estimators"][estimator]["covariance"]["matrix"]
        expected = hand[estimator]
        for i in range(len(NAMES)):
            for k in range(len(NAMES)):
                assert close(matrix[i][k], float(expected[i, k]))  # type: ignore[index]
        assert close(
            block["estimators"][estimator]["covariance"]["trace"],
            float(sum(expected[i, i] for i in range(len(NAMES)))),  # type: ignore[index]
        )


def test_a_seeded_monte_carlo_of_g_phi_agrees_with_the_exact_moments() -> None:
    w, b, c, x = 0.5, 0.1, 0.0, 0.5
    record = json.loads(verify.evaluate(CASE, w=w, b=b, c=c, x=x).to_json())
    mu1, mu2, sigma1, sigma2 = w * x + b, w * x - b, math.exp(c), math.exp(c + w)
    jacobian = np.array(hand_jacobian(w, b, c, x))
    samples = 400_000
    eps1, eps2 = np.random.default_rng(20261202).standard_normal((2, samples))
    u = (mu1 + sigma1 * eps1) + 2 * (mu2 + sigma2 * eps2)
    r, d1 = np.cos(u), -np.sin(u)  # dr/dz1; dr/dz2 = 2 d1
    theta = {
        "score": np.stack(
            [
                r * eps1 / sigma1,
                r * eps2 / sigma2,
                r * (eps1**2 - 1) / sigma1,
                r * (eps2**2 - 1) / sigma2,
            ],
            axis=1,
        ),
        "pathwise": np.stack([d1, 2 * d1, d1 * eps1, 2 * d1 * eps2], axis=1),
    }
    for estimator, g_theta in theta.items():
        g_phi = g_theta @ jacobian  # one chain-rule step per sample
        exact = record["phi"]["estimators"][estimator]
        exact_cov = np.array(exact["covariance"]["matrix"])
        mean = np.array([exact["mean"][n] for n in NAMES])
        # The standard error of a mean from the exact variance: 6 of them is a 2e-9 alarm.
        assert np.all(
            np.abs(g_phi.mean(axis=0) - mean) <= 6 * np.sqrt(np.diag(exact_cov) / samples)
        )
        centred = g_phi - mean
        for i in range(len(NAMES)):
            for k in range(len(NAMES)):
                product = centred[:, i] * centred[:, k]
                # The standard error of a covariance: the spread of the centred products.
                error = 6 * product.std() / math.sqrt(samples)
                assert abs(product.mean() - exact_cov[i, k]) <= error, (estimator, i, k)


def test_the_oracle_catches_a_wrong_jacobian_entry() -> None:
    w, b, c, x = 0.5, 0.1, 0.0, 0.5
    record = json.loads(verify.evaluate(CASE, w=w, b=b, c=c, x=x).to_json())
    wrong = hand_jacobian(w, b, c, x)
    wrong[1][1] = 1.0  # d mu2 / d b with the wrong sign
    hand = chained(in_theta(w, b, c, x), wrong)
    variance_b = record["phi"]["estimators"]["score"]["covariance"]["matrix"][1][1]
    assert not close(variance_b, float(hand["score"][1, 1]))  # type: ignore[index]


def test_the_verdict_for_a_name_can_differ_from_every_component_it_moves() -> None:
    result = verify.evaluate(CASE, w=0.5, b=0.1, c=0.0, x=0.5)
    # b moves mu1 and mu2 only; both favour the score function there, b the pathwise one.
    assert [result.lower(c) for c in ("mu1", "mu2")] == ["score", "score"]
    assert result.lower("b") == "pathwise"
    assert result.lower("w") == "score"


def test_the_json_keeps_the_contract_in_phi_order() -> None:
    record = json.loads(verify.evaluate(CASE, w=0.5, b=0.1, c=0.0, x=0.5).to_json())
    assert list(record["phi"]) == ["gradient", "estimators"]
    assert list(record["phi"]["gradient"]) == list(NAMES)
    assert list(record["parameterization"]["jacobian"]) == list(COMPONENTS)
    assert record["parameterization"]["sigma2"] == "exp(c + w)"
    assert record["dimension"]["components"] == list(COMPONENTS)
    assert len(record["estimators"]["score"]["covariance"]["matrix"]) == 4  # mu1..sigma2


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'phi = ["w", "v"]\nmu1 = "w"\nmu2 = "w"\nsigma1 = "1"\nsigma2 = "1"\n',
            "parameterization.phi: 'v' appears in neither",
        ),
        (
            'phi = ["w"]\nmu1 = "w"\nmu2 = "w"\nsigma1 = "1"\n',
            "parameterization.sigma2: missing; the phi form needs every one of mu1, mu2, "
            "sigma1, sigma2",
        ),
        ('mu = "m"\n', "parameterization.phi: missing; with an explicit dimension"),
        (
            'phi = ["z1"]\nmu1 = "z1"\nmu2 = "1"\nsigma1 = "1"\nsigma2 = "1"\n',
            "'z1' is a coordinate's name in this dimension",
        ),
        (
            'phi = ["w"]\nmu = "w"\nmu1 = "w"\nmu2 = "w"\nsigma1 = "1"\nsigma2 = "1"\n',
            "parameterization.mu: unknown key in the phi form",
        ),
    ],
)
def test_bad_explicit_maps_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f'r = "z1 * z2"\ndimension = 2\n[parameterization]\n{table}', "utf-8")
    assert main(["evaluate", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert str(path) in error
    assert message in error


def test_a_point_in_phi_and_in_a_component_at_once_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    arguments = ["evaluate", str(CASE), "--at", "w=0.5", "--at", "mu2=0.1", "--at", "x=1"]
    assert main(arguments) == 2
    assert "mu2: give the point either in mu_i and sigma_i or in phi" in capsys.readouterr().err
