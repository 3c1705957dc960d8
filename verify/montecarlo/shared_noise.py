"""All streams of a case drawn from one pool of noise lanes.

The contract: the streams of one case form a group, whatever their check point and
estimator, as long as their chunk sizes agree
(:func:`verify.montecarlo.engine.chunk_size_for` of their lane counts: every stream in one
coordinate, and in d coordinates those of similar d): the noise is that of the standard
variables (eps, R, M, U), which the point only transforms.  A group's lanes are drawn
once (:func:`verify.montecarlo.engine.sample_pairs`,
:mod:`verify.montecarlo.noise_pool`), from the seed of its first stream's key
(:func:`verify.montecarlo.engine.stream_seed`; streams are in point and registry order,
so the first point's score function's), and each stream reads the lanes its noise
kinds name: the product and baseline estimators the first normal lane, score_loo the
first M, a measure-valued estimator its Rayleigh, Maxwell and normal draws from the
first uniform and normal lanes (distinct within the stream, so its components stay
independent).  Each stream takes its own planned number of draws from the start: its
moments are those a stream of its own on that seed would give.

Drawing once saves the generator's work for all but one stream reading a lane (the
primitive draws were about a third of the sampling time of ``exponential`` when only
the estimators of one point and one kind of noise shared them).  The checks of a group
are dependent; every check is still a test of one estimator's exact moments at its
threshold, with the false-alarm rate and power of a stream of its own (its marginal law
is unchanged), and the family-wise false-alarm rate is a union (Bonferroni) bound, which
holds under any dependence.

>>> from verify.montecarlo.engine import Pair
>>> pair = Pair.joint_of(("normal",), lambda eps: (eps, eps * eps))
>>> short, long = sample_streams("c", [Draw((0, 0), pair, 10), Draw((1, 1), pair, 20)], 1)
>>> short.mu.count, long.mu.count
(10, 20)
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from verify.montecarlo.engine import (
    NoiseObserver,
    Observer,
    Pair,
    PairMoments,
    chunk_size_for,
    sample_pairs,
    stream_seed,
)
from verify.montecarlo.noise import primitives


@dataclass(frozen=True)
class Draw:
    """One stream's share of a draw: its seed key, pair, sample count and observer."""

    key: tuple[int, int]  # (point, estimator) indices
    pair: Pair
    samples: int
    observe: Observer | None = None
    observe_noise: NoiseObserver | None = None  # sees the stream's noise (control variates)


def group_of(draw: Draw) -> Hashable:
    """Streams with equal groups share one pool of noise lanes (the module docstring):
    their chunk size."""
    return chunk_size_for(len(primitives(draw.pair.noise)))


def sample_streams(case_name: str, draws: Sequence[Draw], seed: int) -> list[PairMoments]:
    """The pair moments of every draw, each group's lanes drawn once."""
    groups: dict[Hashable, list[int]] = {}
    for index, draw in enumerate(draws):
        groups.setdefault(group_of(draw), []).append(index)
    results: dict[int, PairMoments] = {}
    for members in groups.values():
        first = draws[members[0]]
        moments = sample_pairs(
            [draws[i].pair for i in members],
            stream_seed(seed, case_name, *first.key),
            [draws[i].samples for i in members],
            [draws[i].observe for i in members],
            chunk_size_for(len(primitives(first.pair.noise))),  # the group's
            [draws[i].observe_noise for i in members],
        )
        results |= dict(zip(members, moments, strict=True))
    return [results[index] for index in range(len(draws))]
