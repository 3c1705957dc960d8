"""``verify run``: every case in one go, with a summary; one bad case never stops the others.

For each case: load (a bad file is one line on stderr and exit code 2 at the end),
derive every formula, and evaluate both estimators' variances at the case's
reference point for each parameter value.  The summary says, per gradient
component, which estimator has the lower variance there and how each number was
obtained.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from dataclasses import dataclass

from verify.cases import Case, discover_cases, load_cases
from verify.derivation import derive
from verify.estimators import ESTIMATOR_NAMES
from verify.evaluation import exact_point
from verify.results import PointResult, evaluate_point
from verify.symbols import GRADIENT_PARAMETERS


@dataclass(frozen=True)
class CaseSummary:
    """One case's derivation time and its reference-point results."""

    case: Case
    seconds: float
    points: list[tuple[dict[str, float], PointResult]]


def parameter_grid(case: Case) -> list[dict[str, float]]:
    """Every combination of the case's parameter values."""
    names = case.parameter_names
    return [
        dict(zip(names, values, strict=True))
        for values in itertools.product(*(case.parameters[n] for n in names))
    ]


def summarise(case: Case) -> CaseSummary:
    """Derive ``case`` and evaluate it at the reference point for each parameter combination."""
    start = time.perf_counter()
    derivation = derive(case.r)
    points = []
    for parameters in parameter_grid(case):
        at = {**case.reference, **parameters}
        points.append((at, evaluate_point(derivation, exact_point(at), ESTIMATOR_NAMES)))
    return CaseSummary(case, time.perf_counter() - start, points)


def lower_variance(result: PointResult, parameter: str) -> str:
    """Which estimator has the lower variance for ``parameter`` ("tie" within 1e-12 relative)."""
    score = result.variances["score"][parameter].value
    pathwise = result.variances["pathwise"][parameter].value
    if abs(score - pathwise) <= 1e-12 * max(abs(score), abs(pathwise)):
        return "tie"
    return "pathwise" if pathwise < score else "score"


def summary_json(summary: CaseSummary) -> dict[str, object]:
    """The JSON record of one case's summary."""
    return {
        "case": summary.case.name,
        "seconds": round(summary.seconds, 3),
        "points": [
            {
                "at": at,
                "lower": {p: lower_variance(result, p) for p in GRADIENT_PARAMETERS},
                "method": "quadrature"
                if any(n.method == "quadrature" for n in result.numbers().values())
                else "closed-form",
            }
            for at, result in summary.points
        ],
    }


def run_command(arguments: argparse.Namespace) -> int:
    """Derive every case, print a summary, exit 2 if any case file was bad."""
    paths = arguments.cases or discover_cases("cases")
    cases, errors = load_cases(paths)
    for error in errors:
        print(str(error), file=sys.stderr)
    summaries = [summarise(case) for case in cases]
    if arguments.json:
        print(
            json.dumps(
                {"cases": [summary_json(s) for s in summaries], "errors": [str(e) for e in errors]}
            )
        )
    else:
        for summary in summaries:
            record = summary_json(summary)
            print(f"{summary.case.name}: derived in {summary.seconds:.2f} s")
            for point in record["points"]:  # type: ignore[attr-defined]
                at = ", ".join(f"{k}={v:g}" for k, v in point["at"].items())
                lower = ", ".join(f"{p}: {w}" for p, w in point["lower"].items())
                print(f"  at {at}: lower variance {lower} ({point['method']})")
        print(f"{len(summaries)} cases derived, {len(errors)} bad case files")
    return 2 if errors else 0
