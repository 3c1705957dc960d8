"""The report maps (verify.analysis.maps) and the fast variances behind them (.sweep).

Each map is compared with values from elsewhere: formulas derived by hand, or the
exact point evaluation of verify.exact.evaluation, on grids that are not square so that a
transposed map cannot pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy

from verify.analysis import floats, sweep
from verify.analysis.maps import log_variance_ratio_grid
from verify.analysis.sweep import VarianceFunction
from verify.cases.case_files import load_case
from verify.cases.expressions import parse_expression
from verify.cases.symbols import EPS, Z
from verify.cases.symbols import MU as MU_SYMBOL
from verify.cases.symbols import SIGMA as SIGMA_SYMBOL
from verify.exact.derivation import Derivation, derive
from verify.exact.evaluation import evaluate_variance, exact_point

MU = np.array([-2.0, -0.5, 0.0, 1.0, 2.5])
SIGMA = np.array([0.3, 1.0, 1.7])


def _derivation(name: str) -> Derivation:
    return derive(load_case(f"cases/{name}.toml").r)


def test_quadratic_map_matches_the_hand_formula() -> None:
    grid = log_variance_ratio_grid(_derivation("quadratic"), "mu", {"k": 1.0}, MU, SIGMA)
    assert grid.shape == (len(SIGMA), len(MU))
    for i, sigma in enumerate(SIGMA):
        for j, mu in enumerate(MU):
            d = mu - 1.0
            score = (d**4 + 14 * d**2 * sigma**2 + 15 * sigma**4) / sigma**2
            assert grid[i, j] == pytest.approx(math.log(4 * sigma**2 / score), rel=1e-12)


@pytest.mark.parametrize(("name", "fixed"), [("cosine", {"k": 2.0}), ("sigmoid", {"k": 1.0})])
@pytest.mark.parametrize("parameter", ["mu", "sigma"])
def test_map_agrees_with_exact_point_evaluation(
    name: str, fixed: dict[str, float], parameter: str
) -> None:
    derivation = _derivation(name)
    mu, sigma = np.array([-1.0, 0.5, 2.0]), np.array([0.5, 1.5])
    grid = log_variance_ratio_grid(derivation, parameter, fixed, mu, sigma)
    for i, s in enumerate(sigma):
        for j, m in enumerate(mu):
            point = exact_point({"mu": float(m), "sigma": float(s), **fixed})
            pathwise, score = (
                evaluate_variance(derivation, e, parameter, point).value
                for e in ("pathwise", "score")
            )
            assert grid[i, j] == pytest.approx(float(mpmath.log(pathwise / score)), abs=1e-8)


def test_zero_and_infinite_variances_follow_the_conventions() -> None:
    linear = log_variance_ratio_grid(_derivation("linear"), "mu", {"a": 2.0}, MU, SIGMA)
    assert np.all(linear == -np.inf)  # the pathwise estimator of a*z for mu is constant
    constant = log_variance_ratio_grid(_derivation("constant"), "sigma", {"c": 0.0}, MU, SIGMA)
    assert np.all(constant == 0)  # 0 / 0: both estimators exact, a tie
    step = log_variance_ratio_grid(_derivation("step"), "mu", {"c": 0.0}, MU, SIGMA)
    assert np.all(step == -np.inf)  # r' = 0 (biased), score variance positive
    sigmas = np.array([0.5, 0.99, 1.0, 1.3])
    heavy = log_variance_ratio_grid(_derivation("heavy_tail"), "mu", {"a": 0.25}, MU, sigmas)
    # Both variances are infinite exactly where 2*a*sigma**2 >= 1/2, i.e. sigma >= 1.
    assert np.all(np.isfinite(heavy[:2]))
    assert np.all(np.isnan(heavy[2:]))


def test_far_tails_are_not_rounded_to_zero() -> None:
    # For max(z, 0) at mu = -2, sigma = 0.1 the pathwise variance for mu is p*(1 - p) with
    # p = P(z > 0) ~ 2.8e-89: float64 and even 20 digits round it to 0.
    derivation = _derivation("relu")
    pathwise = VarianceFunction.compile(derivation, "pathwise", "mu", {"c": 0.0}, ("mu", "sigma"))
    with mpmath.workdps(60):
        p = mpmath.ncdf(-20)
        expected = p * (1 - p)
    assert float(pathwise.value([-2.0, 0.1])) == pytest.approx(float(expected), rel=1e-9)
    assert pathwise.values([np.array([-2.0]), np.array([0.1])])[0] == pytest.approx(
        float(expected), rel=1e-9
    )
    grid = log_variance_ratio_grid(derivation, "mu", {"c": 0.0}, np.array([-2.0]), np.array([0.1]))
    assert np.isfinite(grid).all()


@pytest.mark.parametrize(
    ("parameter", "fixed", "sigma", "message"),
    [
        ("mu", {"k": 1.0}, np.array([0.0, 1.0]), "sigma value must be > 0"),
        ("mu", {}, SIGMA, "missing value for k"),
        ("theta", {"k": 1.0}, SIGMA, "unknown gradient component"),
    ],
)
def test_bad_map_requests_raise(
    parameter: str, fixed: dict[str, float], sigma: np.ndarray, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        log_variance_ratio_grid(_derivation("cosine"), parameter, fixed, MU, sigma)


def test_an_identically_zero_variance_is_zero_without_confirming_each_point() -> None:
    # r = 3: the pathwise estimator is 0 (E[g**2] is the closed form 0), so every scan of
    # its variance is 0 at once; the score function's is 9/sigma**2 (mu) and is not.
    derivation = derive(parse_expression("3", {"z": Z}))
    mu, sigma = np.meshgrid(np.linspace(-2, 2, 5), np.linspace(0.5, 2, 4))
    pathwise = VarianceFunction.compile(derivation, "pathwise", "mu", {}, ("mu", "sigma"))
    score = VarianceFunction.compile(derivation, "score", "mu", {}, ("mu", "sigma"))
    assert pathwise.identically_zero
    assert not score.identically_zero
    assert np.array_equal(pathwise.values([mu, sigma]), np.zeros(mu.shape))
    assert pathwise.value([0.3, 0.7]) == 0
    assert score.values([mu, sigma]) == pytest.approx(9 / sigma**2, rel=1e-12)


def _moments_follow_their_grid_and_expression(remembered: Callable[..., Any]) -> None:
    """``remembered`` (a moment_on_grid) gives, for each expression and grid in turn, what
    computing it afresh gives, and copies that a caller may change."""
    symbols = (MU_SYMBOL, SIGMA_SYMBOL)
    sigmoid = 1 / (1 + sympy.exp(-(MU_SYMBOL + SIGMA_SYMBOL * EPS)))  # quadrature
    mu, sigma = np.meshgrid(MU, SIGMA)
    grids = [[mu, sigma], [mu + 0.5, sigma], [mu, sigma]]
    for integrand in (sigmoid, sigmoid**2):
        for grid in grids:
            value, magnitude = remembered(None, integrand, symbols, grid)
            expected = floats._moment_on_grid(None, integrand, symbols, grid)
            assert np.array_equal(value, expected[0])
            assert np.array_equal(magnitude, expected[1])
            value[...] = -1.0  # the caller's copy
    value, _ = remembered(None, sigmoid, symbols, grids[0])
    assert np.all(value > 0)


def test_a_moment_on_a_grid_is_remembered_per_expression_and_grid() -> None:
    _moments_follow_their_grid_and_expression(floats.moment_on_grid)


def test_a_moment_remembered_without_its_grid_values_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(floats, "_MOMENTS", {})
    monkeypatch.setattr(floats, "_grid_key", lambda grids: grids[0].shape)  # the shape alone
    with pytest.raises(AssertionError):
        _moments_follow_their_grid_and_expression(floats.moment_on_grid)


def _agrees_with_mpmath(name: str, remembered: Callable[[Any], Any]) -> None:
    """``remembered`` gives mpmath's value at each precision and for each argument type."""
    function = getattr(mpmath, name)
    for digits in (15, 40, 15):
        with mpmath.workdps(digits):
            for x in (mpmath.mpf("0.75"), mpmath.mpc("0.75", 0), mpmath.mpf(3)):
                value = remembered(x)
                assert type(value) is type(function(x))
                assert value == function(x)


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_remembered_special_functions_follow_precision_and_type(name: str) -> None:
    _agrees_with_mpmath(name, sweep._REMEMBERED[name])


