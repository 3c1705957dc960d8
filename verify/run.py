"""``verify run``: every case in one go; one bad case never takes the others down.

The contract: load every case file (a bad file is one line on stderr), then process
each valid case in its own process (:mod:`verify.isolation`, with a time and memory
limit): derive every formula and evaluate both estimators' variances at the case's
reference point for each parameter combination.  Finish with a summary of what
failed and why.  Exit code: 2 if any case file was bad input, else 1 if any case
failed (a crash, a time-out), else 0.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from typing import Any

from verify.cases import Case, discover_cases, load_cases
from verify.derivation import derive
from verify.estimators import ESTIMATOR_NAMES
from verify.evaluation import exact_point
from verify.isolation import DEFAULT_MEMORY_MIB, DEFAULT_SECONDS, run_isolated
from verify.results import PointResult, evaluate_point
from verify.symbols import GRADIENT_PARAMETERS

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


def process_case(case: Case) -> CaseRecord:
    """Derive ``case`` and evaluate it at the reference point for each parameter combination."""
    start = time.perf_counter()
    derivation = derive(case.r)
    points = []
    for parameters in parameter_grid(case):
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
    return {"case": case.name, "seconds": round(time.perf_counter() - start, 3), "points": points}


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


def run_command(arguments: argparse.Namespace) -> int:
    """Process every case, print a summary, and say in the exit code whether anything failed."""
    paths = arguments.cases or discover_cases("cases")
    cases, errors = load_cases(paths)
    for error in errors:
        print(str(error), file=sys.stderr)
    outcomes = run_isolated(
        process_case,
        cases,
        seconds=arguments.case_timeout,
        memory_mib=arguments.case_memory,
        jobs=arguments.jobs,
    )
    records = [o.value for o in outcomes if o.value is not None]
    failures = {c.name: o.error for c, o in zip(cases, outcomes, strict=True) if o.error}
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
    run.set_defaults(handler=run_command)
