"""The index's "Does the dimension change the answer?" section, from the dimension cases.

The contract: :func:`dimension_record` is what the index needs of one symbolic-dimension
case (JSON-able: it crosses process boundaries), and :func:`dimension_answer` the
section, a pure function of those records: per case, how the score and pathwise
variances of one coordinate grow with d, the crossovers in d, and the lower estimator
at the largest listed d.  Empty when no case has a symbolic dimension.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.reporting.cells import lower_cell
from verify.reporting.gather import CaseReport
from verify.reporting.markdown_dimension import rows

DimensionRecord = dict[str, Any]
_GROWTH_SHOWN = ("score", "pathwise", "score_baseline_mean")


def dimension_record(report: CaseReport) -> DimensionRecord | None:
    """The growths, crossovers in d and lower estimator at the largest d (None: no d)."""
    growth = report.dimension
    if growth is None:
        return None
    name = growth.dimension.parameter
    crossings = report.crossovers.get(name, {})
    largest = max(report.case.parameters[name])
    lower = {
        p: lower_cell(*(result.variances[e][p] for e in ("score", "pathwise")))
        for d, result in rows(report, growth)
        if d == largest
        for p in GRADIENT_PARAMETERS
    }
    return {
        "parameter": name,
        "combine": growth.dimension.combine,
        "rate": growth.rate,
        "growth": {
            e: growth.growth.get(e, {}) for e in ("score", "pathwise", "score_baseline_mean")
        },
        "crossovers": {
            p: [float(c.at) for c in crossings.get(p, []) if c.kind in ("crossing", "touch")]
            for p in GRADIENT_PARAMETERS
        },
        "largest": largest,
        "lower_at_largest": lower,
    }


def dimension_answer(records: Sequence[dict[str, Any]]) -> list[str]:
    """The section (see the module docstring); [] without dimension cases."""
    cases = [r for r in records if r.get("dimension")]
    if not cases:
        return []
    lines = [
        "## Does the dimension change the answer?",
        "",
        "For a latent vector of d coordinates sharing mu and sigma, one coordinate's gradient "
        "estimators, exactly as functions of d (the case reports have the tables and plots):",
        "",
        "| case | r | score variance grows like | with baseline E[r] | pathwise | crossover in d "
        "(mu / sigma) | lower at the largest d (mu / sigma) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for record in cases:
        lines.append(_row(record))
    lines += [
        "",
        "In a **sum** over coordinates the score function multiplies the whole sum by one "
        "coordinate's score, so every other coordinate adds variance: quadratically in d when "
        "E[f] is not 0, linearly once a baseline removes the mean, while the pathwise "
        "estimator of one coordinate does not see the others at all. That is the exact "
        "reason the folklore holds in high-dimensional models. In a **product** every "
        "estimator is multiplied by the same product of the other coordinates, so all "
        "variances change at the same rate per coordinate and the dimension does not "
        "reverse the one-dimensional verdict.",
    ]
    return lines


def _row(record: dict[str, Any]) -> str:
    dimension = record["dimension"]
    growth = dimension["growth"]
    if dimension["combine"] == "product":
        rate = f"E[f^2]^d, E[f^2] = {dimension['rate']:.6g}"
        score = baseline = pathwise = rate
    else:
        score, baseline, pathwise = (
            growth.get(e, {}).get("mu", "") for e in ("score", "score_baseline_mean", "pathwise")
        )
    crossings = " / ".join(
        ", ".join(f"{c:.6g}" for c in dimension["crossovers"][p]) or "none"
        for p in GRADIENT_PARAMETERS
    )
    lower = " / ".join(dimension["lower_at_largest"].get(p, "") for p in GRADIENT_PARAMETERS)
    largest = f"{dimension['largest']:g}"
    return (
        f"| [{record['case']}]({record['case']}.md) | {dimension['combine']} of `{record['r']}` "
        f"| {score} | {baseline} | {pathwise} | {crossings} | {lower} (d = {largest}) |"
    )
