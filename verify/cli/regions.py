"""``verify regions``: the domain divided into boxes proven to belong to one estimator.

``verify regions CASE [--at NAME=V ...] [--vary NAME --range LO:HI] [--compare A,B]
[--efficiency] [--min-width W] [--time-limit S] [--json]`` compares two estimators'
variances (default ``score,pathwise``; with ``--efficiency`` variance x cost per
estimate, in evaluations of r) for each gradient component over the case's (mu, sigma)
domain, or along ``--vary`` over ``--range`` with mu, sigma and the other parameters
fixed by ``--at``.  The JSON object is :mod:`verify.api.regions`'s contract.  Bad input
(an unknown name or estimator, a range that is not LO < HI, a sigma range reaching 0)
exits with code 2 and one line on stderr.
"""

from __future__ import annotations

import argparse

from verify.analysis.regions import TIME_LIMIT  # no scipy: the parser stays light
from verify.api.case import Case
from verify.cli.crossover import checked_range
from verify.cli.inputs import InputError, parse_assignments

EXIT_OK = 0


def add_regions_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``regions`` subcommand to the ``verify`` parser."""
    parser = commands.add_parser(
        "regions", help="boxes of the domain proven to belong to one estimator"
    )
    parser.add_argument("case", help="a case file, e.g. cases/cosine.toml")
    parser.add_argument(
        "--at", action="append", default=[], metavar="NAME=VALUE", help="the fixed values"
    )
    parser.add_argument("--vary", metavar="NAME", help="one name made continuous over --range")
    parser.add_argument("--range", metavar="LOW:HIGH", help="the range of --vary, e.g. 0.5:5")
    parser.add_argument("--compare", default="score,pathwise", metavar="A,B", help="two estimators")
    parser.add_argument(
        "--min-width",
        type=float,
        default=None,
        metavar="W",
        help="smallest box side, as a fraction of the domain's (default 2^-10, 2^-26 with --vary)",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=TIME_LIMIT,
        metavar="S",
        help="seconds per component before the rest is reported undecided",
    )
    parser.add_argument(
        "--max-boxes",
        type=int,
        default=None,
        metavar="N",
        help="boxes examined per component before the rest is reported undecided "
        "(unlike --time-limit, the same regions on every machine)",
    )
    parser.add_argument(
        "--efficiency",
        action="store_true",
        help="compare variance x cost per estimate (evaluations of r: the case's [cost] "
        "derivative for pathwise, else 2; M for score_loo) instead of variance",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=command_regions)


def command_regions(arguments: argparse.Namespace) -> int:
    """Prove and print the regions (:func:`verify.api.regions.regions`)."""
    from verify.api.regions import regions  # scipy: only when regions are searched

    case = Case.from_file(arguments.case)
    if (arguments.vary is None) != (arguments.range is None):
        raise InputError(f"{case.path}: --vary and --range: give both or neither")
    bounds = None
    if arguments.range is not None:
        bounds = checked_range(case, arguments.vary, arguments.range)
    width = arguments.min_width
    if width is not None and not 0 < width < 1:
        raise InputError(f"{case.path}: --min-width {width}: expected a number in (0, 1)")
    if not arguments.time_limit > 0:
        raise InputError(f"{case.path}: --time-limit {arguments.time_limit}: expected > 0")
    if arguments.max_boxes is not None and arguments.max_boxes < 1:
        raise InputError(f"{case.path}: --max-boxes {arguments.max_boxes}: expected >= 1")
    result = regions(
        case,
        at=parse_assignments(case, arguments.at),
        vary=arguments.vary,
        range=bounds,
        compare=[name.strip() for name in arguments.compare.split(",")],
        min_width=width,
        time_limit=arguments.time_limit,
        max_boxes=arguments.max_boxes,
        efficiency=arguments.efficiency,
    )
    print(result.to_json() if arguments.json else result.to_text())
    return EXIT_OK
