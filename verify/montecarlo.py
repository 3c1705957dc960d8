"""The Monte Carlo engine: reproducible streams of estimator samples, reduced to moments.

The contract:

- :func:`stream_seed` names one independent, reproducible stream of standard normal
  noise per (seed, case, point, estimator, parameter).  The stream's key is
  ``SeedSequence(entropy=seed, spawn_key=(crc32(case name), point, estimator,
  parameter))``: CRC-32 rather than Python's ``hash()``, which is salted per process,
  so the same command prints the same numbers in every run.
- :func:`estimator_function` compiles ``g = f(eps) * w(eps)`` of one estimator at one
  exact point (see :mod:`verify.estimators`) into a vectorised float64 numpy function.
- :func:`sample_moments` draws ``samples`` values of ``g`` chunk by chunk (at most
  :data:`CHUNK_SIZE` at a time, into one reused buffer) and merges each chunk's count,
  mean and sum of squared deviations into the running total (Chan, Golub and LeVeque's
  pairwise update of Welford's algorithm), so memory is bounded by the chunk whatever
  ``samples`` is, and the variance never suffers the cancellation of ``E[g^2] - E[g]^2``.
  Draws are sequential, so the chunk size does not change the samples.

Monte Carlo never supplies a reported value: these moments are only compared with the
exact ones (see :mod:`verify.checks`).

>>> import sympy
>>> from verify.derivation import derive
>>> from verify.evaluation import exact_point
>>> from verify.symbols import Z
>>> g = estimator_function(derive(Z**2), "pathwise", "mu", exact_point({"mu": 1, "sigma": 1}))
>>> moments = sample_moments(g, stream_seed(1, "quadratic", 0, 0, 0), 10_000)
>>> moments.count, round(moments.mean), round(moments.variance)  # exact: 2 and 4
(10000, 2, 4)
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import sympy

from verify.derivation import Derivation
from verify.estimators import ESTIMATORS
from verify.evaluation import ExactPoint
from verify.symbols import EPS

FloatArray = npt.NDArray[np.float64]
SampleFunction = Callable[[FloatArray], FloatArray]

DEFAULT_SAMPLES = 2**21  # see verify.significance and benchmarks/bench_montecarlo.py
DEFAULT_SEED = 20200101  # fixed, so reports can quote results; any integer >= 0 works
# 2**15 float64 values are 256 KiB: large enough that numpy's per-call overhead is
# negligible, small enough that a chunk's temporaries stay in cache and come from the
# allocator's free lists rather than fresh mmap'd pages (measured: 1.3-1.6x faster than
# 2**16..2**18; see benchmarks/bench_montecarlo.py).
CHUNK_SIZE = 2**15


def stream_seed(
    seed: int, case_name: str, point_index: int, estimator_index: int, parameter_index: int
) -> np.random.SeedSequence:
    """The seed of one check's noise stream; equal inputs give equal streams in any process.

    >>> stream_seed(1, "a", 0, 0, 0).spawn_key == stream_seed(1, "a", 0, 0, 0).spawn_key
    True
    """
    key = (zlib.crc32(case_name.encode("utf-8")), point_index, estimator_index, parameter_index)
    return np.random.SeedSequence(entropy=seed, spawn_key=key)


def _vectorised(function: Callable[[float], float]) -> Callable[[FloatArray], FloatArray]:
    """A scalar function applied elementwise (numpy has no erf; math.erf is exact to 1 ulp)."""
    universal = np.frompyfunc(function, 1, 1)

    def apply(values: FloatArray) -> FloatArray:
        return np.asarray(universal(values), dtype=np.float64)

    return apply


_NUMPY_EXTRAS = {"erf": _vectorised(math.erf), "erfc": _vectorised(math.erfc)}


def estimator_expression(
    derivation: Derivation, estimator: str, parameter: str, point: ExactPoint
) -> sympy.Expr:
    """``g(eps)`` of the estimator's ``parameter`` component with the point substituted."""
    spec = ESTIMATORS[estimator]
    expression = derivation.sample_function(spec.uses) * spec.weights[parameter]
    return sympy.sympify(expression.subs(point))


def estimator_function(
    derivation: Derivation, estimator: str, parameter: str, point: ExactPoint
) -> SampleFunction:
    """``g(eps)`` as a float64 numpy function of an array of noise values."""
    expression = estimator_expression(derivation, estimator, parameter, point)
    compiled = sympy.lambdify(EPS, expression, modules=[_NUMPY_EXTRAS, "numpy"])

    def evaluate(eps: FloatArray) -> FloatArray:
        # Overflow to inf and invalid operations become non-finite samples, which
        # sample_moments counts and the checks report; they must not raise.
        with np.errstate(all="ignore"):
            values = np.asarray(compiled(eps), dtype=np.float64)
        if values.shape != eps.shape:  # a constant estimator lambdifies to a scalar
            values = np.full(eps.shape, values, dtype=np.float64)
        return values

    return evaluate


@dataclass(frozen=True)
class Moments:
    """Count, mean and sum of squared deviations (M2) of a sample; ``nonfinite`` counts
    the samples that were inf or nan in float64 (then mean and M2 are nan)."""

    count: int
    mean: float
    m2: float
    nonfinite: int = 0

    @property
    def variance(self) -> float:
        """The unbiased sample variance ``M2 / (count - 1)``."""
        return self.m2 / (self.count - 1) if self.count > 1 else math.nan


EMPTY = Moments(0, 0.0, 0.0)


def merge(first: Moments, second: Moments) -> Moments:
    """The moments of two samples combined (Chan, Golub and LeVeque, 1979).

    >>> merge(Moments(2, 1.0, 2.0), Moments(2, 3.0, 2.0))
    Moments(count=4, mean=2.0, m2=8.0, nonfinite=0)
    """
    count = first.count + second.count
    if first.count == 0 or second.count == 0:
        return first if second.count == 0 else second
    delta = second.mean - first.mean
    mean = first.mean + delta * (second.count / count)
    m2 = first.m2 + second.m2 + delta * delta * (first.count * second.count / count)
    return Moments(count, mean, m2, first.nonfinite + second.nonfinite)


def chunk_moments(values: FloatArray) -> Moments:
    """The moments of one chunk, by two passes; ``values`` is overwritten (no copy)."""
    count = values.size
    total = float(values.sum())
    if not math.isfinite(total):
        nonfinite = int(count - np.count_nonzero(np.isfinite(values)))
        return Moments(count, math.nan, math.nan, max(nonfinite, 1))
    mean = total / count
    np.subtract(values, mean, out=values)
    np.square(values, out=values)
    return Moments(count, mean, float(values.sum()))


def sample_moments(
    function: SampleFunction,
    seed: np.random.SeedSequence,
    samples: int,
    chunk_size: int = CHUNK_SIZE,
) -> Moments:
    """The moments of ``samples`` draws of ``function(eps)``, eps ~ N(0, 1) from ``seed``."""
    generator = np.random.Generator(np.random.PCG64(seed))
    buffer = np.empty(min(chunk_size, samples), dtype=np.float64)
    total = EMPTY
    remaining = samples
    while remaining > 0:
        eps = buffer[: min(chunk_size, remaining)]
        generator.standard_normal(out=eps)
        total = merge(total, chunk_moments(function(eps)))
        remaining -= eps.size
    return total
