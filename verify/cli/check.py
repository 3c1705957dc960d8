"""``verify check CASE_FILE... [--samples N] [--seed S] [--jobs J] [--perturb NAME=F] [--json]``.

Runs the Monte Carlo checks and settles the claims of each case (see
:mod:`verify.montecarlo.checks`).  The threshold splits the family-wise false-alarm rate over
every check of the invocation.  Sample size: by default each stream's N is planned
from its exact moments so that every variance check flags a 2% error with
probability 0.99 (:mod:`verify.montecarlo.sample_size`: at least 2^21, at most 2^25, in
multiples of the chunk); ``--samples N`` instead fixes N for every stream (at least
10,000) -- for quick runs, and to reproduce a run; each variance check's ``power``
then says what was given up.  ``--perturb variance=1.02`` (also ``mean=F``,
``covariance=F``; repeatable) checks against exact values deliberately multiplied by
F, to measure what the checks catch (:mod:`verify.montecarlo.perturb`); the output and exit
code are as usual.  Exit codes: 0 when every check passed (or was
skipped, with a reason) and every claim holds; 1 when a check failed, a claim was
refuted or a case crashed; 2 for bad input: a bad case file is one line on stderr
(``path: field: message``), the other cases still run, and the exit code is 2 at the
end.  Output is deterministic for a given seed (no timings), so reports can quote it.

The JSON object is a contract (keys are only ever added)::

    {"cases": [{"case": str,
                "checks": [{"at": {name: float}, "estimator": str,
                            "parameter": "mu" | "sigma" | "mu,sigma",
                            "statistic": "mean" | "variance" | "covariance",
                            "exact": num | null,
                            "monte_carlo": float | null, "z": float | null,
                            "threshold": float, "passed": bool | null,
                            "method": str, "samples": int,
                            "bounds": [low, high], "reason": str, "note": str,
                            "test": "z" | "median_of_means" | "exact",
                            "blocks": int, "robust_reason": str, "power": float}],
                "claims": [{"index": int (from 0), "verdict": "holds" | "refuted",
                            "claim": str, "note": str, "counterexample": {...}}],
                "error": str}],
     "samples": int, "seed": int, "family_wise_alpha": float, "family_size": int,
     "per_check_alpha": float, "threshold": float, "checks_made": int,
     "checks_skipped": int, "errors": [str],
     "sample_size": {"planned": bool, "relative_error": float, "power": float,
                     "minimum": int, "maximum": int},
     "checks_below_power": int, "perturb": {name: float}}

``samples`` at the top is ``--samples`` (fixed) or the planned minimum; each check's
``samples`` is its stream's N.  ``bounds`` is the acceptance interval for ``z``
(passed means ``low <= z <= high``): Cornish-Fisher-corrected for ``test`` "z", and
for "median_of_means" (:mod:`verify.montecarlo.robust`, ``robust_reason`` says why the z-test was
not trusted) ``z`` is the median of ``blocks`` block means in units of the statistic's
``sqrt(V/N)``; "exact" compares a constant up to rounding.  ``power`` (variance
checks made from samples) is the probability that a 2% error in the variance is
flagged at this N; ``checks_below_power`` counts those under 0.99 (the cap bound, or
``--samples`` was too small); ``reason`` comes with every skipped check (``passed`` null);
``exact`` is null only where the plan skipped an estimator before computing its
moments (:mod:`verify.montecarlo.check_plan`); a covariance check has ``parameter`` "mu,sigma";
``error`` only when the case's process crashed or timed out.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from verify.cases.case_files import Case, load_cases
from verify.cli.isolation import run_isolated
from verify.montecarlo.checks import check_case, count_checks
from verify.montecarlo.engine import DEFAULT_SEED
from verify.montecarlo.perturb import parse_perturbation
from verify.montecarlo.sample_size import MAX_SAMPLES, MIN_PLANNED, POWER, RELATIVE_ERROR
from verify.montecarlo.significance import (
    FAMILY_WISE_ALPHA,
    MIN_SAMPLES,
    per_check_alpha,
    threshold,
)

Record = dict[str, Any]


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
            f"{MIN_SAMPLES:,}; default: planned per stream for {POWER:.0%} power against "
            f"a {RELATIVE_ERROR:.0%} variance error, {MIN_PLANNED:,} to {MAX_SAMPLES:,})"
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
    check.set_defaults(handler=command_check)


def command_check(arguments: argparse.Namespace) -> int:
    """Check every case; see the module docstring for the output and the exit codes."""
    from verify.cli.main import InputError  # verify.cli.main imports this module for its parser

    if arguments.samples is not None and arguments.samples < MIN_SAMPLES:
        raise InputError(
            f"--samples: {arguments.samples} is too few; at least {MIN_SAMPLES} are needed "
            "for the z-scores' normal approximation"
        )
    if arguments.seed < 0:
        raise InputError(f"--seed: {arguments.seed} must be a non-negative integer")
    try:
        perturb = parse_perturbation(arguments.perturb)
    except ValueError as problem:
        raise InputError(f"--perturb: {problem}") from None
    cases, errors = load_cases(arguments.cases)
    for error in errors:
        print(str(error), file=sys.stderr)
    family_size = sum(count_checks(case) for case in cases)
    samples, seed = arguments.samples, arguments.seed
    records = check_cases(cases, samples, seed, family_size, arguments.jobs, perturb)
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
) -> list[Record]:
    """The JSON record of each case, each checked in its own process (a crash is an error)."""

    def work(case: Case) -> Record:
        result = check_case(
            case, samples=samples, seed=seed, family_size=family_size, perturb=perturb
        )
        return result.to_json()

    outcomes = run_isolated(work, cases, jobs=jobs)
    return [
        outcome.value
        if outcome.value is not None
        else {"case": case.name, "checks": [], "claims": [], "error": outcome.error}
        for case, outcome in zip(cases, outcomes, strict=True)
    ]


def record_failed(record: Record) -> bool:
    """A check failed, a claim was refuted, or the case crashed."""
    return (
        "error" in record
        or any(check["passed"] is False for check in record["checks"])
        or any(claim["verdict"] == "refuted" for claim in record["claims"])
    )


def run_document(records: list[Record], samples: int | None, seed: int, family_size: int) -> Record:
    """The top-level JSON object (without "errors" and "perturb")."""
    checks = [check for record in records for check in record["checks"]]
    powers = [check["power"] for check in checks if isinstance(check.get("power"), float)]
    return {
        "cases": records,
        "samples": MIN_PLANNED if samples is None else samples,
        "seed": seed,
        "family_wise_alpha": FAMILY_WISE_ALPHA,
        "family_size": family_size,
        "per_check_alpha": per_check_alpha(family_size),
        "threshold": round(threshold(family_size), 6),
        "checks_made": len(checks),
        "checks_skipped": sum(1 for check in checks if check["passed"] is None),
        "sample_size": {
            "planned": samples is None,
            "relative_error": RELATIVE_ERROR,
            "power": POWER,
            "minimum": MIN_PLANNED if samples is None else samples,
            "maximum": MAX_SAMPLES if samples is None else samples,
        },
        "checks_below_power": sum(1 for power in powers if power < POWER),
    }


def run_text(document: Record) -> str:
    """The human-readable report: per case a summary line, then every non-pass."""
    lines = []
    for record in document["cases"]:
        lines.extend(_case_lines(record))
    checks = [check for record in document["cases"] for check in record["checks"]]
    failed = sum(1 for check in checks if check["passed"] is False)
    sizes = [check["samples"] for check in checks] or [document["samples"]]
    lines.append(
        f"{len(document['cases'])} cases, {document['checks_made']} checks with "
        f"{_range(sizes)} samples each (seed {document['seed']}): {failed} failed, "
        f"{document['checks_skipped']} skipped; family-wise false-alarm rate "
        f"{document['family_wise_alpha']:g} over {document['family_size']} checks "
        f"(per check {document['per_check_alpha']:.3g}, |z| <= {document['threshold']:.3f} "
        "before the skewness correction)"
    )
    size = document["sample_size"]
    lines.append(
        f"{document['checks_below_power']} variance checks have less than {size['power']:.0%} "
        f"power against a {size['relative_error']:.0%} error"
        + ("" if size["planned"] else " (--samples fixes N)")
        + (f"; exact values perturbed by {document['perturb']}" if document.get("perturb") else "")
    )
    return "\n".join(lines)


def _range(sizes: list[int]) -> str:
    low, high = min(sizes), max(sizes)
    return f"{low:,}" if low == high else f"{low:,} to {high:,}"


def _case_lines(record: Record) -> list[str]:
    if "error" in record:
        return [f"{record['case']}: FAILED to run: {record['error']}"]
    checks, claims = record["checks"], record["claims"]
    counts = {value: sum(1 for c in checks if c["passed"] is value) for value in (True, False)}
    refuted = sum(1 for claim in claims if claim["verdict"] == "refuted")
    lines = [
        f"{record['case']}: {len(checks)} checks: {counts[True]} passed, {counts[False]} failed, "
        f"{len(checks) - counts[True] - counts[False]} skipped; claims: "
        f"{len(claims) - refuted} hold, {refuted} refuted"
    ]
    lines.extend(_check_line(check) for check in checks if check["passed"] is not True)
    lines.extend(_claim_line(claim) for claim in claims)
    return lines


def _check_line(check: Record) -> str:
    at = ", ".join(f"{name}={value:g}" for name, value in check["at"].items())
    what = f"{check['estimator']} {check['statistic']} ({check['parameter']}) at {at}"
    if check["passed"] is None:
        return f"  skipped {what}: {check['reason']}"
    where = ""
    if "bounds" in check:
        low, z, high = (
            _shown(value) for value in (*check["bounds"][:1], check["z"], check["bounds"][1])
        )
        where = f"z = {z} outside [{low}, {high}]"
        if check.get("test") == "median_of_means":
            where += f" (median of {check['blocks']} block means)"
    return (
        f"  FAILED {what}: exact {check['exact']}, Monte Carlo {check['monte_carlo']} {where}"
    ).rstrip()


def _shown(value: float | str) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _claim_line(claim: Record) -> str:
    # claims[n] counts from 1, as the case-file errors do; the JSON "index" counts from 0.
    text = f"  claims[{claim['index'] + 1}] {claim.get('claim', '')}: {claim['verdict']}"
    if "note" in claim:
        text += f" ({claim['note']})"
    if "counterexample" in claim:
        text += f"; counterexample {json.dumps(claim['counterexample'])}"
    return text
