"""The ``verify`` command: one subcommand per stage of the pipeline.

Exit codes, a contract: 0 success; 1 a check failed or a claim was refuted; 2 bad
input (one line on stderr naming the file and the field, no traceback unless
``--debug``).  ``--json`` prints exactly one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from verify.cases.assignments import parse_named_numbers
from verify.cases.case_files import Case, CaseError, load_case
from verify.cases.estimators import ESTIMATOR_NAMES
from verify.cases.parameterization import ParameterizationError
from verify.cli.check import add_check_parser
from verify.cli.crossover import add_crossover_parser
from verify.cli.run import add_run_parser
from verify.cli.text import evaluation_text
from verify.exact.derivation import derive
from verify.exact.evaluation import exact_point
from verify.exact.results import evaluate_point as evaluate_case_point
from verify.exact.results import point_json

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class InputError(Exception):
    """A problem with the command line or a case file, reported as one line."""


def parse_assignments(case: Case, items: Sequence[str], option: str = "--at") -> dict[str, float]:
    """``["mu=0.3", "k=1"]`` to ``{"mu": 0.3, "k": 1.0}``, checked against the case."""
    allowed = ("mu", "sigma", *case.parameter_names)
    try:
        return parse_named_numbers(items, allowed)
    except ValueError as error:
        raise InputError(f"{case.path}: {option} {error}") from None


def complete_point(case: Case, values: dict[str, float]) -> dict[str, float]:
    """Fill single-valued parameters; any other missing name is an error naming it."""
    point = {**case.single_valued, **values}
    missing = [n for n in ("mu", "sigma", *case.parameter_names) if n not in point]
    if missing:
        raise InputError(f"{case.path}: --at: missing value for {', '.join(missing)}")
    if point["sigma"] <= 0:
        raise InputError(f"{case.path}: --at sigma: sigma must be > 0")
    ordered = ("mu", "sigma", *case.parameter_names)
    return {name: point[name] for name in ordered}


def _load(path: str) -> Case:
    try:
        return load_case(path)
    except CaseError as error:
        raise InputError(str(error)) from None


def command_evaluate(arguments: argparse.Namespace) -> int:
    """Exact values of one case at one point."""
    case = _load(arguments.case)
    at = complete_point(case, parse_assignments(case, arguments.at))
    derivation = derive(case.r)
    result = evaluate_case_point(derivation, exact_point(at), ESTIMATOR_NAMES)
    if arguments.json:
        try:
            record = point_json(
                case.name, at, result, derivation.is_discontinuous, case.parameterization
            )
        except ParameterizationError as error:
            raise InputError(f"{case.path}: {error.field}: {error.message}") from None
        print(json.dumps(record))
    else:
        print(evaluation_text(case, derivation, at, result))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="verify",
        description="Exact variances of the score-function and pathwise gradient estimators.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True)

    evaluate = commands.add_parser("evaluate", help="exact values at one point")
    evaluate.add_argument("case", help="a case file, e.g. cases/cosine.toml")
    evaluate.add_argument(
        "--at", action="append", default=[], metavar="NAME=VALUE", help="mu, sigma, parameters"
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(handler=command_evaluate)

    add_run_parser(commands)
    add_crossover_parser(commands)
    add_check_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``verify`` console script."""
    arguments = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = arguments.handler
    try:
        return handler(arguments)
    except InputError as error:
        if arguments.debug:
            raise
        print(str(error), file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as error:  # a bug, not bad input: one line, and how to see more
        if arguments.debug:
            raise
        print(
            f"verify: internal error: {type(error).__name__}: {error} (rerun with --debug "
            "for the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILED
