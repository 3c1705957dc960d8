"""Median-of-means checks: valid whatever the skewness, given only a finite variance.

The contract:

- **When.**  A z-test (:mod:`.significance`, :mod:`.covariance`) trusts the
  normal tail only where its Cornish-Fisher correction is small.  Where it is not --
  too skewed for N, a third (mean) or sixth (variance, covariance) moment infinite, or
  a squared deviation so nearly constant that the sample mean's error dominates --
  the statistic is checked by median of means instead.  Only a moment this check
  itself needs being infinite or undefined still skips.
- **Statistic.**  Each check is of one statistic ``Y`` with an exact mean ``E`` and an
  exact variance ``V``: the mean check ``Y = g`` (``E`` the mean, ``V = sigma^2``); the
  variance check ``Y = (g - m)^2`` with the *exact* mean ``m`` (``E = sigma^2``,
  ``V = mu4 - sigma^4``); the covariance check ``Y = (g_mu - m_mu)(g_sigma - m_sigma)``
  (``E = c``, ``V = mu22 - c^2``).  With exact means there is no sample-mean error.
- **Test.**  The ``N`` samples are cut, in order, into ``k`` blocks (odd ``k``; block
  ``j`` holds samples ``ceil(j N/k)`` to ``ceil((j+1) N/k) - 1``, so at least
  ``B = floor(N/k)`` each).  The check passes when ``|median_j Ybar_j - E| <= 2 sqrt(V/B)``.
- **False alarms <= alpha, for every distribution with finite V.**  Chebyshev: a block
  mean of ``B' >= B`` samples has variance ``V/B' <= V/B``, so it misses ``E`` by more
  than ``2 sqrt(V/B)`` with probability at most 1/4.  The blocks are disjoint runs of
  independent samples, hence independent.  With ``k = 2h + 1``, the median misses by
  more only if at least ``h + 1`` blocks do, so ``P(false alarm) <= P(Bin(k, 1/4) >=
  h + 1) <= exp(-2k (1/2 - 1/4)^2) = exp(-k/8)`` (Hoeffding).  :func:`blocks_for` takes
  the smallest odd ``k`` whose exact binomial tail is at most ``alpha`` -- never more
  than the odd number above ``8 ln(1/alpha)``; 117 blocks at ``alpha = 3.7e-9`` (the
  270 checks of three cases), 129 at ``6.8e-10`` (the 1460 of all 23).  ``N >= k``.
- **Units.**  Reported as ``z = (median - E) / sqrt(V/N)`` within ``+-2 sqrt(N/B)``
  (about ``2 sqrt(k)`` = 22 at k = 117): some 3.7x wider than the z-test's ``t``
  (5.9), so an error of a given size needs some 10x the samples to be seen.
- **Power.**  A claimed ``E`` off by ``Delta`` from the truth is flagged with
  probability at least ``1 - P(Bin(k, V/(B d^2)) >= h + 1)``, ``d = |Delta| - 2 sqrt(V/B)``
  (Chebyshev again, distribution-free: :func:`guaranteed_power`); 99% once ``|Delta|``
  exceeds ``3.6 sqrt(V/B)`` (k = 117 or 129).  When the block means are near-normal (blocks of
  thousands of samples), the median is about normal with standard deviation
  ``sqrt(pi/2) sqrt(V/N)`` and 99% is reached at ``|Delta| >= (2 sqrt(k) + 2.92)
  sqrt(V/N)`` (:func:`approximate_power`).  A variance off by 2% is so flagged once
  ``N >= ((2 sqrt(k) + 2.92) / 0.02)^2 (kurtosis - 1)``.

>>> blocks_for(1e-6)
79
>>> blocks_for(1e-6) <= 8 * math.log(1e6) + 2
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from statistics import NormalDist

import mpmath
import numpy as np

from verify.exact.numbers import Number
from verify.montecarlo.check_moments import ExactMoments
from verify.montecarlo.noise import FloatArray
from verify.montecarlo.outcome import ROUNDING, Outcome

# Each block mean may miss by this many of its standard deviations: P <= 1/4 (Chebyshev).
BLOCK_TOLERANCE = 2.0
BLOCK_MISS = 1 / BLOCK_TOLERANCE**2
BlockStatistic = Callable[[FloatArray, FloatArray], FloatArray]  # Y of (g_mu, g_sigma)


def binomial_tail(trials: int, probability: float, at_least: int) -> float:
    """``P(Bin(trials, probability) >= at_least)``, summed in log space."""
    if at_least <= 0:
        return 1.0
    if probability <= 0.0:
        return 0.0
    if probability >= 1.0:
        return 1.0 if at_least <= trials else 0.0
    logs = [
        math.lgamma(trials + 1)
        - math.lgamma(i + 1)
        - math.lgamma(trials - i + 1)
        + i * math.log(probability)
        + (trials - i) * math.log1p(-probability)
        for i in range(at_least, trials + 1)
    ]
    return min(1.0, sum(math.exp(value) for value in logs))


@lru_cache(maxsize=64)
def blocks_for(alpha: float) -> int:
    """The smallest odd k with ``P(Bin(k, 1/4) >= (k + 1)/2) <= alpha`` (module docstring)."""
    blocks = 1
    while binomial_tail(blocks, BLOCK_MISS, (blocks + 1) // 2) > alpha:
        blocks += 2
    return blocks


def alpha_of(t: float) -> float:
    """The per-check alpha of a two-sided normal threshold ``t``."""
    return math.erfc(t / math.sqrt(2))


def block_size(samples: int, blocks: int) -> int:
    """The smallest block's size, ``floor(N/k)``."""
    return samples // blocks


