"""``NAME=NUMBER`` items from the command line (``--at mu=0.3``, ``--perturb variance=1.02``).

The contract: :func:`parse_named_numbers` returns the finite numbers by name, or raises
``ValueError`` whose message is one line naming the item and what is allowed; callers
prefix it with the file and option it came from.

>>> parse_named_numbers(["mu=-1", "k=2"], ("mu", "k"))
{'mu': -1.0, 'k': 2.0}
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def parse_named_numbers(
    items: Sequence[str], allowed: Sequence[str], kind: str = "VALUE", noun: str = "value"
) -> dict[str, float]:
    """``["a=1", ...]`` to ``{"a": 1.0, ...}``; names from ``allowed``, values finite."""
    numbers: dict[str, float] = {}
    for item in items:
        name, separator, text = item.partition("=")
        name = name.strip()
        if not separator or name not in allowed:
            raise ValueError(f"{item}: expected NAME={kind} with NAME one of {', '.join(allowed)}")
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{name}: {text!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"{name}: the {noun} must be finite")
        numbers[name] = number
    return numbers
