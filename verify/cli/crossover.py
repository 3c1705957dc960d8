"""``verify crossover``: where the two estimators' variances cross along one variable.

``verify crossover CASE --vary NAME --range LOW:HIGH [--at NAME=VALUE ...] [--json]``
varies ``NAME`` (``mu``, ``sigma`` or a case parameter) over [LOW, HIGH] with the
other values fixed (``--at``; single-valued parameters default to their value) and
lists, for each gradient component, every crossover (see :mod:`verify.analysis.crossover`).
A negative LOW works as is (``--range -3:3``, or ``--range=-3:3``; :mod:`verify.cli.argv`).

The JSON object is :mod:`verify.api.crossover`'s contract.  Bad input (unknown name, a
range that is not LOW < HIGH, a sigma range reaching 0) exits with code 2 and one
line on stderr.
"""

from __future__ import annotations

import argparse
import math

from verify.api.case import Case
from verify.cli.inputs import InputError, parse_assignments

EXIT_OK = 0


def add_crossover_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``crossover`` subcommand to the ``verify`` parser."""
    parser = commands.add_parser(
        "crossover", help="where the pathwise and score variances are equal along one variable"
    )
    parser.add_argument("case", help="a case file, e.g. cases/cosine.toml")
    parser.add_argument("--vary", required=True, metavar="NAME", help="mu, sigma or a parameter")
    parser.add_argument("--range", required=True, metavar="LOW:HIGH", help="e.g. 0.1:10 or -3:3")
    parser.add_argument(
        "--at", action="append", default=[], metavar="NAME=VALUE", help="the fixed values"
    )
    parser.add_argument("--grid-points", type=int, default=None, help="scan grid size")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=command_crossover)


def command_crossover(arguments: argparse.Namespace) -> int:
    """Find and print the crossovers (:func:`verify.api.crossover.crossover`)."""
    from verify.api.crossover import crossover  # scipy: only when crossing

    case = Case.from_file(arguments.case)
    bounds = checked_range(case, arguments.vary, arguments.range)
    result = crossover(
        case,
        arguments.vary,
        at=parse_assignments(case, arguments.at),
        range=bounds,
        grid_points=arguments.grid_points,
    )
    print(result.to_json() if arguments.json else result.to_text())
    return EXIT_OK


def checked_range(case: Case, vary: str, text: str) -> tuple[float, float]:
    """``--range`` for ``--vary``: two numbers that can be searched, else the one-line error."""
    from verify.api.crossover import range_problem  # scipy: only when a range is searched

    bounds = parse_range(case, text)
    problem = range_problem(case, vary, *bounds)
    if problem is not None:
        field, reason = problem
        shown = vary if field == "vary" else text
        raise InputError(f"{case.path}: --{field} {shown}: {reason}")
    return bounds


def parse_range(case: Case, text: str) -> tuple[float, float]:
    """``LOW:HIGH`` to two numbers (their order and sign: :func:`range_problem`)."""
    low_text, separator, high_text = text.partition(":")
    try:
        low, high = float(low_text), float(high_text)
    except ValueError:
        low = high = math.nan
    if not separator or not (math.isfinite(low) and math.isfinite(high)):
        raise InputError(
            f"{case.path}: --range {text}: expected LOW:HIGH, both finite, with LOW < HIGH"
        )
    return low, high
