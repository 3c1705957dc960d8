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

>>> ESTIMATORS["pathwise"].weights["sigma"]
eps
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sympy

from verify.symbols import EPS, SIGMA

SampleFunction = Literal["r", "dr"]


@dataclass(frozen=True)
class Estimator:
    """``g_theta = f(z) * weights[theta]`` with ``f`` named by ``uses`` (``r`` or ``r'``)."""

    name: str
    uses: SampleFunction
    weights: dict[str, sympy.Expr]
    summary: str


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

ESTIMATORS: dict[str, Estimator] = {e.name: e for e in (SCORE, PATHWISE)}
ESTIMATOR_NAMES: tuple[str, ...] = tuple(ESTIMATORS)
