"""``verify run``: every case in one go; one bad case never takes the others down.

The contract: load every case file (a bad file is one line on stderr), then process
each valid case in its own process (:func:`verify.api.report.process_case`,
:mod:`verify.cli.isolation`, with a time and memory limit; with ``--scheduler ADDRESS``,
on a worker of that Dask cluster instead, with the same limits, results and reports:
:mod:`verify.cli.executor`): derive every formula, evaluate both estimators at the
case's reference point for each parameter combination, run the Monte Carlo checks and
claims, and write its report (:mod:`verify.reporting.publish`); then write the index
``reports/README.md``.  Finish with a summary of what failed and why.  Exit code: 2 if
any case file was bad input, else 1 if any case failed (a crash, a time-out, a failed
check or a refuted claim), else 0.  A failed case keeps its previously committed report.

Progress goes to stderr as the cases run (:mod:`verify.cli.progress`: a line as each
case starts and finishes, with its seconds and its checks passed, failed and
skipped, and a bar on a terminal); ``--quiet`` silences it.  Stdout -- the summary,
or with ``--json`` the one JSON object -- does not change.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
from pathlib import Path
from typing import Any

from verify.cases.case_files import discover_cases, load_cases
from verify.cli.executor import add_scheduler_option, run_cases
from verify.cli.inputs import InputError
from verify.cli.isolation import DEFAULT_MEMORY_MIB, DEFAULT_SECONDS
from verify.montecarlo.engine import DEFAULT_SEED

CaseRecord = dict[str, Any]


def print_summary(records: list[CaseRecord], failures: dict[str, str], bad_files: int) -> None:
    """The human summary: one block per case, then what failed."""
    for record in records:
        print(f"{record['case']}: processed in {record['seconds']:.2f} s")
        for point in record["points"]:
            at = ", ".join(f"{k}={v:g}" for k, v in point["at"].items())
            lower = ", ".join(
                f"{p}: {w}" + (" (pathwise biased)" if point["pathwise_biased"][p] else "")
                for p, w in point["lower"].items()
            )
            print(f"  at {at}: lower variance {lower} ({point['method']})")
    for name, reason in failures.items():
        print(f"FAILED {name}: {reason}")
    print(f"{len(records)} cases processed, {len(failures)} failed, {bad_files} bad case files")
    if failures:
        print("see the reports of the failed cases, or rerun one with: verify check CASE_FILE")


def run_command(arguments: argparse.Namespace) -> int:
    """Process every case, print a summary, and say in the exit code whether anything failed."""
    # Imported here, not at the top: `verify evaluate` starts without scipy, hypothesis,
    # matplotlib and rich.
    from verify.api.report import process_case
    from verify.cli.progress import RunProgress
    from verify.montecarlo.checks import count_checks
    from verify.reporting.gather import ReportSettings
    from verify.reporting.index import render_index
    from verify.reporting.publish import write_atomic

    check_options(arguments)
    _preload(images=not arguments.no_images)
    paths = arguments.cases or discover_cases("cases")
    cases, errors = load_cases(paths)
    for error in errors:
        print(str(error), file=sys.stderr)
    settings = ReportSettings(
        samples=arguments.samples,
        seed=arguments.seed,
        family_size=sum(count_checks(case) for case in cases),
    )
    reports = None if arguments.no_reports else Path(arguments.reports)
    with RunProgress([case.name for case in cases], quiet=arguments.quiet) as progress:
        outcomes = run_cases(
            functools.partial(process_case, settings=settings, images=not arguments.no_images),
            cases,
            directory=reports,
            scheduler=arguments.scheduler,
            seconds=arguments.case_timeout,
            memory_mib=arguments.case_memory,
            jobs=arguments.jobs,
            on_start=progress.started,
            on_finish=progress.finished,
        )
    records = [o.value for o in outcomes if o.value is not None]
    failures = {c.name: o.error for c, o in zip(cases, outcomes, strict=True) if o.error}
    failures.update(
        {r["case"]: "a check failed or a claim was refuted" for r in records if r["failed"]}
    )
    if reports is not None:
        index = render_index([r["index"] for r in records if "index" in r], failures)
        write_atomic(reports / "README.md", index.encode("utf-8"))
    if arguments.json:
        document = {"cases": records, "failures": failures, "errors": [str(e) for e in errors]}
        print(json.dumps(document))
    else:
        print_summary(records, failures, len(errors))
    if errors:
        return 2
    return 1 if failures else 0


def _preload(*, images: bool) -> None:
    """Import what every case imports, once here rather than in each forked case process
    (matplotlib's figure and Agg backend, about 0.35 s a case, and the figures of the maps,
    0.2 s; scipy.special)."""
    from verify.montecarlo.kernels import special_functions

    special_functions()
    if images:
        from verify.reporting.plots import prepare_figures

        prepare_figures()  # matplotlib's figure and Agg backend, the fonts, the figures


def check_options(arguments: argparse.Namespace) -> None:
    """InputError (``--option: message``) unless the numeric options are usable."""
    from verify.api.check import check_settings

    try:
        check_settings(arguments.samples, arguments.seed)
    except ValueError as problem:
        raise InputError(f"--{problem}") from None
    limits = {
        "case-timeout": arguments.case_timeout,
        "case-memory": arguments.case_memory,
        "jobs": arguments.jobs,
    }
    for option, value in limits.items():
        if not 0 < value < math.inf:  # also catches nan
            raise InputError(f"--{option}: {value:g} must be a finite number > 0")


def add_run_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``verify run`` and its options."""
    run = commands.add_parser("run", help="process every case (derive, check, report)")
    run.add_argument("cases", nargs="*", help="case files (default: cases/*.toml)")
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.add_argument(
        "--case-timeout",
        type=float,
        default=DEFAULT_SECONDS,
        metavar="SECONDS",
        help=f"wall-clock limit per case (default {DEFAULT_SECONDS:g})",
    )
    run.add_argument(
        "--case-memory",
        type=int,
        default=DEFAULT_MEMORY_MIB,
        metavar="MIB",
        help=f"address-space limit per case (default {DEFAULT_MEMORY_MIB})",
    )
    run.add_argument("--jobs", type=int, default=2, help="cases processed at once (default 2)")
    run.add_argument(
        "--samples",
        type=int,
        default=None,
        help="Monte Carlo samples per stream (default: planned from the exact moments, "
        "so that every variance check detects a 2%% error with probability 0.99)",
    )
    run.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"Monte Carlo seed (default {DEFAULT_SEED})"
    )
    run.add_argument(
        "--reports",
        default="reports",
        metavar="DIR",
        help="where reports are written (default reports/)",
    )
    run.add_argument("--no-reports", action="store_true", help="derive and check only")
    run.add_argument(
        "--no-images",
        action="store_true",
        help="write the markdown reports without their PNG maps and plots (the same markdown; "
        "for CI, which compares only the markdown)",
    )
    add_scheduler_option(run, "the cases")
    run.add_argument(
        "--quiet", action="store_true", help="no progress on stderr (the summary still prints)"
    )
    run.set_defaults(handler=run_command)
