"""Single-sample gradient estimators of d/dtheta E[r(z)], z = mu + sigma*eps, theta = (mu, sigma).

Every estimator here is a product ``f(z) * w_theta(eps, sigma)``: a function of the
sample (``r`` itself or its derivative ``r'``) times a weight that is a polynomial in
``eps``.  That shared shape is the contract: the derivation expands ``f`` once, and
each moment ``E[g**p] = E[f(z)**p * w(eps)**p]`` is a polynomial shift of it.

Mohamed, Rosca, Figurnov and Mnih (2020), "Monte Carlo Gradient Estimation in
Machine Learning", JMLR 21(132):

- score function (Section 4, eq. 13): ``g = r(z) * d/dtheta log N(z | mu, sigma**2)``, i.e.
  ``g_mu = r(z) * eps / sigma`` and ``g_sigma = r(z) * (eps**2 - 1) / sigma``;
- pathwise (Section 5, eq. 35): ``g = r'(z) * dz/dtheta``, i.e. ``g_mu = r'(z)`` and
  ``g_sigma = r'(z) * eps``.  ``r'`` is the derivative where it exists: a jump of ``r``
  contributes no Dirac delta, so for discontinuous ``r`` this estimator is biased.

Two further families do not have the product shape and say so in ``family``:

- ``baseline`` (Section 7.4.1): the score function with a constant baseline,
  ``g = (r(z) - b) * w_theta``; see :mod:`verify.exact.baselines`;
- ``measure_valued`` (Section 6.2): differences of r under two other densities,
  with and without common random numbers; see :mod:`verify.exact.measure_valued`.

>>> ESTIMATORS["pathwise"].weights["sigma"]
eps
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sympy

from verify.cases.symbols import EPS, SIGMA

SampleFunction = Literal["r", "dr"]


Family = Literal["product", "baseline", "measure_valued"]


@dataclass(frozen=True)
class Estimator:
    """``g_theta = f(z) * weights[theta]`` with ``f`` named by ``uses`` (``r`` or ``r'``).

    For the ``baseline`` family ``f = r - b``; the ``measure_valued`` family has no
    weights (its samples are not functions of one Gaussian draw).
    """

    name: str
    uses: SampleFunction
    weights: dict[str, sympy.Expr]
    summary: str
    family: Family = "product"


SCORE = Estimator(
    name="score",
    uses="r",
    weights={"mu": EPS / SIGMA, "sigma": (EPS**2 - 1) / SIGMA},
    summary="score function (REINFORCE): r(z) times the score of N(mu, sigma^2)",
)
PATHWISE = Estimator(
    name="pathwise",
    uses="dr",
    weights={"mu": sympy.Integer(1), "sigma": EPS},
    summary="pathwise (reparameterization): r'(z) times dz/dtheta",
)

SCORE_BASELINE_MEAN = Estimator(
    name="score_baseline_mean",
    uses="r",
    weights=SCORE.weights,
    summary="score function with the baseline b = E[r]",
    family="baseline",
)
SCORE_BASELINE_OPTIMAL = Estimator(
    name="score_baseline_optimal",
    uses="r",
    weights=SCORE.weights,
    summary="score function with the variance-optimal constant baseline E[r s^2] / E[s^2]",
    family="baseline",
)
MEASURE_VALUED = Estimator(
    name="measure_valued",
    uses="r",
    weights={},
    summary="measure-valued (weak derivative): Weibull/Rayleigh for mu, Maxwell for sigma",
    family="measure_valued",
)
MEASURE_VALUED_COUPLED = Estimator(
    name="measure_valued_coupled",
    uses="r",
    weights={},
    summary="measure-valued with common random numbers between its two densities",
    family="measure_valued",
)

ESTIMATORS: dict[str, Estimator] = {
    e.name: e
    for e in (
        SCORE,
        PATHWISE,
        SCORE_BASELINE_MEAN,
        SCORE_BASELINE_OPTIMAL,
        MEASURE_VALUED,
        MEASURE_VALUED_COUPLED,
    )
}
ESTIMATOR_NAMES: tuple[str, ...] = tuple(ESTIMATORS)


def family_members(family: Family) -> tuple[str, ...]:
    """The estimators of one family, in table order."""
    return tuple(name for name, e in ESTIMATORS.items() if e.family == family)


BASELINE_ESTIMATORS = family_members("baseline")
MEASURE_VALUED_ESTIMATORS = family_members("measure_valued")
# The comparison the project exists to settle; maps, crossovers and verdicts are about it.
CLASSIC_ESTIMATORS: tuple[str, str] = ("score", "pathwise")
