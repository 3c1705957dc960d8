"""Primitive noise lanes shared by streams of different noise kinds: :func:`pooled_chunks`.

The contract:

- **Lanes.**  A tuple of noise kinds consumes primitive lanes in order
  (:data:`~verify.montecarlo.noise.LANES`): its j-th standard normal primitive is the lane
  ``("normal", j)`` and its j-th uniform one the lane ``("uniform", j)``
  (:func:`lanes_of`).  So ``("normal",)`` reads the first normal lane, score_loo's M eps
  the first M, and the measure-valued ``("rayleigh", "rayleigh", "maxwell", "normal")``
  the first three uniform and the first two normal lanes: within one tuple every lane is
  a different one (its kinds stay independent), across tuples they are shared.
- **Seeds.**  Lane ``(primitive, j)`` is the Generator (PCG64) of ``SeedSequence(seed,
  spawn_key=(*key, p, j))`` with ``p`` 0 for normal and 1 for uniform lanes
  (:func:`lane_seed`), whatever the other tuples drawn with it: a stream's noise is the same
  alone or in any pool on that seed.
- **Chunks.**  Each lane draws one primitive value per sample, chunk by chunk into a
  reused buffer, up to the most samples any tuple reading it needs (a lane nobody needs
  any more is not drawn); the chunk size does not change the values.  A Rayleigh or
  Maxwell draw is computed once per chunk (from copies of its lanes where another kind
  reads them too, which then see them as drawn) and handed to every tuple reading the
  same lanes as the same array; a normal or uniform kind is its lane itself.  The
  arrays are new views every chunk (an identity match is the same chunk) and must not
  be modified.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from verify.montecarlo.noise import LANES, FloatArray, Noise, Primitive, draw, fill

Lane = tuple[Primitive, int]
_PRIMITIVE_INDEX: dict[Primitive, int] = {"normal": 0, "uniform": 1}


def lanes_of(noise: tuple[Noise, ...]) -> list[tuple[Lane, ...]]:
    """The lanes each kind of ``noise`` reads (the module docstring).

    >>> lanes_of(("rayleigh", "maxwell", "normal"))
    [(('uniform', 0),), (('normal', 0), ('uniform', 1)), (('normal', 1),)]
    """
    counts: dict[Primitive, int] = {"normal": 0, "uniform": 0}
    kinds = []
    for kind in noise:
        lanes = []
        for primitive in LANES[kind]:
            lanes.append((primitive, counts[primitive]))
            counts[primitive] += 1
        kinds.append(tuple(lanes))
    return kinds


def lane_seed(seed: np.random.SeedSequence, lane: Lane) -> np.random.SeedSequence:
    """The seed of one lane of the stream ``seed`` (the module docstring)."""
    primitive, ordinal = lane
    key = (*seed.spawn_key, _PRIMITIVE_INDEX[primitive], ordinal)
    return np.random.SeedSequence(seed.entropy, spawn_key=key)


def pooled_chunks(
    noises: Sequence[tuple[Noise, ...]],
    samples: Sequence[int],
    seed: np.random.SeedSequence,
    chunk_size: int,
) -> Iterator[tuple[int, list[list[FloatArray] | None]]]:
    """Chunk by chunk, its size and the noise arrays of every tuple (one array per kind),
    None for a tuple whose ``samples`` are all drawn; all chunks but the last have
    ``chunk_size`` values."""
    layouts = [lanes_of(noise) for noise in noises]
    needed: dict[Lane, int] = {}
    readers: dict[Lane, set[tuple[Noise, tuple[Lane, ...]]]] = {}
    for noise, layout, count in zip(noises, layouts, samples, strict=True):
        for kind, lanes in zip(noise, layout, strict=True):
            for lane in lanes:
                needed[lane] = max(needed.get(lane, 0), count)
                readers.setdefault(lane, set()).add((kind, lanes))
    # A transform may overwrite lanes that nothing else reads (no copy).
    alone = {key for keys in readers.values() for key in keys}
    alone -= {key for keys in readers.values() if len(keys) > 1 for key in keys}
    total = max(samples, default=0)
    generators = {
        lane: np.random.Generator(np.random.PCG64(lane_seed(seed, lane))) for lane in needed
    }
    buffers = {lane: np.empty(min(chunk_size, total), dtype=np.float64) for lane in needed}
    drawn = 0
    while drawn < total:
        size = min(chunk_size, total - drawn)
        filled: dict[Lane, FloatArray] = {}
        for lane, count in needed.items():
            if count > drawn:
                filled[lane] = buffers[lane][:size]
                fill(generators[lane], lane[0], filled[lane])
        made: dict[tuple[Noise, tuple[Lane, ...]], FloatArray] = {}
        chunk: list[list[FloatArray] | None] = []
        for noise, layout, count in zip(noises, layouts, samples, strict=True):
            if count <= drawn:
                chunk.append(None)
                continue
            arrays = []
            for kind, lanes in zip(noise, layout, strict=True):
                if (kind, lanes) not in made:
                    drawn_lanes = [filled[lane] for lane in lanes]
                    made[(kind, lanes)] = _kind_array(kind, drawn_lanes, (kind, lanes) in alone)
                arrays.append(made[(kind, lanes)])
            chunk.append(arrays)
        yield size, chunk
        drawn += size


def _kind_array(kind: Noise, lanes: list[FloatArray], overwrite: bool) -> FloatArray:
    """A kind's values from its lanes, which stay as drawn unless ``overwrite`` (a
    transform of lanes that other kinds read works on copies)."""
    if len(lanes) == 1 and kind == LANES[kind][0]:  # "normal" or "uniform": the lane itself
        return lanes[0]
    return draw(kind, lanes if overwrite else [lane.copy() for lane in lanes])
