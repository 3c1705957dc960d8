"""Explicit dimension (verify.exact.explicit) against independent cubature and hand derivations.

The oracle for d = 2 is a tensor Gauss rule over every random input of an estimator's
definition: Gauss-Hermite (numpy's hermegauss, 40 nodes) for each normal, Gauss-Legendre on
[0, 12] against the density ``r exp(-r^2/2)`` for a Rayleigh draw (the tail beyond 12 is
below 1e-31), and Gauss-Hermite with the weight ``m^2`` for a
double-sided Maxwell draw.  It evaluates the estimators as written in the definitions
(r evaluated on the whole vector) and shares nothing with the iterated closed forms under
test.  For the smooth costs here the rules are accurate to ~1e-12, so relative 1e-8 is
far above their error and far below any wrong term.  The kink Heaviside(z1 - z2) is
compared with a hand derivation instead (a Gauss rule converges slowly across a kink).
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys

import mpmath
import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss
from numpy.polynomial.legendre import leggauss

import verify
from verify.api.explicit import ExplicitEvaluation
from verify.montecarlo.checks import check_case

NORMAL_NODES, NORMAL_WEIGHTS = hermegauss(40)
NORMAL_WEIGHTS = NORMAL_WEIGHTS / math.sqrt(2 * math.pi)
_LEGENDRE_NODES, _LEGENDRE_WEIGHTS = leggauss(80)
RAYLEIGH_NODES = 6 * (_LEGENDRE_NODES + 1)  # Gauss-Legendre on [0, 12]: the density
RAYLEIGH_WEIGHTS = 6 * _LEGENDRE_WEIGHTS * RAYLEIGH_NODES * np.exp(-(RAYLEIGH_NODES**2) / 2)
MAXWELL_WEIGHTS = NORMAL_WEIGHTS * NORMAL_NODES**2  # density m^2 phi(m)
UNIFORM_NODES, UNIFORM_WEIGHTS = (_LEGENDRE_NODES + 1) / 2, _LEGENDRE_WEIGHTS / 2
RULES = {
    "uniform": (UNIFORM_NODES, UNIFORM_WEIGHTS),
    "normal": (NORMAL_NODES, NORMAL_WEIGHTS),
    "rayleigh": (RAYLEIGH_NODES, RAYLEIGH_WEIGHTS),
    "maxwell": (NORMAL_NODES, MAXWELL_WEIGHTS),
}
MU, SIGMA = (0.3, -0.4), (0.8, 1.1)
COSTS = {
    "cos(z1 + 2*z2)": lambda z1, z2: np.cos(z1 + 2 * z2),
    "z1**2 * z2": lambda z1, z2: z1**2 * z2,
}
DERIVATIVES = {
    "cos(z1 + 2*z2)": (
        lambda z1, z2: -np.sin(z1 + 2 * z2),
        lambda z1, z2: -2 * np.sin(z1 + 2 * z2),
    ),
    "z1**2 * z2": (lambda z1, z2: 2 * z1 * z2, lambda z1, z2: z1**2),
}


def cubature(g, kinds: tuple[str, ...], rules=RULES) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """E[g] and E[g^2] over independent inputs of the given kinds."""
    nodes = np.array(list(itertools.product(*(rules[k][0] for k in kinds))))
    weights = np.prod(np.array(list(itertools.product(*(rules[k][1] for k in kinds)))), axis=1)
    values = g(*nodes.T)
    return float(np.sum(weights * values)), float(np.sum(weights * values**2))


def evaluation(text: str) -> ExplicitEvaluation:
    case = verify.Case(text, dimension=2)
    at = {"mu1": MU[0], "mu2": MU[1], "sigma1": SIGMA[0], "sigma2": SIGMA[1]}
    result = verify.evaluate(case, **at)
    assert isinstance(result, ExplicitEvaluation)
    return result


def definitions(text: str, i: int):  # type: ignore[no-untyped-def]
    """Each estimator component of coordinate i (0 or 1): (function, input kinds)."""
    r, dr = COSTS[text], DERIVATIVES[text][i]
    s = SIGMA[i]

    def z(e1, e2):  # type: ignore[no-untyped-def]
        return MU[0] + SIGMA[0] * e1, MU[1] + SIGMA[1] * e2

    def replaced(x, base):  # type: ignore[no-untyped-def]
        other = MU[1 - i] + SIGMA[1 - i] * base
        return r(x, other) if i == 0 else r(other, x)

    def own(e1, e2):  # type: ignore[no-untyped-def]
        return e1 if i == 0 else e2

    c = 1 / (s * math.sqrt(2 * math.pi))
    m = MU[i]
    # The baselines' b, by the same rule: E[r], and per component E[r s^2] / E[s^2].
    normal2 = ("normal", "normal")
    mean_baseline = cubature(lambda e1, e2: r(*z(e1, e2)), normal2)[0]
    optimal = {
        "mu": cubature(lambda e1, e2: r(*z(e1, e2)) * own(e1, e2) ** 2, normal2)[0],
        "sigma": cubature(lambda e1, e2: r(*z(e1, e2)) * (own(e1, e2) ** 2 - 1) ** 2, normal2)[0]
        / 2,
    }
    score_weights = {"mu": lambda e: e / s, "sigma": lambda e: (e**2 - 1) / s}
    baselines = {
        (name, kind): (
            lambda e1, e2, b=b, w=score_weights[kind]: (r(*z(e1, e2)) - b) * w(own(e1, e2)),
            normal2,
        )
        for name, table in (
            ("score_baseline_mean", {"mu": mean_baseline, "sigma": mean_baseline}),
            ("score_baseline_optimal", optimal),
        )
        for kind, b in table.items()
    }
    return baselines | {
        ("measure_valued_coupled", "mu"): (
            lambda a, base: c * (replaced(m + s * a, base) - replaced(m - s * a, base)),
            ("rayleigh", "normal"),
        ),
        ("measure_valued_coupled", "sigma"): (  # E = M U, U uniform on (0, 1)
            lambda mx, u, base: (replaced(m + s * mx, base) - replaced(m + s * mx * u, base)) / s,
            ("maxwell", "uniform", "normal"),
        ),
        ("score", "mu"): (lambda e1, e2: r(*z(e1, e2)) * own(e1, e2) / s, ("normal", "normal")),
        ("score", "sigma"): (
            lambda e1, e2: r(*z(e1, e2)) * (own(e1, e2) ** 2 - 1) / s,
            ("normal", "normal"),
        ),
        ("pathwise", "mu"): (lambda e1, e2: dr(*z(e1, e2)), ("normal", "normal")),
        ("pathwise", "sigma"): (lambda e1, e2: dr(*z(e1, e2)) * own(e1, e2), ("normal", "normal")),
        ("measure_valued", "mu"): (
            lambda a, b, base: c * (replaced(m + s * a, base) - replaced(m - s * b, base)),
            ("rayleigh", "rayleigh", "normal"),
        ),
        ("measure_valued", "sigma"): (
            lambda mx, n, base: (replaced(m + s * mx, base) - replaced(m + s * n, base)) / s,
            ("maxwell", "normal", "normal"),
        ),
    }


@pytest.mark.parametrize("text", sorted(COSTS))
@pytest.mark.parametrize("i", [0, 1])
def test_every_component_equals_the_cubature(text: str, i: int) -> None:
    result = evaluation(text)
    for (estimator, kind), (g, kinds) in definitions(text, i).items():
        component = f"{kind}{i + 1}"
        mean, second = cubature(g, kinds)
        assert float(result.mean(estimator, component)) == pytest.approx(mean, rel=1e-8, abs=1e-10)
        assert float(result.variance(estimator, component)) == pytest.approx(
            second - mean**2, rel=1e-8, abs=1e-10
        )
    # Unbiased: the score mean is the gradient (an identity the derivation does not use).
    assert float(result.gradient(f"mu{i + 1}")) == pytest.approx(
        float(result.mean("score", f"mu{i + 1}")), rel=1e-12, abs=1e-14
    )


@pytest.mark.parametrize("text", sorted(COSTS))
def test_the_cross_coordinate_covariances_equal_the_cubature(text: str) -> None:
    record = json.loads(evaluation(text).to_json())
    first, second = definitions(text, 0), definitions(text, 1)
    for estimator in ("score", "pathwise"):
        matrix = record["estimators"][estimator]["covariance"]["matrix"]
        for a, b in itertools.product(range(2), repeat=2):  # mu1/sigma1 x mu2/sigma2
            ga, _ = first[(estimator, ("mu", "sigma")[a])]
            gb, _ = second[(estimator, ("mu", "sigma")[b])]
            mean_a, _ = cubature(ga, ("normal", "normal"))
            mean_b, _ = cubature(gb, ("normal", "normal"))
            cross, _ = cubature(lambda e1, e2: ga(e1, e2) * gb(e1, e2), ("normal", "normal"))  # noqa: B023
            # Ordered mu1, mu2, sigma1, sigma2: coordinate 1's kind a is row 2a, coordinate 2's
            # kind b column 2b + 1.
            assert matrix[2 * a][2 * b + 1] == pytest.approx(cross - mean_a * mean_b, abs=1e-9)
        diagonal = [matrix[j][j] for j in range(4)]
        trace = record["estimators"][estimator]["covariance"]["trace"]
        assert trace == pytest.approx(sum(diagonal), rel=1e-14)


def test_measure_valued_components_of_two_coordinates_share_the_base_sample() -> None:
    # Cov[g_mu1, g_mu2] of the measure-valued estimator: conditionally on nothing shared
    # (d = 2: each component's base is the other's replaced coordinate) it is
    # E[E[g_mu1 | z2] E[g_mu2 | z1]] - E[g_mu1] E[g_mu2]; by cubature over (z1, z2) of
    # the two conditional means (each itself a cubature over its draws).
    text = "cos(z1 + 2*z2)"
    record = json.loads(evaluation(text).to_json())
    g1, kinds1 = definitions(text, 0)[("measure_valued", "mu")]
    g2, kinds2 = definitions(text, 1)[("measure_valued", "mu")]

    def conditional(g, base: float) -> float:  # type: ignore[no-untyped-def]
        mean, _ = cubature(lambda a, b: g(a, b, base), ("rayleigh", "rayleigh"))
        return mean

    nodes, weights = RULES["normal"]
    means1 = np.array([conditional(g1, e2) for e2 in nodes])  # given eps2 (the base of mu1)
    means2 = np.array([conditional(g2, e1) for e1 in nodes])  # given eps1
    cross = float(np.sum(weights * means1) * np.sum(weights * means2))  # independent bases
    product_of_means = cubature(g1, kinds1)[0] * cubature(g2, kinds2)[0]
    assert record["estimators"]["measure_valued"]["covariance"]["matrix"][0][1] == pytest.approx(
        cross - product_of_means, abs=1e-9
    )


def test_one_explicit_coordinate_is_the_one_dimensional_case() -> None:
    explicit = verify.evaluate(verify.Case("cos(2*z1)", dimension=1), mu=0.7, sigma=0.6)
    scalar = verify.evaluate(verify.Case("cos(2*z)"), mu=0.7, sigma=0.6)
    for estimator in ("score", "pathwise", "score_baseline_optimal", "measure_valued_coupled"):
        for kind in ("mu", "sigma"):
            assert explicit.variance(estimator, f"{kind}1") == pytest.approx(
                scalar.variance(estimator, kind), rel=1e-25
            )


def test_a_kink_in_two_coordinates_matches_a_hand_derivation() -> None:
    # r = Heaviside(z1 - z2): J = Phi(delta / s) with delta = mu1 - mu2, s^2 = s1^2 + s2^2,
    # so dJ/dmu1 = phi(delta / s) / s; the pathwise estimator is 0 (biased).  The score
    # function's E[r eps1^2] is, given eps2, E[eps1^2 1{eps1 > a}] = 1 - Phi(a) + a phi(a)
    # with a = (mu2 + s2 eps2 - mu1) / s1, then one quadrature over eps2.
    result = evaluation("Heaviside(z1 - z2)")
    delta, s = MU[0] - MU[1], math.hypot(*SIGMA)
    mpmath.mp.dps = 30
    gradient = mpmath.npdf(delta / s) / s
    assert float(result.gradient("mu1")) == pytest.approx(float(gradient), rel=1e-20)
    assert float(result.mean("pathwise", "mu1")) == 0.0
    assert json.loads(result.to_json())["discontinuous"] is True

    def inner(e2: mpmath.mpf) -> mpmath.mpf:
        a = (MU[1] + SIGMA[1] * e2 - MU[0]) / SIGMA[0]
        return (1 - mpmath.ncdf(a) + a * mpmath.npdf(a)) * mpmath.npdf(e2)

    second = mpmath.quad(inner, [-mpmath.inf, 0, mpmath.inf]) / SIGMA[0] ** 2
    assert float(result.variance("score", "mu1")) == pytest.approx(
        float(second - gradient**2), rel=1e-15
    )


def test_the_point_sets_all_coordinates_or_one() -> None:
    case = verify.Case("z1 * z2 + z3", dimension=3)
    result = verify.evaluate(case, mu=0.5, mu2=0.1, sigma=2)
    assert result.at == {
        "mu1": 0.5, "mu2": 0.1, "mu3": 0.5, "sigma1": 2.0, "sigma2": 2.0, "sigma3": 2.0,
    }  # fmt: skip
    record = json.loads(result.to_json())
    assert list(record["gradient"]) == ["mu1", "mu2", "mu3", "sigma1", "sigma2", "sigma3"]
    assert record["gradient"]["mu1"] == pytest.approx(0.1)  # d/dmu1 E[z1 z2] = mu2
    assert len(record["estimators"]["score"]["covariance"]["matrix"]) == 6


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('r = "z4"\ndimension = 3\n', "r: unknown name 'z4'; allowed names: z1, z2, z3"),
        (
            'r = "z1"\ndimension = 9\n',
            "dimension: an explicit dimension (r in z1..zd) must be from 1 to 8",
        ),
        ('r = "z1"\ndimension = 2\ncombine = "sum"\n', "combine: needs a symbolic dimension"),
        (
            'r = "z1"\ndimension = 2\n[reference]\nmu3 = 1.0\n',
            "reference.mu3: 'mu3' is not a component",
        ),
    ],
)
def test_bad_explicit_cases_are_one_line_and_exit_2(tmp_path, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    command = [sys.executable, "-m", "verify.cli", "evaluate", str(path)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1
    assert "Traceback" not in completed.stderr
    assert message in completed.stderr


def test_monte_carlo_passes_the_explicit_formulas_and_catches_a_wrong_one() -> None:
    case = verify.Case("cos(z1 + 2*z2)", dimension=2)
    assert not check_case(case, samples=2**17, seed=3).failed
    # Variances off by 50%: each variance check has power above 0.99 at 2^17 samples.
    wrong = check_case(case, samples=2**17, seed=3, perturb={"variance": 1.5})
    failed = {c.parameter for c in wrong.checks if c.outcome.passed is False}
    assert {"mu1", "mu2", "sigma1", "sigma2"} <= failed


def test_a_crossover_on_an_explicit_case_is_refused_in_one_line() -> None:
    with pytest.raises(verify.CaseError, match="dimension: crossovers are not available"):
        verify.crossover(verify.Case("z1 * z2", dimension=2), "mu", range=(0.0, 1.0))


def test_three_coordinates_share_a_base_sample_in_the_measure_valued_covariance() -> None:
    # d = 3, r = z1 z2 + z2 z3^2 + z1 z3: Cov[g_mu1, g_mu2] of the measure-valued estimator is
    # E[E[g_mu1 | z3] E[g_mu2 | z3]] - E[g_mu1] E[g_mu2] (the two components share only z3);
    # each conditional mean is a cubature over its own draws and the other base coordinate.
    mu, sigma = (0.2, -0.5, 0.7), (0.9, 1.2, 0.6)
    case = verify.Case("z1*z2 + z2*z3**2 + z1*z3", dimension=3)
    at = {f"mu{i + 1}": mu[i] for i in range(3)} | {f"sigma{i + 1}": sigma[i] for i in range(3)}
    record = json.loads(verify.evaluate(case, **at).to_json())

    def r(z1, z2, z3):  # type: ignore[no-untyped-def]
        return z1 * z2 + z2 * z3**2 + z1 * z3

    def g_mu(i: int, plus, minus, other, base3):  # type: ignore[no-untyped-def]
        c = 1 / (sigma[i] * math.sqrt(2 * math.pi))
        j = 1 - i  # the other of coordinates 1 and 2, at its base draw
        z3 = mu[2] + sigma[2] * base3
        zj = mu[j] + sigma[j] * other
        up, down = mu[i] + sigma[i] * plus, mu[i] - sigma[i] * minus
        if i == 0:
            return c * (r(up, zj, z3) - r(down, zj, z3))
        return c * (r(zj, up, z3) - r(zj, down, z3))

    # r is a polynomial of degree <= 2 in each coordinate: 12 Gauss-Hermite nodes per
    # normal are exact, and keep the nested cubature small.
    nodes, weights = hermegauss(12)
    weights = weights / math.sqrt(2 * math.pi)
    small = RULES | {"normal": (nodes, weights)}
    kinds = ("rayleigh", "rayleigh", "normal")
    conditional = [
        np.array([cubature(lambda a, b, o: g_mu(i, a, b, o, e3), kinds, small)[0] for e3 in nodes])  # noqa: B023
        for i in (0, 1)
    ]
    cross = float(np.sum(weights * conditional[0] * conditional[1]))
    means = [float(np.sum(weights * c)) for c in conditional]
    matrix = record["estimators"]["measure_valued"]["covariance"]["matrix"]
    assert matrix[0][1] == pytest.approx(cross - means[0] * means[1], rel=1e-9, abs=1e-12)
    assert record["estimators"]["measure_valued"]["mean"]["mu1"] == pytest.approx(means[0])
    # score: the cubature of the definitions over all three coordinates
    grid = np.array(list(itertools.product(nodes, repeat=3)))
    weight = np.prod(np.array(list(itertools.product(weights, repeat=3))), axis=1)
    z = [mu[k] + sigma[k] * grid[:, k] for k in range(3)]
    g1, g3 = r(*z) * grid[:, 0] / sigma[0], r(*z) * (grid[:, 2] ** 2 - 1) / sigma[2]
    expected = np.sum(weight * g1 * g3) - np.sum(weight * g1) * np.sum(weight * g3)
    # ordered mu1 mu2 mu3 sigma1 sigma2 sigma3: (mu1, sigma3) is row 0, column 5
    assert record["estimators"]["score"]["covariance"]["matrix"][0][5] == pytest.approx(
        float(expected), rel=1e-9, abs=1e-12
    )
