"""The report's verdict section: the answer from the proven regions, the grid's beside it.

The contract: :func:`verdict_section` is a pure function of a
:class:`~verify.reporting.gather.CaseReport`: one verdict per gradient component from
its :class:`~verify.analysis.region_verdicts.RegionVerdict` (proven, proven bounds, or
the grid's estimate said in words with the reason), the box budget, a table of the
proven shares per parameter combination and component, and the grid's estimate as a
sentence.  Shares are printed to 0.01% (a verdict's interval is rounded outward, see
:mod:`verify.analysis.region_verdicts`).  The markdown never depends on the PNG maps,
which a run without images does not draw.
"""

from __future__ import annotations

from verify.analysis.region_verdicts import BOUNDS, GRID, PROVEN, RegionVerdict, percent
from verify.analysis.regions import EQUAL, INFINITE, UNDECIDED
from verify.reporting.gather import CaseReport

SYMBOL = {"mu": r"\mu", "sigma": r"\sigma"}
STATUS = {PROVEN: "proven", BOUNDS: "proven bounds", GRID: "grid estimate"}


def status_cell(verdict: RegionVerdict) -> str:
    """How far a component's answer is certified, for a table cell."""
    if verdict.status == BOUNDS:
        return f"proven bounds ({percent(verdict.undecided, up=True)} undecided)"
    return STATUS[verdict.status]


def verdict_section(report: CaseReport) -> str:
    """The whole section."""
    lines = [
        "## Verdict",
        "",
        "| gradient component | verdict | certified |",
        "| --- | --- | --- |",
    ]
    for parameter, verdict in report.region_verdicts.items():
        lines.append(f"| ${SYMBOL[parameter]}$ | {verdict.label} | {status_cell(verdict)} |")
    domain = report.case.domain
    budget = next(iter(report.region_verdicts.values())).budget
    lines += [
        "",
        f"Proven over the domain mu in [{domain.mu[0]:g}, {domain.mu[1]:g}], sigma in "
        f"[{domain.sigma[0]:g}, {domain.sigma[1]:g}] for every combination of the case's "
        'parameter values, by ball arithmetic on boxes (README "Proven regions", '
        "`verify regions`): each box is proven to belong to one estimator at every point "
        f"of it, or left undecided. The search examines at most {budget} boxes per "
        "parameter combination and component (a budget of boxes, not of time, so the "
        "report is the same on every machine); the share where the score function is "
        "lower is then an interval, from the proven area to the proven plus the undecided "
        "area. Shares are of the domain's area, averaged over the combinations.",
        "",
        *_share_table(report),
        "",
        _grid_sentence(report),
    ]
    if report.derivation.is_discontinuous:
        lines += [
            "",
            "r has jumps: the pathwise estimator uses r' where it exists and drops the Dirac "
            "deltas at the jumps, so its mean differs from the gradient (see the bias column "
            "below). A lower variance of a biased estimator is no win.",
        ]
    return "\n".join(lines)


def _share_table(report: CaseReport) -> list[str]:
    lines = [
        "| parameters | component | score lower | pathwise lower | equal | both infinite "
        "| undecided | method | boxes examined |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for parameter, verdict in report.region_verdicts.items():
        for row in verdict.rows:
            shares = [
                row.share(label) for label in ("score", "pathwise", EQUAL, INFINITE, UNDECIDED)
            ]
            cells = " | ".join(f"{100 * share:.2f}%" for share in shares)
            method = f"{row.method}, not searched" if row.boxes_examined == 0 else row.method
            lines.append(
                f"| {row.label} | {parameter} | {cells} | {method} | {row.boxes_examined} |"
            )
    return lines


def _grid_sentence(report: CaseReport) -> str:
    verdicts = report.region_verdicts.items()
    grid = "; ".join(f"{parameter}: {verdict.grid.label}" for parameter, verdict in verdicts)
    return (
        f"Grid estimate, for comparison ({len(report.mu_values)} x {len(report.sigma_values)} "
        "float64 map points per parameter combination, nothing proven between them; shares "
        f"are of all map points): {grid}."
    )
