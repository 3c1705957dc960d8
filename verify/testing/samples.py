"""The user's samples, read into the engine's moments: :func:`user_draw`.

The contract:

- **The sampler.**  ``sampler(n, seed)`` returns one row per sample and one column per
  gradient component: a numpy array, a JAX array, a torch tensor (detached and moved
  to the CPU here), or anything ``numpy.asarray`` reads.  Values are read as float64.
  Any other shape raises ``ValueError`` naming the shape expected.
- **Chunks.**  N samples are asked for in calls of at most :data:`CALL_ROWS` rows, so
  memory stays bounded whatever N is.  When one call suffices it is ``sampler(N,
  seed)``; otherwise call ``i`` gets ``n_i`` rows and its own seed, the first 31 bits of
  ``SeedSequence(seed).spawn(calls)[i]`` (a non-negative int32, which every library
  takes, JAX's jitted arguments included), so the calls are independent streams for any
  sampler that seeds its generator from ``seed`` (``numpy.random.default_rng(seed)``,
  ``jax.random.key(seed)``, ``torch.Generator().manual_seed(seed)``).
- **Moments.**  Each :class:`~verify.montecarlo.shared_noise.Draw` is one pair of
  columns (``columns[draw.key]``); its pair moments are merged chunk by chunk with the
  engine's update (:func:`verify.montecarlo.engine.merge_pairs`), and its observer (the
  median-of-means blocks) sees every row in order, as in ``verify check``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from verify.montecarlo.engine import (
    EMPTY_PAIR,
    PairMoments,
    chunk_pair_moments,
    merge_pairs,
)
from verify.montecarlo.noise import FloatArray
from verify.montecarlo.shared_noise import Draw

Sampler = Callable[[int, int], Any]
CALL_ROWS = 2**20  # rows per call to the sampler: 16 MiB per float64 column


def as_rows(values: Any, rows: int, components: Sequence[str]) -> FloatArray:
    """``values`` as a float64 array of shape (rows, len(components)); ValueError else."""
    if hasattr(values, "detach"):  # a torch tensor: off the autograd graph, onto the CPU
        values = values.detach().cpu().numpy()
    array = np.asarray(values, dtype=np.float64)
    expected = (rows, len(components))
    if array.shape != expected:
        raise ValueError(
            f"sampler({rows}, seed) returned shape {array.shape}; expected {expected}: one row "
            f"per sample, the columns {', '.join(components)}"
        )
    return array


def call_seeds(seed: int, calls: int) -> list[int]:
    """The seed of each call (module docstring): ``seed`` itself for a single call."""
    if calls == 1:
        return [seed]
    children = np.random.SeedSequence(seed).spawn(calls)
    return [int(child.generate_state(1)[0] >> 1) for child in children]


def row_chunks(samples: int, seed: int) -> list[tuple[int, int]]:
    """The (rows, seed) of each call for ``samples`` rows."""
    calls = -(-samples // CALL_ROWS)
    sizes = [min(CALL_ROWS, samples - i * CALL_ROWS) for i in range(calls)]
    return list(zip(sizes, call_seeds(seed, calls), strict=True))


def user_draw(
    sampler: Sampler,
    seed: int,
    components: Sequence[str],
    columns: Mapping[tuple[int, int], tuple[int, int]],
) -> Callable[[list[Draw]], list[PairMoments]]:
    """The ``draw`` of :func:`verify.montecarlo.checks.run_streams` from the user's rows."""

    def draw(draws: list[Draw]) -> list[PairMoments]:
        if not draws:
            return []
        samples = draws[0].samples  # check_estimator fixes one N for every stream
        totals = [EMPTY_PAIR] * len(draws)
        for rows, call_seed in row_chunks(samples, seed):
            array = as_rows(sampler(rows, call_seed), rows, components)
            for index, item in enumerate(draws):
                first, second = columns[item.key]
                mu, sigma = (np.ascontiguousarray(array[:, c]) for c in (first, second))
                if item.observe is not None:
                    item.observe(mu, sigma)
                totals[index] = merge_pairs(totals[index], chunk_pair_moments(mu, sigma))
        return totals

    return draw
