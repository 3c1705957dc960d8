"""``verify check CASE_FILE... [--samples N] [--seed S] [--jobs J] [--perturb NAME=F] [--json]``.

Runs the Monte Carlo checks and settles the claims of each case (see
:mod:`verify.montecarlo.checks`).  The threshold splits the family-wise false-alarm rate over
every check of the invocation.  Sample size: by default each stream's N is planned
from its exact moments so that every variance check flags a 2% error with
probability 0.99 (:mod:`verify.montecarlo.sample_size`: at least 2^21, at most 2^24, in
multiples of the chunk); ``--samples N`` instead fixes N for every stream (at least
10,000) -- for quick runs, and to reproduce a run; each variance check's ``power``
then says what was given up.  ``--perturb variance=1.02`` (also ``mean=F``,
``covariance=F``; repeatable) checks against exact values deliberately multiplied by
F, to measure what the checks catch (:mod:`verify.montecarlo.perturb`); the output and exit
code are as usual.  Exit codes: 0 when every check passed (or was
skipped, with a reason) and every claim holds; 1 when a check failed, a claim was
refuted or a case crashed; 2 for bad input: a bad case file is one line on stderr
(``path: field: message``), the other cases still run, and the exit code is 2 at the
end.  ``--scheduler ADDRESS`` checks the cases on that Dask cluster
(:mod:`verify.cli.executor`), with the same output.  Output is deterministic for a
given seed (no timings), so reports can quote it.

The JSON document is :mod:`verify.api.check`'s contract.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from verify.cases.case_files import load_cases
from verify.cli.executor import add_scheduler_option, run_cases
from verify.cli.inputs import InputError
from verify.montecarlo.engine import DEFAULT_SEED
from verify.montecarlo.sample_size import MAX_SAMPLES, MIN_PLANNED, POWER, RELATIVE_ERROR
from verify.montecarlo.significance import MIN_SAMPLES

if TYPE_CHECKING:
    from verify.api.check import Record
    from verify.cases.case import Case


def add_check_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``verify check`` and its options."""
    check = commands.add_parser("check", help="Monte Carlo checks and claims of each case")
    check.add_argument("cases", nargs="+", metavar="CASE_FILE", help="case files")
    check.add_argument(
        "--samples",
        type=int,
        default=None,
        help=(
            "a fixed number of samples for every stream (at least "
            f"{MIN_SAMPLES:,}; default: planned per stream for {POWER:.0%}% power against "
            f"a {RELATIVE_ERROR:.0%}% variance error, {MIN_PLANNED:,} to {MAX_SAMPLES:,})"
        ),
    )
    check.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"Monte Carlo seed (default {DEFAULT_SEED})"
    )
    check.add_argument("--jobs", type=int, default=2, help="cases checked at once (default 2)")
    check.add_argument(
        "--perturb",
        action="append",
        default=[],
        metavar="NAME=FACTOR",
        help="check against exact means, variances or covariances times FACTOR",
    )
    check.add_argument("--json", action="store_true", help="print one JSON object")
    add_scheduler_option(check, "the cases")
    check.set_defaults(handler=command_check)


def command_check(arguments: argparse.Namespace) -> int:
    """Check every case; see the module docstring for the output and the exit codes."""
    # Imported here, not at the top: `verify evaluate` starts without scipy and hypothesis.
    from verify.api.check import check_settings, record_failed, run_document, run_text
    from verify.montecarlo.checks import count_checks
    from verify.montecarlo.perturb import parse_perturbation

    try:
        check_settings(arguments.samples, arguments.seed)
    except ValueError as problem:
        raise InputError(f"--{problem}") from None
    try:
        perturb = parse_perturbation(arguments.perturb)
    except ValueError as problem:
        raise InputError(f"--perturb: {problem}") from None
    cases, errors = load_cases(arguments.cases)
    for error in errors:
        print(str(error), file=sys.stderr)
    family_size = sum(count_checks(case) for case in cases)
    samples, seed = arguments.samples, arguments.seed
    records = check_cases(
        cases, samples, seed, family_size, arguments.jobs, perturb, arguments.scheduler
    )
    document = run_document(records, samples, seed, family_size)
    document["errors"] = [str(error) for error in errors]
    document["perturb"] = perturb
    print(json.dumps(document) if arguments.json else run_text(document))
    if errors:
        return 2
    return 1 if any(record_failed(record) for record in records) else 0


def check_cases(
    cases: list[Case],
    samples: int | None,
    seed: int,
    family_size: int,
    jobs: int,
    perturb: dict[str, float] | None = None,
    scheduler: str | None = None,
) -> list[Record]:
    """The JSON record of each case, each checked in its own process (a crash is an error).

    The per-case work is what :func:`verify.api.check.check` does; here it is isolated,
    in a local process or on a worker of ``scheduler``'s Dask cluster.
    """
    from verify.montecarlo.checks import check_case

    def work(case: Case, _directory: Path | None) -> Record:
        result = check_case(
            case, samples=samples, seed=seed, family_size=family_size, perturb=perturb
        )
        return result.to_json()

    outcomes = run_cases(work, cases, directory=None, scheduler=scheduler, jobs=jobs)
    return [
        outcome.value
        if outcome.value is not None
        else {"case": case.name, "checks": [], "claims": [], "error": outcome.error}
        for case, outcome in zip(cases, outcomes, strict=True)
    ]
