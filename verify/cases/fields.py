"""Field validators for untrusted TOML-like data: a value of the wanted kind, or :class:`Invalid`.

Contract: each validator takes a value and ``where``, the field's dotted name
(``parameters.k``, ``claims[1].quantity``), and returns the value as the wanted type
or raises ``Invalid(where, message)``, with a one-line message saying what is wrong
and what is allowed.  Nothing here knows what a case is: the caller
(:mod:`verify.cases.case_files`) turns an :class:`Invalid` into a
:class:`~verify.cases.case.CaseError` by adding the path.  Values are quoted with
:func:`short`, so that a hostile value cannot flood a message.

>>> number(2, "parameters.k")
2.0
>>> try:
...     number(True, "parameters.k")
... except Invalid as invalid:
...     invalid.args
('parameters.k', 'must be a number, got a boolean')
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping


class Invalid(Exception):
    """Raised by the validators as ``Invalid(field, message)``; the caller adds the path."""


def no_unknown_keys(
    entries: Mapping[str, object], where: str, allowed: tuple[str, ...], *, required: bool = False
) -> None:
    """Invalid for the first key not in ``allowed`` (and, if ``required``, the first missing)."""
    prefix = f"{where}." if where else ""
    unknown = [name for name in entries if name not in allowed]
    if unknown:
        raise Invalid(
            prefix + key(unknown[0]), f"unknown key; allowed keys here: {', '.join(allowed)}"
        )
    missing = [name for name in allowed if required and name not in entries]
    if missing:
        raise Invalid(
            prefix + missing[0], f"missing; this kind of entry needs {' and '.join(allowed)}"
        )


def table(value: object, where: str, allowed: tuple[str, ...] | None = None) -> dict[str, object]:
    """A table (``{}`` when absent), with only ``allowed`` keys if given."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(where, f"must be a table ([{where}]), got {kind(value)}")
    if allowed is not None:
        no_unknown_keys(value, where, allowed)
    return value


def choice(value: object, where: str, allowed: tuple[str, ...]) -> str:
    """One of the ``allowed`` strings."""
    if not isinstance(value, str) or value not in allowed:
        raise Invalid(where, f"unknown value {short(value)}; allowed: {', '.join(allowed)}")
    return value


def number(value: object, where: str, wanted: str = "a number") -> float:
    """A finite int or float (not a bool) of sensible size, as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(where, f"must be {wanted}, got {kind(value)}")
    # TOML integers are unbounded: compare before float() can overflow.
    if (isinstance(value, int) and abs(value) > 10**300) or not math.isfinite(value):
        raise Invalid(where, "must be a finite number of sensible size")
    return float(value)


def interval(value: object, where: str) -> tuple[float, float]:
    """A list ``[low, high]`` of two numbers with ``low < high``."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        got = f"{len(value)} items" if isinstance(value, list) else kind(value)
        raise Invalid(where, f"must be a list [low, high] of two numbers, got {got}")
    low, high = number(value[0], f"{where}[1]"), number(value[1], f"{where}[2]")
    if not low < high:
        raise Invalid(where, f"low ({low}) must be less than high ({high})")
    return (low, high)


def string(value: object, where: str) -> str:
    """A string."""
    if not isinstance(value, str):
        raise Invalid(where, f"must be a string, got {kind(value)}")
    return value


_KINDS = {str: "a string", bool: "a boolean", int: "an integer", float: "a float", list: "an array"}


def kind(value: object) -> str:
    """What a TOML value is, for a message: "a table", "an integer", ..."""
    return "a table" if isinstance(value, dict) else _KINDS.get(type(value), "a date or time")


def key(name: str) -> str:
    """A key as it may appear in a field name: plain if simple, quoted otherwise."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name) else short(name)


def short(value: object) -> str:
    """``repr(value)``, cut to at most 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
