"""Maps of log(Var[pathwise] / Var[score]) over a (mu, sigma) grid, for the reports.

The contract: :func:`log_variance_ratio_grid` returns a float64 array of shape
``(len(sigma_values), len(mu_values))`` whose entry ``[i, j]`` is the natural log of
the variance ratio at ``(mu_values[j], sigma_values[i])``: negative where the pathwise
estimator has the lower variance, positive where the score function has.  Where the
ratio is not a finite positive number the entry says why:

- ``-inf``: the pathwise variance is 0 or only the score variance is infinite;
- ``+inf``: the score variance is 0 or only the pathwise variance is infinite;
- ``nan``: the ratio is undefined (both 0, both infinite, or a variance undefined).

:func:`log_efficiency_ratio` is the same map for variance x cost (issue 12's efficiency,
Glynn and Whitt's work-normalized variance), from :func:`variance_grids`.

The values come from :meth:`verify.analysis.sweep.VarianceFunction.values`: closed forms in
numpy with mpmath wherever float64 cannot be trusted, and a fixed float64 quadrature
rule where there is no closed form.  They colour pictures; the numbers the reports
print come from :mod:`verify.exact.evaluation`.

>>> import numpy as np
>>> from verify.exact.derivation import derive
>>> from verify.cases.symbols import Z
>>> grid = log_variance_ratio_grid(derive(Z), "mu", {}, np.array([0.0, 1.0]), np.array([1.0]))
>>> grid.shape, bool(np.all(grid == -np.inf))  # pathwise g_mu = 1 has zero variance
((1, 2), True)
"""

from __future__ import annotations

import numpy as np

from verify.analysis.sweep import VarianceFunction
from verify.cases.symbols import GRADIENT_PARAMETERS, Z
from verify.exact.derivation import Derivation


def log_variance_ratio_grid(
    derivation: Derivation,
    parameter: str,
    fixed_params: dict[str, float],
    mu_values: np.ndarray,
    sigma_values: np.ndarray,
) -> np.ndarray:
    """log(Var[pathwise] / Var[score]) for the ``parameter`` component on the grid."""
    return log_ratio(*variance_grids(derivation, parameter, fixed_params, mu_values, sigma_values))


def variance_grids(
    derivation: Derivation,
    parameter: str,
    fixed_params: dict[str, float],
    mu_values: np.ndarray,
    sigma_values: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(Var[pathwise], Var[score]) of the ``parameter`` component on the grid."""
    if parameter not in GRADIENT_PARAMETERS:
        raise ValueError(f"unknown gradient component {parameter!r}; use mu or sigma")
    sigmas = np.asarray(sigma_values, dtype=float)
    if sigmas.size and not np.all(sigmas > 0):
        raise ValueError("every sigma value must be > 0")
    fixed = {k: v for k, v in fixed_params.items() if k not in ("mu", "sigma")}
    missing = sorted({s.name for s in derivation.r.free_symbols - {Z}} - set(fixed))
    if missing:
        raise ValueError(f"missing value for {', '.join(missing)}")
    mu_grid, sigma_grid = np.meshgrid(np.asarray(mu_values, dtype=float), sigmas)
    variances = [
        VarianceFunction.compile(derivation, estimator, parameter, fixed, ("mu", "sigma"))
        for estimator in ("pathwise", "score")
    ]
    pathwise, score = (v.values([mu_grid, sigma_grid]) for v in variances)
    return pathwise, score


def log_efficiency_ratio(
    pathwise: np.ndarray, score: np.ndarray, pathwise_cost: float, score_cost: float = 1.0
) -> np.ndarray:
    """log((c_pw Var[pathwise]) / (c_score Var[score])): the work-normalized ratio (an
    M-sample average divides both variances by M, so it holds at every M).

    >>> log_efficiency_ratio(np.array([1.0, 0.0]), np.array([2.0, 0.0]), 2.0).tolist()
    [0.0, 0.0]
    """
    with np.errstate(invalid="ignore"):  # 0 * inf = nan: undefined, as it should be
        return log_ratio(pathwise_cost * pathwise, score_cost * score)


def log_ratio(pathwise: np.ndarray, score: np.ndarray) -> np.ndarray:
    """log(pathwise / score) elementwise, with the conventions of the module docstring.

    >>> log_ratio(np.array([0.0, 1.0, np.inf, 0.0]), np.array([1.0, 0.0, np.inf, 0.0]))
    array([-inf,  inf,  nan,   0.])
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        # log(0) = -inf, and inf - inf = nan exactly where the ratio is undefined;
        # two zero variances (a constant cost) are a tie, not undefined.
        ratio = np.asarray(np.log(pathwise) - np.log(score), dtype=float)
    return np.where((pathwise == 0) & (score == 0), 0.0, ratio)
