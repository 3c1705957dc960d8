"""The index's section on explicit-dimension cases (r in z1..zd).

The contract: :func:`explicit_answer` is a pure function of the index records that
:func:`verify.reporting.explicit_report.explicit_index_record` makes: one row per case
with, per component, the lower of the score and pathwise variances at the reference
point, the verdict per component proven over a common shift and scale of all
coordinates (mu_i = mu, sigma_i = sigma), the lower trace of the two covariances, and
the estimator with the lowest trace among all six.  Empty when no case has an explicit dimension.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def is_explicit(record: dict[str, Any]) -> bool:
    """Whether the record is an explicit-dimension case's (its own table)."""
    return "explicit" in record


def explicit_answer(records: Sequence[dict[str, Any]]) -> list[str]:
    """The section (see the module docstring); [] without explicit cases."""
    cases = [r for r in records if is_explicit(r)]
    if not cases:
        return []
    lines = [
        "## Explicit coordinates: does coupling the coordinates change the answer?",
        "",
        "Costs written in z1..zd over a diagonal Gaussian, compared per component at the "
        "reference point, over the domain with every coordinate at a common mean and scale "
        "(proven regions; the share where the score function is lower), and by the trace "
        "of each estimator's 2d x 2d covariance (the total variance of the gradient vector).",
        "",
        "| case | r | d | lower variance per component (score vs pathwise) "
        "| over a common shift and scale (proven) | lower trace "
        "| lowest trace (all six) | Monte Carlo checks |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for record in cases:
        block = record["explicit"]
        per_component = ", ".join(f"{c}: {w}" for c, w in block["lower"].items())
        proven = ", ".join(f"{c}: {w}" for c, w in block.get("proven", {}).items())
        checks = f"{record['checks_passed']} passed"
        if record["checks_failed"]:
            checks += f", **{record['checks_failed']} failed**"
        if record["checks_skipped"]:
            checks += f", {record['checks_skipped']} skipped"
        lines.append(
            f"| [{record['case']}]({record['case']}.md) | `{record['r']}` | {block['d']} | "
            f"{per_component} | {proven} | {block['trace_lower']} | "
            f"{block['lowest_trace']} | {checks} |"
        )
    mixed = [r for r in cases if len(set(r["explicit"]["lower"].values())) > 1]
    names = ", ".join(f"[{r['case']}]({r['case']}.md)" for r in mixed) or "none"
    lines += [
        "",
        f"Cases where the verdict differs between components of one gradient: {names}. "
        "A single verdict per cost does not exist there: which estimator to use depends on "
        "the coordinate, and the trace weighs them together.",
    ]
    return lines
