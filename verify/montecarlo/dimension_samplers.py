"""Samplers of coordinate 1's estimators when r = sum_i f(z_i) or prod_i f(z_i), d small.

The contract: the same estimators as :mod:`verify.exact.dimension` defines, simulated
as they are computed in d dimensions -- every coordinate drawn, r evaluated on the
whole vector -- so the checks test the lifted formulas against the estimator itself,
not against the formulas' own algebra:

- product and baseline estimators: ``g = (F - b) w(eps_1)`` with F = r or dr/dz_1
  on d independent standard normal lanes (``b`` the exact baseline at the point);
- measure-valued estimators: coordinate 1 replaced by the one-coordinate draws of
  :mod:`verify.montecarlo.samplers`, coordinates 2..d kept at one shared base draw,
  as in deepmind/mc_gradients; for a product both components multiply the same
  ``P = f(z_2)...f(z_d)``, so they share noise.

Monte Carlo draws every coordinate, so it is run only for d <= :data:`MAX_CHECKED_DIMENSION`
(:func:`dimension_skip` says why elsewhere).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from verify.cases.estimators import MEASURE_VALUED_ESTIMATORS
from verify.cases.symbols import GRADIENT_PARAMETERS, MU, SIGMA, Z
from verify.exact.dimension import DimensionDerivation
from verify.exact.evaluation import ExactPoint
from verify.montecarlo.engine import Component, Pair
from verify.montecarlo.kernels import numpy_function
from verify.montecarlo.noise import FloatArray, Noise
from verify.montecarlo.samplers import measure_valued_component, sample_uses, weight_and_offset

MAX_CHECKED_DIMENSION = 8
NORMAL: Noise = "normal"


def dimension_of(derivation: DimensionDerivation, point: ExactPoint) -> int:
    """d at the point."""
    return int(point[derivation.dimension])


def dimension_skip(derivation: object, point: ExactPoint) -> str | None:
    """Why no Monte Carlo check is made at this point (None: it is)."""
    if not isinstance(derivation, DimensionDerivation):
        return None
    d = dimension_of(derivation, point)
    if d <= MAX_CHECKED_DIMENSION:
        return None
    return (
        f"not checked at d = {d}: Monte Carlo draws every coordinate, so it runs for "
        f"d <= {MAX_CHECKED_DIMENSION}; the exact formulas are the same expressions in d at "
        "every d (see verify.exact.dimension)"
    )


def lifted_pair(derivation: DimensionDerivation, estimator: str, point: ExactPoint) -> Pair:
    """Both components of coordinate 1's estimator in d dimensions."""
    d = dimension_of(derivation, point)
    f = numpy_function(derivation.r.subs(point), Z)
    mu, sigma = float(point[MU]), float(point[SIGMA])

    def values(normals: Sequence[FloatArray]) -> list[FloatArray]:
        with np.errstate(all="ignore"):
            return [f(mu + sigma * eps) for eps in normals]

    combine = _combiner(derivation.combine)
    if estimator in MEASURE_VALUED_ESTIMATORS:
        return _measure_valued(derivation, estimator, point, d - 1, values, combine)
    return _product_family(derivation, estimator, point, d, values, combine)


Combiner = Callable[[Sequence[FloatArray]], FloatArray]


def _combiner(combine: str) -> Combiner:
    def combined(parts: Sequence[FloatArray]) -> FloatArray:
        with np.errstate(all="ignore"):
            if not parts:
                return np.asarray(0.0 if combine == "sum" else 1.0, dtype=np.float64)
            stacked = np.sum(parts, axis=0) if combine == "sum" else np.prod(parts, axis=0)
            return np.asarray(stacked, dtype=np.float64)

    return combined


def _product_family(
    derivation: DimensionDerivation,
    estimator: str,
    point: ExactPoint,
    d: int,
    values: Callable[[Sequence[FloatArray]], list[FloatArray]],
    combine: Combiner,
) -> Pair:
    uses = sample_uses(estimator)
    derivative = numpy_function(derivation.dr.subs(point), Z)
    mu, sigma = float(point[MU]), float(point[SIGMA])
    weights, offsets = zip(
        *(weight_and_offset(derivation, estimator, p, point) for p in GRADIENT_PARAMETERS),
        strict=True,
    )

    def sample(normals: Sequence[FloatArray]) -> FloatArray:
        fs = values(normals)
        if uses == "r":
            return combine(fs)
        with np.errstate(all="ignore"):
            first = derivative(mu + sigma * normals[0])
            return first if derivation.combine == "sum" else first * combine(fs[1:])

    def both(*normals: FloatArray) -> tuple[FloatArray, FloatArray]:
        f = sample(normals)
        with np.errstate(all="ignore"):
            (mu_weight, sigma_weight), (mu_offset, sigma_offset) = weights, offsets
            return (f - mu_offset) * mu_weight(normals[0]), (f - sigma_offset) * sigma_weight(
                normals[0]
            )

    return Pair.joint_of((NORMAL,) * d, both)


def _measure_valued(
    derivation: DimensionDerivation,
    estimator: str,
    point: ExactPoint,
    others: int,
    values: Callable[[Sequence[FloatArray]], list[FloatArray]],
    combine: Combiner,
) -> Pair:
    """Coordinate 1 from the one-coordinate draws; coordinates 2..d from one shared draw."""
    first_mu, first_sigma = (
        measure_valued_component(derivation.base, estimator, p, point) for p in ("mu", "sigma")
    )
    split = len(first_mu.noise)
    end = split + len(first_sigma.noise)
    # One-coordinate differences f(x+) - f(x-), lifted: a sum adds the shared rest to both
    # sides (it cancels), a product multiplies both by it.
    mu_scale, sigma_scale = _scales(derivation, point)

    def lift(difference: FloatArray, rest: Sequence[FloatArray], scale: float) -> FloatArray:
        shared = combine(values(rest))
        with np.errstate(all="ignore"):
            if derivation.combine == "product":
                return difference * shared
            plus = difference / scale + shared  # (f(x+) + S) - (f(x-) + S), then scaled
            return (plus - shared) * scale

    def mu_part(*arrays: FloatArray) -> FloatArray:
        return lift(first_mu.function(*arrays[:split]), arrays[end:], mu_scale)

    def sigma_part(*arrays: FloatArray) -> FloatArray:
        return lift(first_sigma.function(*arrays[split:end]), arrays[end:], sigma_scale)

    normals = (NORMAL,) * others
    noise = first_mu.noise + first_sigma.noise + normals
    return Pair(Component(noise, mu_part), Component(noise, sigma_part), shared=True)


def _scales(derivation: DimensionDerivation, point: ExactPoint) -> tuple[float, float]:
    """The constants c of g_mu = c (f(x+) - f(x-)) and g_sigma = (f(x+) - f(x-)) / sigma."""
    sigma = float(point[SIGMA])
    return 1 / (sigma * math.sqrt(2 * math.pi)), 1 / sigma
