"""One pool of noise lanes per case, whatever the streams' points and noise kinds: the
same moments as separate streams on the group's seed, each lane drawn once."""

from __future__ import annotations

import numpy as np
import pytest

from verify.montecarlo.engine import Component, Pair, sample_pair, sample_pairs, stream_seed
from verify.montecarlo.shared_noise import Draw, group_of, sample_streams

SQUARE = Pair.joint_of(("normal",), lambda eps: (eps, eps * eps))
CUBE = Pair.joint_of(("normal",), lambda eps: (np.cos(eps), eps**3))
UNIFORM = Pair.joint_of(("uniform",), lambda u: (u, u * u))


@pytest.mark.parametrize("counts", [(10_000, 70_000, 32_768), (1, 2, 3), (65_536, 65_536, 5)])
def test_each_pair_gets_exactly_its_own_stream_on_the_group_seed(
    counts: tuple[int, int, int],
) -> None:
    # The oracle: each pair sampled alone, on the group's seed, with its own count.
    seed = stream_seed(7, "shared", 2, 0)
    pairs = [SQUARE, CUBE, SQUARE]
    together = sample_pairs(pairs, seed, list(counts), [None] * 3, chunk_size=4096)
    for pair, count, moments in zip(pairs, counts, together, strict=True):
        alone = sample_pair(pair, stream_seed(7, "shared", 2, 0), count, chunk_size=4096)
        assert moments == alone


def test_observers_see_only_their_own_draws() -> None:
    seen: list[int] = []
    sample_pairs(
        [SQUARE, CUBE], stream_seed(1, "o", 0, 0),
        [5_000, 20_000], [lambda mu, sigma: seen.append(mu.size), None], chunk_size=4096,
    )  # fmt: skip
    assert sum(seen) == 5_000
    assert seen == [4096, 904]


def test_streams_of_one_chunk_size_form_one_group_whatever_their_point_and_noise() -> None:
    mv = Pair(SQUARE.mu, UNIFORM.mu, shared=False)
    wide = Pair.joint_of(("normal",) * 600, lambda *eps: (eps[0], eps[-1]))
    draws = [Draw((0, 0), SQUARE, 100), Draw((0, 4), mv, 100), Draw((1, 2), UNIFORM, 100)]
    draws.append(Draw((0, 5), wide, 100))  # 600 lanes: smaller chunks, another group
    groups = [group_of(d) for d in draws]
    assert groups[0] == groups[1] == groups[2]
    assert groups[3] != groups[0]


def test_pairs_of_different_noise_read_shared_lanes_as_their_own_streams_would() -> None:
    # The oracle: each pair alone on the pool's seed; the pool only saves drawing.
    mv = Pair(Component(("rayleigh", "maxwell"), lambda r, m: r * m), UNIFORM.mu, shared=False)
    loo = Pair.joint_of(("normal", "normal"), lambda a, b: (a + b, a * b))
    pairs, counts = [SQUARE, mv, loo, UNIFORM], [40_000, 70_000, 10_000, 5]
    seed = stream_seed(3, "pool", 0, 0)
    pooled = sample_pairs(pairs, seed, counts, [None] * 4, chunk_size=4096)
    for pair, count, moments in zip(pairs, counts, pooled, strict=True):
        assert moments == sample_pair(pair, stream_seed(3, "pool", 0, 0), count, chunk_size=4096)


def test_the_first_normal_lane_is_every_streams_first_eps() -> None:
    both = Pair.joint_of(("normal", "normal"), lambda a, b: (a, b))
    pooled = sample_pairs([SQUARE, both], stream_seed(5, "pool", 0, 0), [9_000, 9_000], [None] * 2)
    assert pooled[0].mu == pooled[1].mu  # eps itself, from the same lane
    assert pooled[0].mu != pooled[1].sigma  # the second lane is another one


def test_streams_at_different_points_share_the_first_ones_noise() -> None:
    draws = [Draw((0, 0), SQUARE, 50_000), Draw((2, 0), SQUARE, 30_000)]
    first, second = sample_streams("case", draws, 11)
    assert first == sample_pair(SQUARE, stream_seed(11, "case", 0, 0), 50_000)
    alone = sample_pair(SQUARE, stream_seed(11, "case", 0, 0), 30_000)
    assert second == alone  # the first 30,000 draws of point 0's stream
    assert second != sample_pair(SQUARE, stream_seed(11, "case", 2, 0), 30_000)


def test_a_group_is_drawn_on_its_first_streams_seed() -> None:
    draws = [Draw((3, 0), SQUARE, 50_000), Draw((3, 2), SQUARE, 50_000)]
    first, second = sample_streams("case", draws, 11)
    assert first == second  # the same pair on the same noise
    assert first == sample_pair(SQUARE, stream_seed(11, "case", 3, 0), 50_000)
    # Not the second stream's own seed: a check that it is not silently used.
    assert second != sample_pair(SQUARE, stream_seed(11, "case", 3, 2), 50_000)
