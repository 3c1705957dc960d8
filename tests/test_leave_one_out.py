"""score_loo (Kool, van Hoof and Welling 2019): its exact variance, derived independently.

Three routes besides the module's: the covariance formula against an enumeration of
all M**4 index patterns with generic moments (M = 2, 3, 4); the evaluated numbers
against tensor Gauss-Hermite quadrature of the M = 2 and M = 3 sample expectations
for r = cos(k z) and r = (z - k)**2; and the limit M -> infinity of M Var, which is
score_baseline_mean's single-sample variance.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sympy

from verify.cases.symbols import GRADIENT_PARAMETERS, MU, SIGMA, Z, parameter_symbol
from verify.exact.baselines import variance as baseline_variance
from verify.exact.derivation import derive
from verify.exact.evaluation import exact_point
from verify.exact.leave_one_out import (
    M,
    at_samples,
    covariance,
    loo_covariance_formula,
    with_score_loo,
)
from verify.exact.results import evaluate_point

K = parameter_symbol("k")


def _moment(a: int, b: int, c: int) -> sympy.Expr:
    """E[r**a s**b t**c] as a generic symbol, with E[s] = E[t] = 0 and E[1] = 1."""
    if (a, b + c) == (0, 0):
        return sympy.Integer(1)
    if a == 0 and b + c == 1:
        return sympy.Integer(0)
    return sympy.Symbol(f"m_{a}{b}{c}")


def _enumerated_covariance(samples: int) -> sympy.Expr:
    """Cov[g_s, g_t] by summing c_ij c_kl E[r_j s_i r_l t_k] over every index pattern."""

    def c(i: int, j: int) -> sympy.Expr:
        return sympy.Rational(1, samples) if i == j else -sympy.Rational(1, samples * (samples - 1))

    total = sympy.Integer(0)
    for i, j, k, m in itertools.product(range(samples), repeat=4):  # g_s: r_j s_i; g_t: r_m t_k
        term = c(i, j) * c(k, m)
        for index in {i, j, k, m}:  # independent samples: the expectation factorizes
            term *= _moment(int(j == index) + int(m == index), int(i == index), int(k == index))
        total += term
    return sympy.expand(total - _moment(1, 1, 0) * _moment(1, 0, 1))


@pytest.mark.parametrize("samples", [2, 3, 4])
def test_the_formula_matches_an_enumeration_of_index_patterns(samples: int) -> None:
    formula = loo_covariance_formula(
        _moment(2, 1, 1),
        _moment(1, 1, 1),
        _moment(0, 1, 1),
        _moment(2, 0, 0),
        _moment(1, 0, 0),
        _moment(1, 1, 0),
        _moment(1, 0, 1),
        sympy.Integer(samples),
    )
    assert sympy.expand(formula - _enumerated_covariance(samples)) == 0


def test_the_enumeration_catches_a_wrong_formula() -> None:
    # The checker's own test: M replaced by M + 1 in the formula is caught at M = 3.
    wrong = loo_covariance_formula(
        *(_moment(*m) for m in ((2, 1, 1), (1, 1, 1), (0, 1, 1), (2, 0, 0), (1, 0, 0))),
        _moment(1, 1, 0),
        _moment(1, 0, 1),
        sympy.Integer(4),
    )
    assert sympy.expand(wrong - _enumerated_covariance(3)) != 0


def _quadrature_covariance(
    r: sympy.Expr, point: dict[str, float], samples: int, nodes: int = 40
) -> np.ndarray:
    """The 2x2 covariance of the M-sample estimate by tensor Gauss-Hermite quadrature."""
    x, w = np.polynomial.hermite_e.hermegauss(nodes)  # weight exp(-x**2 / 2)
    w = w / math.sqrt(2 * math.pi)
    grids = np.meshgrid(*([x] * samples), indexing="ij")
    weight = np.prod(np.meshgrid(*([w] * samples), indexing="ij"), axis=0)
    mu, sigma = point["mu"], point["sigma"]
    cost = sympy.lambdify(Z, r.subs(K, point["k"]), "numpy")
    costs = [np.broadcast_to(cost(mu + sigma * e), e.shape) for e in grids]
    mean_cost = sum(costs) / samples
    scores = {
        "mu": [e / sigma for e in grids],
        "sigma": [(e**2 - 1) / sigma for e in grids],
    }
    g = {
        p: sum((c - mean_cost) * s for c, s in zip(costs, scores[p], strict=True)) / (samples - 1)
        for p in GRADIENT_PARAMETERS
    }
    means = {p: float(np.sum(weight * g[p])) for p in GRADIENT_PARAMETERS}
    return np.array(
        [
            [float(np.sum(weight * g[a] * g[b])) - means[a] * means[b] for b in GRADIENT_PARAMETERS]
            for a in GRADIENT_PARAMETERS
        ]
    )


def _exact_covariance(r: sympy.Expr, point: dict[str, float], samples: int) -> np.ndarray:
    derivation = derive(r)
    exact = exact_point(point)
    result = with_score_loo(
        evaluate_point(derivation, exact, ("score",)), derivation, exact, samples
    )
    variances = result.variances["score_loo"]
    cross = float(result.covariances["score_loo"].value)
    return np.array(
        [[float(variances["mu"].value), cross], [cross, float(variances["sigma"].value)]]
    )


@pytest.mark.parametrize("r", [sympy.cos(K * Z), (Z - K) ** 2], ids=["cosine", "quadratic"])
@pytest.mark.parametrize("samples", [2, 3])
@pytest.mark.parametrize(
    "point",
    [
        {"mu": 1.0, "sigma": 1.0, "k": 1.0},
        {"mu": 0.3, "sigma": 0.7, "k": 1.3},
        {"mu": -0.5, "sigma": 1.2, "k": 0.5},
    ],
)
def test_the_variance_matches_tensor_gauss_hermite_quadrature(
    r: sympy.Expr, samples: int, point: dict[str, float]
) -> None:
    quadrature = _quadrature_covariance(r, point, samples)
    exact = _exact_covariance(r, point, samples)
    assert exact == pytest.approx(quadrature, rel=1e-9, abs=1e-11)
    # ... and the quadrature tells M from M + 1 (the perturbation the checks must catch).
    assert _exact_covariance(r, point, samples + 1) != pytest.approx(quadrature, rel=1e-3)


@pytest.mark.parametrize("r", [sympy.cos(K * Z), (Z - K) ** 2], ids=["cosine", "quadratic"])
def test_m_times_the_variance_tends_to_the_mean_baseline_variance(r: sympy.Expr) -> None:
    derivation = derive(r)
    for parameter in GRADIENT_PARAMETERS:
        loo = covariance(derivation, parameter, parameter).value
        assert loo is not None
        limit = sympy.limit(M * loo, M, sympy.oo)
        single = baseline_variance("score_baseline_mean", derivation, parameter)
        assert single is not None
        for point in ({MU: 1, SIGMA: 1, K: 1}, {MU: sympy.Rational(3, 10), SIGMA: 2, K: 3}):
            assert _real(limit.subs(point)) == pytest.approx(_real(single.subs(point)), rel=1e-12)


def _real(value: sympy.Expr) -> float:
    """A number SymPy keeps in exp(i ...) form: real up to rounding."""
    number = complex(value.evalf(30))
    assert abs(number.imag) <= 1e-20 * max(1.0, abs(number.real))
    return number.real


def test_at_samples_refuses_fewer_than_two() -> None:
    with pytest.raises(ValueError, match="M >= 2"):
        at_samples(covariance(derive(Z**2), "mu", "mu"), 1)
