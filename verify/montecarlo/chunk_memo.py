"""Values computed from one chunk of noise, served again to the next reader of that chunk.

The contract: :func:`verify.montecarlo.engine.sample_pairs` hands every stream of a pool
the same noise array objects for a chunk, in turn, and new array views for every chunk.
So a value computed from a chunk's arrays -- ``f(eps)``, the sum or product over
coordinates 2..d, the control variates' power sums of eps -- can be served again to the
next stream reading *the very same* arrays.  :class:`ChunkMemo` matches by identity (and
an optional ``tag``, e.g. how many draws of the chunk were read), never by value or
shape: through weak references, so it keeps no lane buffer alive and a freed array
never matches.  It keeps the last ``slots`` chunks, the newest first.

>>> import numpy as np
>>> memo: ChunkMemo[float] = ChunkMemo(slots=1)
>>> eps = np.zeros(4)
>>> memo.put([eps], 1.0)
1.0
>>> memo.get([eps]), memo.get([np.zeros(4)])  # an equal array is another chunk
(1.0, None)
"""

from __future__ import annotations

import weakref
from collections.abc import Hashable, Sequence
from typing import Generic, TypeVar

from verify.montecarlo.noise import FloatArray

Value = TypeVar("Value")


class ChunkMemo(Generic[Value]):
    """The values of the last ``slots`` chunks seen (see the module docstring)."""

    def __init__(self, slots: int) -> None:
        self._slots = slots
        self._kept: list[tuple[list[weakref.ref[FloatArray]], Hashable, Value]] = []

    def get(self, arrays: Sequence[FloatArray], tag: Hashable = None) -> Value | None:
        """The value kept for these very arrays (in this order) and ``tag``, or None."""
        for seen, kept_tag, value in self._kept:
            if kept_tag == tag and _same_arrays(seen, arrays):
                return value
        return None

    def put(self, arrays: Sequence[FloatArray], value: Value, tag: Hashable = None) -> Value:
        """Keep ``value`` for these arrays and ``tag`` (the oldest beyond ``slots`` goes)."""
        entry = ([weakref.ref(array) for array in arrays], tag, value)
        self._kept[:] = [entry, *self._kept[: self._slots - 1]]
        return value


def _same_arrays(seen: list[weakref.ref[FloatArray]], arrays: Sequence[FloatArray]) -> bool:
    """The same array objects in the same order (not equal values: the same chunk)."""
    return len(seen) == len(arrays) and all(r() is a for r, a in zip(seen, arrays, strict=True))
