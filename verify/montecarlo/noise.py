"""The noise the estimators draw: how each kind is sampled, and a quadrature rule for it.

The contract, for each kind in :data:`NOISE_KINDS`:

- ``"normal"``: eps ~ N(0, 1);
- ``"rayleigh"``: R with density ``r exp(-r**2/2)`` on r > 0 (Rayleigh of scale 1,
  so ``E[R**2] = 2``), drawn as ``R = sqrt(-2 log V)`` with ``V = 1 - U`` uniform on
  (0, 1] (``P(R > r) = P(V < exp(-r**2/2)) = exp(-r**2/2)``; one uniform is cheaper
  than numpy's ziggurat exponential, and V > 0 keeps the logarithm finite);
- ``"maxwell"``: the double-sided Maxwell, density ``m**2 phi(m)`` (``E[M**2] = 3``),
  a signed chi with 3 degrees of freedom, drawn as ``M = sign(e) sqrt(e**2 + R**2)``
  with e standard normal and R Rayleigh as above: ``M**2 = e**2 + R**2`` is
  chi-squared with 3 degrees of freedom (``R**2`` is chi-squared with 2), and the sign
  of e is independent of ``e**2`` and of R;
- ``"uniform"``: U uniform on [0, 1).

**Sampling** (:func:`draw`): a kind consumes the primitive lanes :data:`LANES` names,
one :class:`numpy.random.Generator` per lane and exactly one primitive value per
sample and lane.  So the samples do not depend on how a stream is cut into chunks.

**Quadrature** (:func:`rule`): float64 nodes and weights with ``sum(w * h(x))``
approximating ``E[h(X)]`` -- Gauss-Hermite for the normal (and, with weights times
``x**2``, the Maxwell), Gauss-Laguerre in ``t = r**2/2`` for the Rayleigh,
Gauss-Legendre for the uniform.  They only size the skewness corrections of the
Monte Carlo checks (a digit or two is enough; they never supply a reported value).

>>> nodes, weights = rule("maxwell")
>>> round(float(weights.sum()), 12), round(float((weights * nodes**2).sum()), 9)
(1.0, 3.0)
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Noise = Literal["normal", "rayleigh", "maxwell", "uniform"]
Primitive = Literal["normal", "uniform"]

NOISE_KINDS: tuple[Noise, ...] = ("normal", "rayleigh", "maxwell", "uniform")
LANES: dict[Noise, tuple[Primitive, ...]] = {
    "normal": ("normal",),
    "rayleigh": ("uniform",),
    "maxwell": ("normal", "uniform"),
    "uniform": ("uniform",),
}
HERMITE_NODES = 200
LAGUERRE_NODES = 100
LEGENDRE_NODES = 64


def primitives(noise: tuple[Noise, ...]) -> tuple[Primitive, ...]:
    """The primitive lanes a tuple of noise kinds consumes, in order."""
    return tuple(lane for kind in noise for lane in LANES[kind])


def fill(generator: np.random.Generator, primitive: Primitive, out: FloatArray) -> None:
    """Overwrite ``out`` with fresh primitive draws (no allocation)."""
    if primitive == "normal":
        generator.standard_normal(out=out)
    else:
        generator.random(out=out)


def draw(kind: Noise, lanes: list[FloatArray]) -> FloatArray:
    """The noise of ``kind`` from its freshly filled primitive lanes (which it may overwrite)."""
    if kind == "rayleigh":
        (uniform,) = lanes
        return np.sqrt(chi_squared_2(uniform), out=uniform)
    if kind == "maxwell":
        normal, uniform = lanes
        magnitude = chi_squared_2(uniform)
        magnitude += np.square(normal)
        np.sqrt(magnitude, out=magnitude)
        return np.copysign(magnitude, normal, out=magnitude)
    (values,) = lanes
    return values


def chi_squared_2(uniform: FloatArray) -> FloatArray:
    """``-2 log(1 - U)`` in place: ``R**2`` of a Rayleigh draw R, per uniform U on [0, 1)."""
    np.subtract(1.0, uniform, out=uniform)
    np.log(uniform, out=uniform)
    return np.multiply(uniform, -2.0, out=uniform)


def rule(kind: Noise) -> tuple[FloatArray, FloatArray]:
    """Nodes and weights of the kind's quadrature rule (see the module docstring)."""
    nodes, weights = _rules()[kind]
    return nodes.copy(), weights.copy()


@lru_cache(maxsize=1)
def _rules() -> dict[Noise, tuple[FloatArray, FloatArray]]:
    hermite, hermite_weights = np.polynomial.hermite_e.hermegauss(HERMITE_NODES)
    hermite_weights = hermite_weights / math.sqrt(2 * math.pi)
    laguerre, laguerre_weights = np.polynomial.laguerre.laggauss(LAGUERRE_NODES)
    legendre, legendre_weights = np.polynomial.legendre.leggauss(LEGENDRE_NODES)
    return {
        "normal": (hermite, hermite_weights),
        # E[h(R)] = int_0^inf h(sqrt(2t)) exp(-t) dt
        "rayleigh": (np.sqrt(2 * laguerre), laguerre_weights),
        # E[h(M)] = E[eps**2 h(eps)]
        "maxwell": (hermite, hermite_weights * hermite**2),
        "uniform": ((legendre + 1) / 2, legendre_weights / 2),
    }


def tensor_rule(noise: tuple[Noise, ...]) -> tuple[list[FloatArray], FloatArray]:
    """The product rule over independent noise: one node array per kind, and the weights."""
    rules = [rule(kind) for kind in noise]
    grids = np.meshgrid(*(nodes for nodes, _ in rules), indexing="ij")
    weights = np.ones_like(grids[0])
    for axis, (_, kind_weights) in enumerate(rules):
        shape = [1] * len(rules)
        shape[axis] = kind_weights.size
        weights = weights * kind_weights.reshape(shape)
    return [grid.ravel() for grid in grids], weights.ravel()
