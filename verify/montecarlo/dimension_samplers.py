"""Samplers of coordinate 1's estimators when r = sum_i f(z_i) or prod_i f(z_i), at any d.

The contract: the same estimators as :mod:`verify.exact.dimension` defines, simulated
from every coordinate they depend on, so the checks test the lifted formulas against
the estimator itself, not against the formulas' own algebra.  Coordinates 2..d enter
only through ``S = f(z_2) + ... + f(z_d)`` (a sum) or ``P = f(z_2)...f(z_d)`` (a
product), independent of coordinate 1's noise; :func:`rest_function` draws it exactly,
one standard normal lane per coordinate, accumulated lane by lane in place (memory is
the engine's chunk per lane, whatever d):

- product and baseline estimators: ``g = (F - b) w(eps_1)`` with F = r or dr/dz_1
  (``b`` the exact baseline at the point): for a sum ``r = f(z_1) + S`` and
  ``dr/dz_1 = f'(z_1)``, for a product ``r = f(z_1) P`` and ``dr/dz_1 = f'(z_1) P``;
- measure-valued estimators: coordinate 1 replaced by the one-coordinate draws of
  :mod:`verify.montecarlo.samplers`, coordinates 2..d kept at one shared base draw,
  as in deepmind/mc_gradients; for a product both components multiply the same P, so
  they share noise.

For a sum, the pathwise estimator ``f'(z_1) w`` and the measure-valued differences
``(f(x+) + S) - (f(x-) + S)`` do not depend on S at all: their samplers draw
coordinate 1 only, which is the same law (not an approximation).  Only the score
function and its baselines draw S, and they share one stream (one group of
:mod:`verify.montecarlo.shared_noise`); for a product, the score family and the
pathwise estimator share one stream of P.  So every listed d is checked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from verify.cases.estimators import MEASURE_VALUED_ESTIMATORS
from verify.cases.symbols import EPS, GRADIENT_PARAMETERS
from verify.exact.dimension import DimensionDerivation
from verify.exact.evaluation import ExactPoint
from verify.montecarlo.chunk_memo import ChunkMemo
from verify.montecarlo.engine import Pair
from verify.montecarlo.kernels import numpy_function
from verify.montecarlo.noise import FloatArray, Noise
from verify.montecarlo.samplers import (
    measure_valued_component,
    sample_uses,
    shared_sample,
    weight_and_offset,
)

NORMAL: Noise = "normal"
RestFunction = Callable[[Sequence[FloatArray]], FloatArray]
# Lane sets whose S or P a rest function keeps (one chunk each): the score family's
# survives the two measure-valued estimators' own, to be read again by score_loo's first
# draw (its other draws are read once).
KEPT_RESTS = 3


def dimension_of(derivation: DimensionDerivation, point: ExactPoint) -> int:
    """d at the point."""
    return int(point[derivation.dimension])


def rest_function(derivation: DimensionDerivation, point: ExactPoint) -> RestFunction:
    """S or P of coordinates 2..d from their standard normal lanes (one per coordinate).

    One new array holds the running sum (product); each lane's f(mu + sigma eps) is
    added (multiplied) in place, so no (d - 1) x chunk array is ever built.  The values
    of the last :data:`KEPT_RESTS` lane sets are kept: the estimators of one point read
    the same lanes in turn (:func:`verify.montecarlo.engine.sample_pairs`: the score
    family and score_loo's first draw, with the measure-valued estimators' own lanes
    between them), so S or P is computed once per chunk and lane set for all of them
    (:mod:`verify.montecarlo.chunk_memo`).
    """
    f = numpy_function(derivation.sample_function("r").subs(point), EPS)
    accumulate = np.add if derivation.combine == "sum" else np.multiply
    kept: ChunkMemo[FloatArray] = ChunkMemo(KEPT_RESTS)

    def rest(normals: Sequence[FloatArray]) -> FloatArray:
        known = kept.get(normals)
        if known is not None:
            return known
        with np.errstate(all="ignore"):
            total = np.array(f(normals[0]), dtype=np.float64)
            for eps in normals[1:]:
                accumulate(total, f(eps), out=total)
        return kept.put(normals, total)

    return rest


@lru_cache(maxsize=64)
def shared_rest(
    derivation: DimensionDerivation, point: tuple[tuple[object, object], ...]
) -> RestFunction:
    """One :func:`rest_function` per derivation and point, shared by its estimators."""
    return rest_function(derivation, dict(point))


def lifted_pair(
    derivation: DimensionDerivation,
    estimator: str,
    point: ExactPoint,
    rest: RestFunction | None = None,
) -> Pair:
    """Both components of coordinate 1's estimator in d dimensions.

    ``rest`` replaces :func:`rest_function` (the tests feed wrong samplers of S or P
    through the real check path).
    """
    others = dimension_of(derivation, point) - 1
    if rest is None:
        rest = shared_rest(derivation, tuple(point.items()))
    if estimator in MEASURE_VALUED_ESTIMATORS:
        return _measure_valued(derivation, estimator, point, others, rest)
    return _product_family(derivation, estimator, point, others, rest)


def _needs_rest(derivation: DimensionDerivation, estimator: str, others: int) -> bool:
    """Whether the estimator depends on coordinates 2..d (module docstring)."""
    if others == 0 or derivation.combine == "product":
        return others > 0
    return estimator not in MEASURE_VALUED_ESTIMATORS and sample_uses(estimator) == "r"


def _product_family(
    derivation: DimensionDerivation,
    estimator: str,
    point: ExactPoint,
    others: int,
    rest: RestFunction,
) -> Pair:
    uses = sample_uses(estimator)
    # f(eps_1) once per chunk for every estimator at the point reading it (the score
    # function and its baselines, and score_loo's first draw): read-only, so copied below.
    first = shared_sample(derivation, uses, tuple(point.items()))
    weights, offsets = zip(
        *(weight_and_offset(derivation, estimator, p, point) for p in GRADIENT_PARAMETERS),
        strict=True,
    )
    lanes = others if _needs_rest(derivation, estimator, others) else 0

    def both(eps: FloatArray, *normals: FloatArray) -> tuple[FloatArray, FloatArray]:
        with np.errstate(all="ignore"):
            value = np.array(first(eps), dtype=np.float64)
            if lanes and derivation.combine == "sum":
                value += rest(normals)
            elif lanes:
                value *= rest(normals)
            (mu_weight, sigma_weight), (mu_offset, sigma_offset) = weights, offsets
            return (value - mu_offset) * mu_weight(eps), (value - sigma_offset) * sigma_weight(eps)

    return Pair.joint_of((NORMAL,) * (1 + lanes), both)


def _measure_valued(
    derivation: DimensionDerivation,
    estimator: str,
    point: ExactPoint,
    others: int,
    rest: RestFunction,
) -> Pair:
    """Coordinate 1 from the one-coordinate draws; for a product, times one shared P."""
    first_mu, first_sigma = (
        measure_valued_component(derivation.base, estimator, p, point) for p in ("mu", "sigma")
    )
    split = len(first_mu.noise)
    end = split + len(first_sigma.noise)
    lanes = others if _needs_rest(derivation, estimator, others) else 0

    def both(*arrays: FloatArray) -> tuple[FloatArray, FloatArray]:
        mu = first_mu.function(*arrays[:split])
        sigma = first_sigma.function(*arrays[split:end])
        if not lanes:  # a sum: (f(x+) + S) - (f(x-) + S) is the difference itself
            return mu, sigma
        with np.errstate(all="ignore"):
            shared = rest(arrays[end:])  # one P for both components
            return mu * shared, sigma * shared

    return Pair.joint_of(first_mu.noise + first_sigma.noise + (NORMAL,) * lanes, both)
