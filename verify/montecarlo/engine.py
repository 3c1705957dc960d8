"""The Monte Carlo engine: reproducible noise streams, reduced to (co-)moments in bounded memory.

The contract:

- :func:`stream_seed` names one independent, reproducible stream per (seed, case,
  point, index): ``SeedSequence(entropy=seed, spawn_key=(crc32(case name), point,
  index))``, where the point and index are the estimator's, or for estimators sharing
  their noise the first one's (:func:`sample_pairs` draws such a stream once for all;
  :mod:`verify.montecarlo.shared_noise` says which share it).
  CRC-32 rather than Python's ``hash()``, which is salted per process, so the same
  command prints the same numbers in every run.  A stream has one lane per
  primitive draw its sampler needs (see :mod:`verify.montecarlo.noise`); its j-th normal
  (uniform) lane is the Generator of ``SeedSequence(seed, spawn_key=(*key, 0, j))``
  (``(*key, 1, j)``), so streams of different noise kinds can share lanes
  (:mod:`verify.montecarlo.noise_pool`).
- A :class:`Component` is one estimator component as a function of its noise arrays
  (one array per kind in ``noise``; it must not modify them); a :class:`Pair` is both
  gradient components, evaluated on the same noise (``shared``, the product and
  baseline estimators) or on independent noise (the measure-valued estimators).
- :func:`sample_moments` and :func:`sample_pair` draw ``samples`` values chunk by
  chunk (at most :data:`CHUNK_SIZE` at a time, into reused lane buffers) and merge each
  chunk's count, means, sums of squared deviations and, for a pair, the sum of cross
  products into the running total (Chan, Golub and LeVeque's pairwise update of
  Welford's algorithm), so memory is bounded by the chunk whatever ``samples`` is, and
  no (co)variance suffers the cancellation of ``E[xy] - E[x]E[y]``.  Every lane draws
  one value per sample, so the chunk size does not change the samples.

Monte Carlo never supplies a reported value: these moments are only compared with the
exact ones (see :mod:`verify.montecarlo.checks`).

>>> from verify.exact.derivation import derive
>>> from verify.exact.evaluation import exact_point
>>> from verify.montecarlo.samplers import estimator_function
>>> from verify.cases.symbols import Z
>>> g = estimator_function(derive(Z**2), "pathwise", "mu", exact_point({"mu": 1, "sigma": 1}))
>>> moments = sample_moments(g, stream_seed(1, "quadratic", 0, 0), 10_000)
>>> moments.count, round(moments.mean), round(moments.variance)  # exact: 2 and 4
(10000, 2, 4)
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from verify.montecarlo.noise import FloatArray, Noise
from verify.montecarlo.noise_pool import pooled_chunks

SampleFunction = Callable[[FloatArray], FloatArray]
Observer = Callable[[FloatArray, FloatArray], None]
NoiseObserver = Callable[[list[FloatArray], int], None]  # a chunk's noise arrays, samples taken

DEFAULT_SAMPLES = 2**21  # see verify.montecarlo.significance and benchmarks/bench_montecarlo.py
DEFAULT_SEED = 20200101  # fixed, so reports can quote results; any integer >= 0 works
# 2**15 float64 values are 256 KiB: large enough that numpy's per-call overhead is
# negligible, small enough that a chunk's temporaries stay in cache and come from the
# allocator's free lists rather than fresh mmap'd pages (measured: 1.3-1.6x faster than
# 2**16..2**18; see benchmarks/bench_montecarlo.py).
CHUNK_SIZE = 2**15
# A stream over many lanes (d coordinates, M draws per estimate) takes smaller chunks, so
# its lane buffers stay within MAX_CHUNK_VALUES float64 values (16 MiB).
MAX_CHUNK_VALUES = 2**21
MIN_CHUNK_SIZE = 2**10


def chunk_size_for(lanes: int) -> int:
    """The chunk size of a stream with ``lanes`` primitive lanes (a power of two).

    >>> chunk_size_for(1), chunk_size_for(512), chunk_size_for(2048)
    (32768, 4096, 1024)
    """
    fitting = MAX_CHUNK_VALUES >> max(lanes - 1, 0).bit_length()
    return max(MIN_CHUNK_SIZE, min(CHUNK_SIZE, fitting))


def stream_seed(
    seed: int, case_name: str, point_index: int, estimator_index: int
) -> np.random.SeedSequence:
    """The seed of one stream; equal inputs give equal streams in any process.

    >>> stream_seed(1, "a", 0, 0).spawn_key == stream_seed(1, "a", 0, 0).spawn_key
    True
    """
    key = (zlib.crc32(case_name.encode("utf-8")), point_index, estimator_index)
    return np.random.SeedSequence(entropy=seed, spawn_key=key)


@dataclass(frozen=True)
class Component:
    """One estimator component: ``function(*noise arrays)``, one array per kind in ``noise``."""

    noise: tuple[Noise, ...]
    function: Callable[..., FloatArray]


@dataclass(frozen=True)
class Pair:
    """The mu and sigma components, on the same noise (``shared``) or on independent noise.

    ``joint``, when given (shared noise only), computes both components at once -- the
    same values as ``mu`` and ``sigma``, sharing their common factor ``f(eps)``.
    """

    mu: Component
    sigma: Component
    shared: bool
    joint: Callable[..., tuple[FloatArray, FloatArray]] | None = None

    @property
    def noise(self) -> tuple[Noise, ...]:
        return self.mu.noise if self.shared else self.mu.noise + self.sigma.noise

    @staticmethod
    def joint_of(
        noise: tuple[Noise, ...], both: Callable[..., tuple[FloatArray, FloatArray]]
    ) -> Pair:
        """Both components on the same noise, from one function computing the two at once."""
        return Pair(
            Component(noise, lambda *n: both(*n)[0]),
            Component(noise, lambda *n: both(*n)[1]),
            shared=True,
            joint=both,
        )


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


@dataclass(frozen=True)
class PairMoments:
    """The moments of both components and the sum of cross products of their deviations."""

    mu: Moments
    sigma: Moments
    comoment: float

    @property
    def covariance(self) -> float:
        """The unbiased sample covariance ``C / (count - 1)``."""
        count = self.mu.count
        return self.comoment / (count - 1) if count > 1 else math.nan

    @property
    def nonfinite(self) -> int:
        return max(self.mu.nonfinite, self.sigma.nonfinite)


EMPTY_PAIR = PairMoments(EMPTY, EMPTY, 0.0)


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


def merge_pairs(first: PairMoments, second: PairMoments) -> PairMoments:
    """Two pair samples combined: the co-moment gains ``dx dy n1 n2 / n`` (Chan et al.).

    >>> a = PairMoments(Moments(2, 1.0, 2.0), Moments(2, 0.0, 2.0), 2.0)
    >>> merge_pairs(a, PairMoments(Moments(2, 3.0, 2.0), Moments(2, 2.0, 2.0), 2.0)).comoment
    8.0
    """
    if first.mu.count == 0 or second.mu.count == 0:
        return first if second.mu.count == 0 else second
    count = first.mu.count + second.mu.count
    delta_mu = second.mu.mean - first.mu.mean
    delta_sigma = second.sigma.mean - first.sigma.mean
    shift = delta_mu * delta_sigma * (first.mu.count * second.mu.count / count)
    return PairMoments(
        merge(first.mu, second.mu),
        merge(first.sigma, second.sigma),
        first.comoment + second.comoment + shift,
    )


def chunk_moments(values: FloatArray) -> Moments:
    """The moments of one chunk, by two passes; ``values`` is overwritten (no copy)."""
    count = values.size
    total = float(values.sum())
    if not math.isfinite(total):
        nonfinite = int(count - np.count_nonzero(np.isfinite(values)))
        return Moments(count, math.nan, math.nan, max(nonfinite, 1))
    mean = total / count
    np.subtract(values, mean, out=values)
    return Moments(count, mean, _dot(values, values))


def chunk_pair_moments(mu: FloatArray, sigma: FloatArray) -> PairMoments:
    """The pair moments of one chunk (the inputs are not modified: they may share memory)."""
    count = mu.size
    totals = (float(mu.sum()), float(sigma.sum()))
    if not all(math.isfinite(total) for total in totals):
        bad = (int(count - np.count_nonzero(np.isfinite(v))) for v in (mu, sigma))
        first, second = (Moments(count, math.nan, math.nan, max(b, 1)) for b in bad)
        return PairMoments(first, second, math.nan)
    means = (totals[0] / count, totals[1] / count)
    deviation_mu, deviation_sigma = mu - means[0], sigma - means[1]
    return PairMoments(
        Moments(count, means[0], _dot(deviation_mu, deviation_mu)),
        Moments(count, means[1], _dot(deviation_sigma, deviation_sigma)),
        _dot(deviation_mu, deviation_sigma),
    )


def _dot(first: FloatArray, second: FloatArray) -> float:
    """sum(first * second) without a temporary.  Not np.dot: OpenBLAS may start threads
    for it, which only contend with the other case processes on 2 cores."""
    return float(np.einsum("i,i->", first, second))


def noise_chunks(
    noise: tuple[Noise, ...], seed: np.random.SeedSequence, samples: int, chunk_size: int
) -> Iterator[list[FloatArray]]:
    """Chunks of noise (one array per kind), each lane from its own Generator
    (:func:`verify.montecarlo.noise_pool.pooled_chunks` of this one tuple)."""
    for _, (arrays,) in pooled_chunks([noise], [samples], seed, chunk_size):
        assert arrays is not None  # drawn while samples remain
        yield arrays


def sample_moments(
    component: Component | SampleFunction,
    seed: np.random.SeedSequence,
    samples: int,
    chunk_size: int = CHUNK_SIZE,
) -> Moments:
    """The moments of ``samples`` draws of one component (a bare function: of eps ~ N(0, 1))."""
    if not isinstance(component, Component):
        component = Component(("normal",), component)
    total = EMPTY
    for arrays in noise_chunks(component.noise, seed, samples, chunk_size):
        # chunk_moments may overwrite the noise itself (g = eps): it is redrawn next chunk.
        total = merge(total, chunk_moments(component.function(*arrays)))
    return total


def sample_pair(
    pair: Pair,
    seed: np.random.SeedSequence,
    samples: int,
    chunk_size: int = CHUNK_SIZE,
    observe: Observer | None = None,
) -> PairMoments:
    """The pair moments of ``samples`` joint draws of both components.

    ``observe``, when given, sees each chunk's values of both components, in order
    (the median-of-means blocks of :mod:`verify.montecarlo.robust`); it must not modify them.
    """
    (total,) = sample_pairs([pair], seed, [samples], [observe], chunk_size)
    return total


def pair_values(pair: Pair, arrays: Sequence[FloatArray]) -> tuple[FloatArray, FloatArray]:
    """Both components of ``pair`` on one chunk of its noise arrays."""
    if pair.shared and pair.joint is not None:
        return pair.joint(*arrays)
    split = len(pair.mu.noise)
    sigma_noise = arrays[:split] if pair.shared else arrays[split:]
    return pair.mu.function(*arrays[:split]), pair.sigma.function(*sigma_noise)


def sample_pairs(
    pairs: Sequence[Pair],
    seed: np.random.SeedSequence,
    samples: Sequence[int],
    observers: Sequence[Observer | None],
    chunk_size: int = CHUNK_SIZE,
    noise_observers: Sequence[NoiseObserver | None] | None = None,
) -> list[PairMoments]:
    """Several pairs on one pool of noise lanes (:mod:`verify.montecarlo.noise_pool`; the
    pairs may take different noise kinds): pair ``i`` gets the moments of its first
    ``samples[i]`` draws.  ``noise_observers[i]``, when given, sees the noise of those
    draws, chunk by chunk, before any pair is evaluated (the control variates of
    :mod:`verify.montecarlo.control_variates`).

    Each lane is drawn once, up to the most draws a pair reading it needs, and a pair is
    evaluated only on the chunks it still needs; each pair sees the chunks a stream of its
    own count would give it (the same cuts, its last chunk truncated), so its moments are
    exactly :func:`sample_pair`'s on the same seed and chunk size.
    """
    totals = [EMPTY_PAIR] * len(samples)
    drawn = 0
    noises = [pair.noise for pair in pairs]
    for size, chunk in pooled_chunks(noises, samples, seed, chunk_size):
        for index, noise_observer in enumerate(noise_observers or ()):
            noise = chunk[index]
            if noise_observer is not None and noise is not None:
                noise_observer(noise, min(size, samples[index] - drawn))
        for index, (pair, wanted) in enumerate(zip(pairs, samples, strict=True)):
            arrays = chunk[index]
            if arrays is None:
                continue
            take = min(size, wanted - drawn)
            values = pair_values(pair, arrays)
            mu, sigma = values if take == size else (values[0][:take], values[1][:take])
            observe = observers[index]
            if observe is not None:
                observe(mu, sigma)
            totals[index] = merge_pairs(totals[index], chunk_pair_moments(mu, sigma))
        drawn += size
    return totals