def test_a_special_function_remembered_by_its_argument_alone_is_caught() -> None:
    by_argument = lru_cache(maxsize=None)(mpmath.erf)  # neither precision nor type
    with pytest.raises(AssertionError):
        _agrees_with_mpmath("erf", by_argument)


@pytest.mark.parametrize(("name", "fixed"), [("cosine", {"k": 2.0}), ("sigmoid", {"k": 1.0})])
def test_a_variance_is_compiled_for_mpmath_only_when_evaluated_at_a_point(
    name: str, fixed: dict[str, float]
) -> None:
    # cosine: a closed form; sigmoid: quadrature (a compiled integrand).
    derivation = _derivation(name)
    variance = VarianceFunction.compile(derivation, "score", "mu", fixed, ("mu", "sigma"))
    mu, sigma = np.meshgrid(np.array([-1.0, 0.5]), np.array([0.8, 1.5]))
    variance.values([mu, sigma])  # trusted float64 everywhere here: no mpmath
    assert "compiled" not in vars(variance.second)
    point = exact_point({"mu": 0.5, "sigma": 0.8, **fixed})
    exact = evaluate_variance(derivation, "score", "mu", point).value
    assert float(variance.value([0.5, 0.8])) == pytest.approx(float(exact), rel=1e-9)
    assert "compiled" in vars(variance.second)
