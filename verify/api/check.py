"""``verify.check``: the Monte Carlo checks and claims of a case, and their document.

Contract: :func:`check` runs every check of one case (:mod:`verify.montecarlo.checks`)
with thresholds from exact moments and a designed false-alarm rate, and returns a
:class:`CheckResult`; its :meth:`~CheckResult.to_json` is the ``verify check --json``
document for that case.  ``verify check`` runs :func:`check_record` for each case in
its own process and assembles :func:`run_document`.

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

>>> from verify.api.case import Case
>>> result = check(Case("z**2"), samples=2**14, seed=1)
>>> result.failed, len(result.checks) > 0
(False, True)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from verify.api.case import Case, CaseLike
from verify.cases.case import CaseError
from verify.montecarlo.check_records import CaseCheckResult, Check
from verify.montecarlo.checks import check_case, count_checks
from verify.montecarlo.claims import ClaimResult
from verify.montecarlo.engine import DEFAULT_SEED
from verify.montecarlo.sample_size import MAX_SAMPLES, MIN_PLANNED, POWER, RELATIVE_ERROR
from verify.montecarlo.significance import (
    FAMILY_WISE_ALPHA,
    MIN_SAMPLES,
    per_check_alpha,
    threshold,
)

Record = dict[str, Any]


@dataclass(frozen=True)
class CheckResult:
    """The checks and claims of one case, with the run's statistical design."""

    result: CaseCheckResult
    document: Record

    @property
    def checks(self) -> tuple[Check, ...]:
        return self.result.checks

    @property
    def claims(self) -> tuple[ClaimResult, ...]:
        return self.result.claims

    @property
    def failed(self) -> bool:
        """A check failed or a claim was refuted (skipped checks are not failures)."""
        return self.result.failed

    def to_json(self) -> str:
        """The ``verify check --json`` document for this case."""
        return json.dumps(self.document)

    def to_text(self) -> str:
        """The ``verify check`` text for this case."""
        return run_text(self.document)

    def _repr_markdown_(self) -> str:
        return "```\n" + self.to_text() + "\n```"


def check_settings(samples: int | None, seed: int) -> None:
    """ValueError("samples: ..." or "seed: ...") unless the settings are usable."""
    if samples is not None and samples < MIN_SAMPLES:
        raise ValueError(
            f"samples: {samples} is too few; at least {MIN_SAMPLES} are needed "
            "for the z-scores' normal approximation"
        )
    if seed < 0:
        raise ValueError(f"seed: {seed} must be a non-negative integer")


def check(
    case: CaseLike,
    *,
    samples: int | None = None,
    seed: int = DEFAULT_SEED,
    family_size: int | None = None,
    perturb: Mapping[str, float] | None = None,
) -> CheckResult:
    """Run the checks and claims of ``case``; see :func:`verify.montecarlo.checks.check_case`.

    ``family_size`` (default: this case's checks) is the number of checks the
    family-wise false-alarm rate is split over.
    """
    case = Case.of(case)
    try:
        check_settings(samples, seed)
    except ValueError as error:
        field, _, message = str(error).partition(": ")
        raise CaseError(str(case.path), field, message) from None
    size = count_checks(case) if family_size is None else family_size
    result = check_case(case, samples=samples, seed=seed, family_size=size, perturb=perturb)
    document = run_document([result.to_json()], samples, seed, size)
    document["errors"], document["perturb"] = [], dict(perturb or {})
    return CheckResult(result, document)


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
