"""``verify run``: every case in one go; one bad case never takes the others down.

The contract: load every case file (a bad file is one line on stderr), then process
each valid case in its own process (:mod:`verify.cli.isolation`, with a time and memory
limit): derive every formula, evaluate both estimators at the case's reference point
for each parameter combination, run the Monte Carlo checks and claims, and write
its report (:mod:`verify.report.publish`); then write the index ``reports/README.md``.
Finish with a summary of what failed and why.  Exit code: 2 if any case file was
bad input, else 1 if any case failed (a crash, a time-out, a failed check or a
refuted claim), else 0.  A failed case keeps its previously committed report.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

from verify.cases.case_files import Case, discover_cases, load_cases
from verify.cases.estimators import ESTIMATOR_NAMES
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.cli.isolation import DEFAULT_MEMORY_MIB, DEFAULT_SECONDS, run_isolated
from verify.exact.derivation import derive
from verify.exact.evaluation import exact_point
from verify.exact.results import PointResult, evaluate_point
from verify.montecarlo.checks import DEFAULT_SEED, check_case, count_checks
from verify.report.gather import ReportSettings, fingerprint
from verify.report.index import index_record, render_index
from verify.report.publish import write_atomic, write_case_report

CaseRecord = dict[str, Any]


def parameter_grid(case: Case) -> list[dict[str, float]]:
    """Every combination of the case's parameter values, in file order."""
    names = case.parameter_names
    combinations = itertools.product(*(case.parameters[n] for n in names))
    return [dict(zip(names, values, strict=True)) for values in combinations]


def lower_variance(result: PointResult, parameter: str) -> str:
    """Which estimator has the lower variance for ``parameter`` ("tie" within 1e-12 relative)."""
    score = result.variances["score"][parameter].value
    pathwise = result.variances["pathwise"][parameter].value
    if score == pathwise or abs(score - pathwise) <= 1e-12 * max(abs(score), abs(pathwise)):
        return "tie"
    return "pathwise" if pathwise < score else "score"


def process_case(case: Case, reports: Path | None, settings: ReportSettings) -> CaseRecord:
    """Derive, evaluate, check and (when ``reports`` is a directory) report one case."""
    start = time.perf_counter()
    combinations = parameter_grid(case)
    record: CaseRecord = {"case": case.name, "points": reference_points(case, combinations)}
    if reports is not None:
        report, _ = write_case_report(case, reports, settings, combinations)
        record["index"] = index_record(report, fingerprint(case, settings))
        record["failed"] = report.checks_failed
    else:
        result = check_case(
            case, samples=settings.samples, seed=settings.seed, family_size=settings.family_size
        )
        record["checks"] = result.to_json()
        record["failed"] = result.failed
    record["seconds"] = round(time.perf_counter() - start, 3)
    return record


def reference_points(case: Case, combinations: list[dict[str, float]]) -> list[dict[str, Any]]:
    """Which estimator has the lower variance at the reference point, per combination."""
    derivation = derive(case.r)
    points = []
    for parameters in combinations:
        at = {**case.reference, **parameters}
        result = evaluate_point(derivation, exact_point(at), ESTIMATOR_NAMES)
        methods = {number.method for number in result.numbers().values()}
        points.append(
            {
                "at": at,
                "lower": {p: lower_variance(result, p) for p in GRADIENT_PARAMETERS},
                "pathwise_biased": {
                    p: result.bias("pathwise", p).as_json() not in (0.0, "nan")
                    for p in GRADIENT_PARAMETERS
                },
                "method": "quadrature" if "quadrature" in methods else "closed-form",
            }
        )
    return points


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
    outcomes = run_isolated(
        functools.partial(process_case, reports=reports, settings=settings),
        cases,
        seconds=arguments.case_timeout,
        memory_mib=arguments.case_memory,
        jobs=arguments.jobs,
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
    run.set_defaults(handler=run_command)
