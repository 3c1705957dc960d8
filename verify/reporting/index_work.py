"""The index's per-unit-of-work parts: the "most efficient" column and the side-by-side answer.

The contract: :func:`work_record` extracts what the index needs of one report's
work (:class:`~verify.analysis.reference_work.ReferenceWork`, JSON-able): the most
efficient unbiased estimator per component at the reference point (first parameter
combination), and every combination's efficiency ranking (all estimators by
variance x cost, values exact or certified to 10 digits).  :func:`work_answer`
renders, from the records only, the counts of cases in which each estimator has the
lowest variance per sample and the lowest variance per unit of work, the cases where
the two answers differ, and the efficiency ranking of :data:`RANKED_CASE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verify.analysis.reference_work import efficiency_ranking, most_efficient
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.reporting.cells import short
from verify.reporting.gather import CaseReport, combination_label

RANKED_CASE = "quadratic"  # r = (z - k)**2: the index shows its ranking at mu = sigma = 1
IndexRecord = dict[str, Any]


def _named(estimators: list[str]) -> str:
    return " = ".join(estimators) if estimators else "none finite"


def work_record(report: CaseReport) -> dict[str, Any]:
    """The most efficient estimators at the reference point, and every ranking."""
    if not report.work:
        return {"efficient": {}, "rankings": [], "samples": None, "derivative_cost": None}
    first = report.work[0]
    rankings = []
    for combination, work in zip(report.combinations, report.work, strict=True):
        ranking = {}
        for p in GRADIENT_PARAMETERS:
            unbiased = set(work.unbiased(p))
            ranking[p] = [
                [e, short(work.work.efficiency[e][p]), e in unbiased]
                for e in efficiency_ranking(work, p)
            ]
        rankings.append({"at": combination_label(combination), "ranking": ranking})
    return {
        "efficient": {p: _named(most_efficient(first, p)) for p in GRADIENT_PARAMETERS},
        "rankings": rankings,
        "samples": first.work.samples,
        "derivative_cost": first.work.derivative_cost,
    }


def efficient_cell(record: IndexRecord) -> str:
    """The index column: most efficient for mu / for sigma."""
    efficient = record.get("work", {}).get("efficient", {})
    return f"{efficient.get('mu', '')} / {efficient.get('sigma', '')}"


def _counts(records: Sequence[IndexRecord], key: str) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for record in records:
        for p in GRADIENT_PARAMETERS:
            value = record["lowest"].get(p, "") if key == "lowest" else _efficient(record, p)
            for name in value.split(" = "):
                if name and not name.startswith(("tie", "none")):
                    counts.setdefault(name, dict.fromkeys(GRADIENT_PARAMETERS, 0))[p] += 1
    return counts


def _efficient(record: IndexRecord, parameter: str) -> str:
    return str(record.get("work", {}).get("efficient", {}).get(parameter, ""))


def _side_by_side(records: Sequence[IndexRecord]) -> list[str]:
    lowest, efficient = _counts(records, "lowest"), _counts(records, "efficient")
    names = sorted(set(lowest) | set(efficient))
    lines = [
        "| estimator | lowest variance per sample (cases, mu / sigma) | lowest variance per "
        "unit of work (cases, mu / sigma) |",
        "| --- | --- | --- |",
    ]
    for name in names:
        a = lowest.get(name, dict.fromkeys(GRADIENT_PARAMETERS, 0))
        b = efficient.get(name, dict.fromkeys(GRADIENT_PARAMETERS, 0))
        lines.append(f"| {name} | {a['mu']} / {a['sigma']} | {b['mu']} / {b['sigma']} |")
    return lines


def _differ(records: Sequence[IndexRecord]) -> list[str]:
    differ = [
        f"[{r['case']}]({r['case']}.md) ({p}: {r['lowest'].get(p)} per sample, "
        f"{_efficient(r, p)} per unit of work)"
        for r in records
        for p in GRADIENT_PARAMETERS
        if _efficient(r, p) and r["lowest"].get(p) != _efficient(r, p)
    ]
    return [
        f"The two answers differ in {len(differ)} (case, component) pairs: "
        + ("; ".join(differ) or "none")
        + "."
    ]


def _ranking(records: Sequence[IndexRecord]) -> list[str]:
    ranked = next((r for r in records if r["case"] == RANKED_CASE), None)
    if ranked is None or not ranked.get("work", {}).get("rankings"):
        return []
    lines = [
        "",
        f"### Efficiency ranking of [{RANKED_CASE}]({RANKED_CASE}.md), r = `{ranked['r']}`, at "
        "its reference point",
        "",
        "Every estimator by variance x cost per estimate, least first (exact values to 10 "
        "digits; biased estimators marked, none is biased here unless said).",
        "",
        "| parameters | component | ranking |",
        "| --- | --- | --- |",
    ]
    for entry in ranked["work"]["rankings"]:
        for p in GRADIENT_PARAMETERS:
            cells = [
                f"{name} {value}" + ("" if unbiased else " (biased)")
                for name, value, unbiased in entry["ranking"][p]
            ]
            lines.append(f"| {entry['at']} | {p} | " + " < ".join(cells) + " |")
    return lines


def work_answer(records: Sequence[IndexRecord]) -> list[str]:
    """The section answering both questions side by side."""
    with_work = [r for r in records if r.get("work", {}).get("efficient")]
    if not with_work:
        return []
    return [
        "## Lowest variance per sample, and per unit of work",
        "",
        "The same question at equal compute: variance x cost per estimate (Glynn and Whitt's "
        "work-normalized variance), with cost in evaluations of r per sample (score function "
        "and baselines 1, pathwise the case's derivative cost, default 2, measure-valued 4, "
        "score_loo 1 per sample at the case's M, default 4). Counts are of cases at their "
        "reference point (first parameter combination), among unbiased estimators; a tie "
        "counts for each.",
        "",
        *_side_by_side(with_work),
        "",
        *_differ(with_work),
        *_ranking(records),
    ]
