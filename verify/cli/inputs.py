"""Command-line input: the one-line error for bad options, and ``--at`` items.

Contract: a bad option raises :class:`InputError` whose text is the whole line the
command prints (exit code 2); a bad case file or point raises
:class:`~verify.cases.case.CaseError`, which the command prints the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from verify.cases.assignments import parse_named_numbers
from verify.cases.case import Case
from verify.cases.coordinates import component_names
from verify.cases.fields import Invalid
from verify.cases.phi import PhiParameterization

T = TypeVar("T", int, float)


class InputError(Exception):
    """A problem with the command line, reported as one line."""


def parse_assignments(case: Case, items: Sequence[str], option: str = "--at") -> dict[str, float]:
    """``["mu=0.3", "k=1"]`` to ``{"mu": 0.3, "k": 1.0}``, checked against the case.

    The names are mu, sigma and the parameters, and for a case in the phi form the phi
    names too (a point in phi; :func:`verify.api.case.complete_phi_point` rejects one
    that also gives mu or sigma).
    """
    form = case.parameterization
    phi = form.phi if isinstance(form, PhiParameterization) else ()
    components = () if case.coordinates is None else component_names(case.coordinates.count)
    allowed = ("mu", "sigma", *components, *phi, *case.parameter_names)
    try:
        return parse_named_numbers(items, allowed)
    except ValueError as error:
        raise InputError(f"{case.path}: {option} {error}") from None


def option_value(
    text: str | None, option: str, kind: type[T], validate: Callable[[object, str], T]
) -> T | None:
    """An option's value read as ``kind`` and validated; ``--option: message`` if bad."""
    if text is None:
        return None
    try:
        value = kind(text)
    except ValueError:
        wanted = "an integer" if kind is int else "a number"
        raise InputError(f"{option}: must be {wanted}, got {text!r}") from None
    try:
        return validate(value, option)
    except Invalid as invalid:
        raise InputError(f"{option}: {invalid.args[1]}") from None
