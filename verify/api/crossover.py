"""``verify.crossover``: where the pathwise and score variances cross along one variable.

Contract: :func:`crossover` varies ``mu``, ``sigma`` or a case parameter over
``[low, high]`` with every other value fixed and returns a :class:`CrossoverResult`
whose :meth:`~CrossoverResult.to_json` is what ``verify crossover --json`` prints::

    {"case": str, "vary": str, "range": [low, high], "at": {name: float},
     "method": "closed-form" | "quadrature", "grid_points": int,
     "crossovers": {"mu": [crossover, ...], "sigma": [...]}}

with each crossover ``{"at": float, "below": str|null, "above": str|null,
"touch": bool, "kind": "crossing"|"touch"|"interval"|"jump"|"endpoint"}`` plus
``"until": float`` for an interval (see :mod:`verify.analysis.crossover`).  Without
``range`` the case's domain interval is used for mu and sigma, and the span of a
parameter's listed values for a parameter.  Bad input (unknown name, a range that is
not low < high, a sigma range reaching 0, a missing value) raises
:class:`~verify.cases.case.CaseError` with the command's one line.

>>> from verify.api.case import Case
>>> result = crossover(Case("cos(k*z)", parameters={"k": [0.5, 4]}), "k", at={"mu": 1, "sigma": 1})
>>> [(round(float(c.at), 6), c.below, c.above) for c in result.crossovers["mu"]]
[(1.063782, 'pathwise', 'score')]
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

import mpmath

from verify.analysis.crossover import Crossover, CrossoverSearch, search_crossovers
from verify.api.case import Case, CaseLike, complete_point
from verify.cases.case import CaseError
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.dimension import derive_case

_SOURCES = {
    "closed-form": "the exact formulas at 50 digits",
    "quadrature": "labelled 40-digit quadrature",
}
_SHOWN_DIGITS = 15


@dataclass(frozen=True)
class CrossoverResult:
    """The crossovers of each gradient component along ``vary``."""

    case: Case
    vary: str
    bounds: tuple[float, float]
    fixed: dict[str, float]
    searches: dict[str, CrossoverSearch]

    @property
    def crossovers(self) -> dict[str, list[Crossover]]:
        """Per gradient component, every crossover found, in increasing order."""
        return {p: s.crossovers for p, s in self.searches.items()}

    def to_dict(self) -> dict[str, object]:
        """The JSON object as a dict (see the module docstring)."""
        methods = {s.method for s in self.searches.values()}
        return {
            "case": self.case.name,
            "vary": self.vary,
            "range": list(self.bounds),
            "at": self.fixed,
            "method": "quadrature" if "quadrature" in methods else "closed-form",
            "grid_points": max(s.grid_points for s in self.searches.values()),
            "crossovers": {
                p: [c.as_json() for c in s.crossovers] for p, s in self.searches.items()
            },
        }

    def to_json(self) -> str:
        """What ``verify crossover --json`` prints."""
        return json.dumps(self.to_dict())

    def to_text(self) -> str:
        """A readable table of the crossovers (the command's text output)."""
        record = self.to_dict()
        at = ", ".join(f"{name}={value:g}" for name, value in self.fixed.items())
        low, high = self.bounds
        lines = [
            f"case {self.case.name}: {self.case.title}",
            f"crossovers along {self.vary} in [{low:g}, {high:g}] at {at}",
            f"({record['method']}, {record['grid_points']} grid points; each crossover located "
            f"to relative 1e-12 from {_SOURCES[str(record['method'])]})",
            "",
            f"{'component':<10} {self.vary:>22} {'':>22}  {'below':<9} {'above':<9} kind",
        ]
        for parameter, search in self.searches.items():
            if not search.crossovers:
                lines.append(f"{parameter:<10} {'none':>22}")
            lines += [_row(parameter, crossover) for crossover in search.crossovers]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        lines = [
            f"**{self.case.name}**: crossovers along {self.vary} in "
            f"[{self.bounds[0]:g}, {self.bounds[1]:g}]",
            "",
            f"| component | {self.vary} | until | lower below | lower above | kind |",
            "|---|---|---|---|---|---|",
        ]
        for parameter, search in self.searches.items():
            for c in search.crossovers:
                until = "" if c.until is None else _number(c.until)
                lines.append(
                    f"| {parameter} | {_number(c.at)} | {until} | {c.below or '-'} | "
                    f"{c.above or '-'} | {c.kind} |"
                )
            if not search.crossovers:
                lines.append(f"| {parameter} | none | | | | |")
        return "\n".join(lines)


def crossover(
    case: CaseLike,
    vary: str,
    *,
    at: Mapping[str, object] | None = None,
    range: tuple[float, float] | None = None,
    grid_points: int | None = None,
) -> CrossoverResult:
    """The crossovers along ``vary`` with ``at`` fixed; see the module docstring."""
    case = Case.of(case)
    if case.coordinates is not None:
        message = (
            "crossovers are not available for an explicit dimension (z1..zd) yet; "
            "use verify evaluate at the points you need"
        )
        raise CaseError(str(case.path), "dimension", message)
    low, high = (float(b) for b in (default_range(case, vary) if range is None else range))
    problem = range_problem(case, vary, low, high)
    if problem is not None:
        field, reason = problem
        shown = vary if field == "vary" else f"({low:g}, {high:g})"
        raise CaseError(str(case.path), field, f"{shown}: {reason}")
    given = {n: v for n, v in (at or {}).items() if n != vary}
    fixed = complete_point(case, {**given, vary: low})  # the varied value is a placeholder
    del fixed[vary]
    derivation = derive_case(case)
    try:
        searches = {
            p: search_crossovers(derivation, vary, low, high, fixed, p, grid_points)
            for p in GRADIENT_PARAMETERS
        }
    except ValueError as error:
        raise CaseError(str(case.path), "vary", str(error)) from None
    return CrossoverResult(case, vary, (low, high), fixed, searches)


def default_range(case: Case, vary: str) -> tuple[float, float]:
    """The domain interval for mu and sigma; the span of the listed values for a parameter."""
    if vary in ("mu", "sigma"):
        interval: tuple[float, float] = getattr(case.domain, vary)
        return interval
    values = case.parameters.get(vary)
    if values is None or min(values) == max(values):
        raise CaseError(str(case.path), "range", f"give range=(low, high) to vary {vary}")
    return min(values), max(values)


def range_problem(case: Case, vary: str, low: float, high: float) -> tuple[str, str] | None:
    """``(field, reason)`` when ``vary`` over [low, high] cannot be searched, else None.

    ``field`` is ``"vary"`` or ``"range"``; the API and the command prefix the reason
    with what the user wrote (a keyword or an option).
    """
    allowed = ("mu", "sigma", *case.parameter_names)
    if vary not in allowed:
        return "vary", f"expected one of {', '.join(allowed)}"
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        return "range", "expected LOW:HIGH, both finite, with LOW < HIGH"
    if vary == "sigma" and low <= 0:
        return "range", "sigma must stay > 0"
    return None


def _row(parameter: str, crossover: Crossover) -> str:
    until = "" if crossover.until is None else f"to {_number(crossover.until)}"
    below, above = crossover.below or "-", crossover.above or "-"
    return (
        f"{parameter:<10} {_number(crossover.at):>22} {until:>22}  "
        f"{below:<9} {above:<9} {crossover.kind}"
    )


def _number(value: mpmath.mpf | float) -> str:
    return str(mpmath.nstr(mpmath.mpf(value), _SHOWN_DIGITS))