def bound(variance: float, samples: int, blocks: int) -> float:
    """The accepted ``|median - E|``: ``2 sqrt(V/B)``."""
    return BLOCK_TOLERANCE * math.sqrt(max(variance, 0.0) / block_size(samples, blocks))


class BlockMeans:
    """Accumulates each statistic's block sums chunk by chunk (a ``sample_pair`` observer)."""

    def __init__(self, samples: int, blocks: int, statistics: Sequence[BlockStatistic]) -> None:
        self.samples, self.blocks = samples, blocks
        self.statistics = tuple(statistics)
        self.sums = np.zeros((len(self.statistics), blocks))
        self.seen = 0
        edges = [-(-j * samples // blocks) for j in range(blocks + 1)]  # ceil(j N / k)
        self.starts = np.array(edges[:-1], dtype=np.int64)
        self.counts = np.diff(np.array(edges, dtype=np.float64))

    def __call__(self, mu: FloatArray, sigma: FloatArray) -> None:
        first, end = self.seen, self.seen + mu.size
        # Blocks overlapping [first, end): their starts, clipped to the chunk.
        low = int(np.searchsorted(self.starts, first, side="right")) - 1
        high = int(np.searchsorted(self.starts, end, side="left"))
        offsets = np.maximum(self.starts[low:high], first) - first
        for row, statistic in enumerate(self.statistics):
            self.sums[row, low:high] += np.add.reduceat(statistic(mu, sigma), offsets)
        self.seen = end

    def means(self) -> list[FloatArray]:
        """Each statistic's block means (every sample must have been observed)."""
        if self.seen != self.samples:
            raise ValueError(f"observed {self.seen} of {self.samples} samples")
        return [row / self.counts for row in self.sums]


def median_of_means(block_means: FloatArray) -> float:
    return float(np.median(block_means))


def approximate_power(
    claimed: float, variance: float, samples: int, blocks: int, truth: float, scale: float = 1.0
) -> float:
    """P(flagged) when the true mean is ``truth`` (true variance ``variance * scale^2``),
    the median of near-normal block means being normal with sd ``sqrt(pi/2) sqrt(V/N)``."""
    spread = math.sqrt(math.pi / 2 * max(variance, 0.0) / samples) * scale
    limit, shift = bound(variance, samples, blocks), truth - claimed
    if spread == 0.0:
        return float(abs(shift) > limit)
    normal = NormalDist()
    return normal.cdf((-limit - shift) / spread) + 1 - normal.cdf((limit - shift) / spread)


def guaranteed_power(
    claimed: float, variance: float, samples: int, blocks: int, truth: float, scale: float = 1.0
) -> float:
    """A distribution-free lower bound on P(flagged) (Chebyshev; module docstring)."""
    margin = abs(truth - claimed) - bound(variance, samples, blocks)
    if margin <= 0:
        return 0.0
    miss = max(variance, 0.0) * scale**2 / block_size(samples, blocks) / margin**2
    return 1.0 - binomial_tail(blocks, min(miss, 1.0), (blocks + 1) // 2)


def block_statistics(exact: ExactMoments, component: int) -> dict[str, BlockStatistic]:
    """The statistic Y of each median-of-means check of the ``component``-th component
    (0: mu, 1: sigma) of a pair: ``g``, and ``(g - m)^2`` with the exact mean ``m``."""
    centre = float(exact.mean)

    def mean(*values: FloatArray) -> FloatArray:
        return values[component]

    def variance(*values: FloatArray) -> FloatArray:
        deviation = values[component] - centre
        return np.multiply(deviation, deviation, out=deviation)

    return {"mean": mean, "variance": variance}


def product_statistic(mean_mu: float, mean_sigma: float) -> BlockStatistic:
    """The covariance check's statistic ``(g_mu - m_mu)(g_sigma - m_sigma)``, exact means."""

    def product(mu: FloatArray, sigma: FloatArray) -> FloatArray:
        deviation = mu - mean_mu
        return np.multiply(deviation, sigma - mean_sigma, out=deviation)

    return product


def robust_outcome(
    statistic: str,
    number: Number,
    spread: mpmath.mpf,
    block_means: FloatArray,
    samples: int,
    t: float,
) -> Outcome:
    """The median-of-means verdict: ``|median - E| <= 2 sqrt(V/B)`` (this module).

    ``spread`` is the exact variance V of the statistic; z is in units of ``sqrt(V/N)``.
    """
    count = len(block_means)
    observed = median_of_means(block_means)
    expected = float(number.value)
    variance = max(float(spread), 0.0)
    # A constant statistic (V = 0, e.g. (g - m)^2 for g = +-1) is compared up to rounding.
    slack = ROUNDING * abs(expected)
    limit = bound(variance, samples, count) + slack
    passed = abs(observed - expected) <= limit
    if variance == 0.0:
        return Outcome(statistic, number, observed, None, None, passed, test="median_of_means")
    unit = math.sqrt(variance / samples)
    z, width = (observed - expected) / unit, limit / unit
    return Outcome(
        statistic, number, observed, z, (-width, width), passed, None, "median_of_means", count
    )


def robust_blocks(t: float) -> int:
    """The number of median-of-means blocks at threshold ``t`` (its per-check alpha)."""
    return blocks_for(alpha_of(t))
