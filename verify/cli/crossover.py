"""``verify crossover``: where the two estimators' variances cross along one variable.

``verify crossover CASE --vary NAME --range LOW:HIGH [--at NAME=VALUE ...] [--json]``
varies ``NAME`` (``mu``, ``sigma`` or a case parameter) over [LOW, HIGH] with the
other values fixed (``--at``; single-valued parameters default to their value) and
lists, for each gradient component, every crossover (see :mod:`verify.analysis.crossover`).
A negative LOW needs the ``=`` form: ``--range=-3:3``.

The JSON object is a contract (keys are only ever added)::

    {"case": str, "vary": str, "range": [low, high], "at": {name: float},
     "method": "closed-form" | "quadrature", "grid_points": int,
     "crossovers": {"mu": [crossover, ...], "sigma": [...]}}

with each crossover ``{"at": float, "below": str|null, "above": str|null,
"touch": bool, "kind": "crossing"|"touch"|"interval"|"jump"|"endpoint"}`` plus
``"until": float`` for an interval.  Bad input (unknown name, a range that is not
LOW < HIGH, a sigma range reaching 0) exits with code 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import math

import mpmath

from verify.analysis.crossover import Crossover, CrossoverSearch, search_crossovers
from verify.cases.case_files import Case, CaseError, load_case
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.derivation import derive

EXIT_OK = 0
_SOURCES = {
    "closed-form": "the exact formulas at 50 digits",
    "quadrature": "labelled 40-digit quadrature",
}
_SHOWN_DIGITS = 15


def add_crossover_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``crossover`` subcommand to the ``verify`` parser."""
    parser = commands.add_parser(
        "crossover", help="where the pathwise and score variances are equal along one variable"
    )
    parser.add_argument("case", help="a case file, e.g. cases/cosine.toml")
    parser.add_argument("--vary", required=True, metavar="NAME", help="mu, sigma or a parameter")
    parser.add_argument(
        "--range", required=True, metavar="LOW:HIGH", help="e.g. 0.1:10 (use --range=-3:3)"
    )
    parser.add_argument(
        "--at", action="append", default=[], metavar="NAME=VALUE", help="the fixed values"
    )
    parser.add_argument("--grid-points", type=int, default=None, help="scan grid size")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=command_crossover)


def command_crossover(arguments: argparse.Namespace) -> int:
    """Find and print the crossovers; bad input raises :class:`verify.cli.main.InputError`."""
    # Imported here: verify.cli.main imports this module to build its parser.
    from verify.cli.main import InputError, complete_point, parse_assignments

    try:
        case = load_case(arguments.case)
    except CaseError as error:
        raise InputError(str(error)) from None
    try:
        low, high = _parse_range(case, arguments.vary, arguments.range)
    except ValueError as error:
        raise InputError(f"{case.path}: {error}") from None
    vary = arguments.vary
    given = {n: v for n, v in parse_assignments(case, arguments.at).items() if n != vary}
    fixed = complete_point(case, {**given, vary: low})  # the varied value is a placeholder
    del fixed[vary]
    derivation = derive(case.r)
    try:
        searches = {
            p: search_crossovers(derivation, vary, low, high, fixed, p, arguments.grid_points)
            for p in GRADIENT_PARAMETERS
        }
    except ValueError as error:
        raise InputError(f"{case.path}: {error}") from None
    if arguments.json:
        print(json.dumps(crossover_json(case.name, vary, (low, high), fixed, searches)))
    else:
        print(crossover_text(case, vary, (low, high), fixed, searches))
    return EXIT_OK


def crossover_json(
    name: str,
    vary: str,
    bounds: tuple[float, float],
    fixed: dict[str, float],
    searches: dict[str, CrossoverSearch],
) -> dict[str, object]:
    """The ``verify crossover --json`` object (see the module docstring)."""
    methods = {s.method for s in searches.values()}
    return {
        "case": name,
        "vary": vary,
        "range": list(bounds),
        "at": fixed,
        "method": "quadrature" if "quadrature" in methods else "closed-form",
        "grid_points": max(s.grid_points for s in searches.values()),
        "crossovers": {p: [c.as_json() for c in s.crossovers] for p, s in searches.items()},
    }


def crossover_text(
    case: Case,
    vary: str,
    bounds: tuple[float, float],
    fixed: dict[str, float],
    searches: dict[str, CrossoverSearch],
) -> str:
    """A readable table of the crossovers."""
    at = ", ".join(f"{name}={value:g}" for name, value in fixed.items())
    record = crossover_json(case.name, vary, bounds, fixed, searches)
    lines = [
        f"case {case.name}: {case.title}",
        f"crossovers along {vary} in [{bounds[0]:g}, {bounds[1]:g}] at {at}",
        f"({record['method']}, {record['grid_points']} grid points; each crossover located to "
        f"relative 1e-12 from {_SOURCES[str(record['method'])]})",
        "",
        f"{'component':<10} {vary:>22} {'':>22}  {'below':<9} {'above':<9} kind",
    ]
    for parameter, search in searches.items():
        if not search.crossovers:
            lines.append(f"{parameter:<10} {'none':>22}")
        lines += [_row(parameter, crossover) for crossover in search.crossovers]
    return "\n".join(lines)


def _row(parameter: str, crossover: Crossover) -> str:
    until = "" if crossover.until is None else f"to {_number(crossover.until)}"
    below, above = crossover.below or "-", crossover.above or "-"
    return (
        f"{parameter:<10} {_number(crossover.at):>22} {until:>22}  "
        f"{below:<9} {above:<9} {crossover.kind}"
    )


def _number(value: mpmath.mpf | float) -> str:
    return str(mpmath.nstr(mpmath.mpf(value), _SHOWN_DIGITS))


def _parse_range(case: Case, vary: str, text: str) -> tuple[float, float]:
    """The checked ``--vary`` name and ``--range`` bounds; ValueError with the reason."""
    allowed = ("mu", "sigma", *case.parameter_names)
    if vary not in allowed:
        raise ValueError(f"--vary {vary}: expected one of {', '.join(allowed)}")
    low_text, separator, high_text = text.partition(":")
    try:
        low, high = float(low_text), float(high_text)
    except ValueError:
        low = high = math.nan
    if not separator or not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"--range {text}: expected LOW:HIGH, both finite, with LOW < HIGH")
    if vary == "sigma" and low <= 0:
        raise ValueError(f"--range {text}: sigma must stay > 0")
    return low, high
