"""The ``verify`` command: one subcommand per stage of the pipeline.

Exit codes, a contract: 0 success; 1 a check failed or a claim was refuted; 2 bad
input (one line on stderr naming the file and the field, no traceback unless
``--debug``).  ``--json`` prints exactly one JSON object on stdout; progress and
errors go to stderr.  Numbers may be negative wherever one is accepted
(``--range -3:3``; see :mod:`verify.cli.argv`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from verify.api.case import Case
from verify.api.evaluation import evaluate
from verify.cases import budget
from verify.cases.case import CaseError
from verify.cli.argv import attach_values
from verify.cli.check import add_check_parser
from verify.cli.crossover import add_crossover_parser
from verify.cli.inputs import InputError, option_value, parse_assignments
from verify.cli.new import add_new_parser
from verify.cli.regions import add_regions_parser
from verify.cli.run import add_run_parser

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def command_evaluate(arguments: argparse.Namespace) -> int:
    """Exact values of one case at one point (:func:`verify.api.evaluation.evaluate`)."""
    case = Case.from_file(arguments.case)
    result = evaluate(
        case,
        samples_per_estimate=option_value(
            arguments.samples_per_estimate, "--samples-per-estimate", int, budget.samples
        ),
        derivative_cost=option_value(
            arguments.derivative_cost, "--derivative-cost", float, budget.derivative_cost
        ),
        **parse_assignments(case, arguments.at),
    )
    print(result.to_json() if arguments.json else result.to_text())
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
    evaluate.add_argument(
        "--samples-per-estimate",
        metavar="M",
        help="samples of score_loo's estimate (default: the case's [estimate] samples, else 4)",
    )
    evaluate.add_argument(
        "--derivative-cost",
        metavar="C",
        help="evaluations of r one r' costs (default: the case's [cost] derivative, else 2)",
    )
    evaluate.set_defaults(handler=command_evaluate)

    add_run_parser(commands)
    add_crossover_parser(commands)
    add_regions_parser(commands)
    add_check_parser(commands)
    add_new_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``verify`` console script.

    An option's value may start with '-' (``--range -3:3``, ``--at mu=-1``,
    ``--r "-z**2"``): :func:`verify.cli.argv.attach_values` joins it to its option.
    """
    parser = build_parser()
    arguments = parser.parse_args(attach_values(parser, sys.argv[1:] if argv is None else argv))
    handler: Callable[[argparse.Namespace], int] = arguments.handler
    try:
        return handler(arguments)
    except (InputError, CaseError) as error:
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
