"""Command-line input: the one-line error for bad options, and ``--at`` items.

Contract: a bad option raises :class:`InputError` whose text is the whole line the
command prints (exit code 2); a bad case file or point raises
:class:`~verify.cases.case.CaseError`, which the command prints the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from verify.cases.assignments import parse_named_numbers
from verify.cases.case import Case
from verify.cases.phi import PhiParameterization


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
    allowed = ("mu", "sigma", *phi, *case.parameter_names)
    try:
        return parse_named_numbers(items, allowed)
    except ValueError as error:
        raise InputError(f"{case.path}: {option} {error}") from None
