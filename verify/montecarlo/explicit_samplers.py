"""Samplers of coordinate i's estimators for an explicit r(z1, ..., zd).

The contract: the estimators :mod:`verify.exact.explicit` defines, simulated as they are
computed -- every coordinate drawn, r evaluated on the whole vector -- so the checks test
the iterated-expectation formulas against the estimator itself:

- product and baseline estimators: ``g = (F - b) w(eps_i)`` with F = r or dr/dz_i on
  d standard normal lanes (``b`` the exact baseline at the point, rounded once);
- measure-valued estimators: coordinate i replaced by the one-coordinate
  weak-derivative draws (Rayleigh, double-sided Maxwell; with common random numbers
  for the coupled variant), the other d - 1 coordinates at one base draw shared by the
  mu_i and sigma_i components, as in deepmind/mc_gradients.

Each function returns a :class:`~verify.montecarlo.engine.Pair` for coordinate i, whose
components are the ``mu`` and ``sigma`` components of the one-coordinate checks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import sympy

from verify.cases.coordinates import mean_symbol, sample_symbol, scale_symbol
from verify.cases.estimators import MEASURE_VALUED_ESTIMATORS
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.evaluation import ExactPoint
from verify.exact.explicit import CoordinateDerivation
from verify.montecarlo.engine import Component, Pair
from verify.montecarlo.kernels import fused_function
from verify.montecarlo.noise import FloatArray, Noise
from verify.montecarlo.samplers import sample_uses, weight_and_offset

NORMAL: Noise = "normal"
VectorFunction = Callable[[Sequence[FloatArray]], FloatArray]


def vector_function(expression: sympy.Expr, count: int) -> VectorFunction:
    """``expression`` in z1..z{count} as a float64 function of the d sample arrays
    (:func:`verify.montecarlo.kernels.fused_function`: whole-array ufuncs only)."""
    fused = fused_function((expression,), [sample_symbol(i) for i in range(1, count + 1)])

    def evaluate(samples: Sequence[FloatArray]) -> FloatArray:
        return fused(*samples)[0]

    return evaluate


def explicit_pair(view: CoordinateDerivation, estimator: str, point: ExactPoint) -> Pair:
    """Both components of coordinate ``view.index``'s estimator, at the coordinate's point."""
    count = view.parent.count
    means = [float(point[mean_symbol(i)]) for i in range(1, count + 1)]
    scales = [float(point[scale_symbol(i)]) for i in range(1, count + 1)]
    if estimator in MEASURE_VALUED_ESTIMATORS:
        return _measure_valued(view, estimator, point, means, scales)
    f = vector_function((view.r if sample_uses(estimator) == "r" else view.dr).subs(point), count)
    factors = [weight_and_offset(view, estimator, p, point) for p in GRADIENT_PARAMETERS]
    i = view.index - 1

    def both(*normals: FloatArray) -> tuple[FloatArray, FloatArray]:
        with np.errstate(all="ignore"):
            value = f([m + s * e for m, s, e in zip(means, scales, normals, strict=True)])
            return tuple(  # type: ignore[return-value]
                (value - offset) * weight(normals[i]) for weight, offset in factors
            )

    return Pair.joint_of(tuple(NORMAL for _ in range(count)), both)


def _measure_valued(
    view: CoordinateDerivation,
    estimator: str,
    point: ExactPoint,
    means: list[float],
    scales: list[float],
) -> Pair:
    """Coordinate i from the weak-derivative draws, the others from one shared base draw."""
    count, i = view.parent.count, view.index - 1
    cost = vector_function(view.r.subs(point), count)
    coupled = estimator == "measure_valued_coupled"
    mu_noise: tuple[Noise, ...] = ("rayleigh",) if coupled else ("rayleigh", "rayleigh")
    sigma_noise: tuple[Noise, ...] = ("maxwell", "uniform") if coupled else ("maxwell", "normal")
    split, end = len(mu_noise), len(mu_noise) + len(sigma_noise)
    mean, scale = means[i], scales[i]

    def at(coordinate: FloatArray, base: Sequence[FloatArray]) -> FloatArray:
        others = [
            m + s * e
            for m, s, e in zip(
                means[:i] + means[i + 1 :], scales[:i] + scales[i + 1 :], base, strict=True
            )
        ]
        return cost([*others[:i], coordinate, *others[i:]])

    def mu_part(*arrays: FloatArray) -> FloatArray:
        plus, minus = arrays[0], arrays[0] if coupled else arrays[1]
        base = arrays[end:]
        with np.errstate(all="ignore"):
            difference = at(mean + scale * plus, base) - at(mean - scale * minus, base)
            return difference / (scale * math.sqrt(2 * math.pi))

    def sigma_part(*arrays: FloatArray) -> FloatArray:
        maxwell, other = arrays[split], arrays[split + 1]
        normal = maxwell * other if coupled else other  # E = M U is standard normal
        base = arrays[end:]
        with np.errstate(all="ignore"):
            return (at(mean + scale * maxwell, base) - at(mean + scale * normal, base)) / scale

    base = tuple(NORMAL for _ in range(count - 1))
    noise = mu_noise + sigma_noise + base
    return Pair(Component(noise, mu_part), Component(noise, sigma_part), shared=True)
