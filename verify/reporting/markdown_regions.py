"""The report's verdict section: the answer from the proven regions, the grid's beside it.

The contract: :func:`verdict_section` is a pure function of a
:class:`~verify.reporting.gather.CaseReport`: one verdict per gradient component from
its :class:`~verify.analysis.region_verdicts.RegionVerdict` (proven, proven bounds, or
the grid's estimate said in words with the reason), the box budget, a table of the
proven shares per parameter combination and component, and the grid's estimate as a
sentence.  :func:`range_section` shows, for each parameter given as a range, the proven
regions along it and every sign change enclosed in an interval (its ends rounded
outward to 10 digits).  Shares are printed to 0.01% (a verdict's interval is rounded
outward, see :mod:`verify.analysis.region_verdicts`).  The markdown never depends on the PNG maps,
which a run without images does not draw.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal

from verify.analysis.region_rows import RegionsRow
from verify.analysis.region_verdicts import (
    BOUNDS,
    GRID,
    PROVEN,
    RegionVerdict,
    RowShares,
    percent,
    row_shares,
)
from verify.analysis.regions import EQUAL, INFINITE, UNDECIDED, crossings
from verify.cases.case import Domain
from verify.cases.estimators import CLASSIC_ESTIMATORS
from verify.reporting.gather import CaseReport
from verify.reporting.region_report import budget_words

SYMBOL = {"mu": r"\mu", "sigma": r"\sigma"}
STATUS = {PROVEN: "proven", BOUNDS: "proven bounds", GRID: "grid estimate"}
# How a region map colours its boxes (the report's maps and an explicit case's).
REGION_MAP_COLOURS = (
    "each filled with the estimator proven lower at every point of it (blue: pathwise, "
    "red: score, white: equal, black: both infinite), undecided boxes hatched yellow"
)


def status_cell(verdict: RegionVerdict) -> str:
    """How far a component's answer is certified, for a table cell."""
    if verdict.status == BOUNDS:
        return f"proven bounds ({percent(verdict.undecided, up=True)} undecided)"
    if verdict.status == GRID:
        # Nothing of the domain is proven: the undecided share is all of it, said as such
        # beside the proven components' shares.
        return f"{STATUS[GRID]} (100% undecided)"
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
    lines += [
        "",
        f"Proven over the domain mu in [{domain.mu[0]:g}, {domain.mu[1]:g}], sigma in "
        f"[{domain.sigma[0]:g}, {domain.sigma[1]:g}] for every combination of the case's "
        'parameter values, by ball arithmetic on boxes (README "Proven regions", '
        "`verify regions`): each box is proven to belong to one estimator at every point "
        f"of it, or left undecided. The search examines {budget_words()} (a budget of "
        "boxes, not of time, so the report is the same on every machine); the share where "
        "the score function is lower is then an interval, from the proven area to the "
        "proven plus the undecided area. Shares are of the domain's area, averaged over "
        "the combinations.",
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


SHARE_HEADER = (
    "| score lower | pathwise lower | equal | both infinite | undecided | method | boxes examined |"
)


def _share_table(report: CaseReport) -> list[str]:
    lines = [
        f"| parameters | component {SHARE_HEADER}",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for parameter, verdict in report.region_verdicts.items():
        for row in verdict.rows:
            lines.append(f"| {row.label} | {parameter} | {_share_cells(row)} |")
    return lines


def _share_cells(row: RowShares) -> str:
    """The shares, method and boxes of one row and component, as table cells."""
    labels = ("score", "pathwise", EQUAL, INFINITE, UNDECIDED)
    cells = " | ".join(f"{100 * row.share(label):.2f}%" for label in labels)
    method = f"{row.method}, not searched" if row.boxes_examined == 0 else row.method
    return f"{cells} | {method} | {row.boxes_examined}"


def range_section(report: CaseReport) -> str:
    """The proven regions along each parameter given as a range ("" without one)."""
    if not report.range_regions:
        return ""
    lines = [
        "## Along the parameter ranges (proven)",
        "",
        "Each parameter given as a range, mapped continuously by ball arithmetic with the "
        "other names fixed: the share of the range proven for each estimator, and every "
        "change of the lower estimator enclosed in an undecided interval (a crossing). "
        "The tables above take the range's two ends as the parameter's values.",
    ]
    for name, row in report.range_regions.items():
        lines += _range_lines(name, row)
    return "\n".join(lines)


def _grid_sentence(report: CaseReport) -> str:
    grid = "; ".join(
        f"{parameter}: {verdict.label}" for parameter, verdict in report.verdicts.items()
    )
    return (
        f"Grid estimate, for comparison ({len(report.mu_values)} x {len(report.sigma_values)} "
        "float64 map points per parameter combination, nothing proven between them; shares "
        f"are of all map points): {grid}."
    )


def _range_lines(name: str, row: RegionsRow) -> list[str]:
    """The shares along one range, and its crossings."""
    low, high = row.domain[name]
    at = ", ".join(f"{n} = {v:g}" for n, v in row.at.items())
    lines = [
        "",
        f"Along {name} in [{low:g}, {high:g}] at {at}:",
        "",
        f"| component {SHARE_HEADER}",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    side = row.names.index(name)
    found = []
    for component, search in row.searches.items():
        lines.append(
            f"| {component} | {_share_cells(row_shares(name, search, row.methods[component]))} |"
        )
        found += [(component, c) for c in crossings(search, side, CLASSIC_ESTIMATORS)]
    lines += [
        "",
        "| component | crossing enclosed in | below | above |",
        "| --- | --- | --- | --- |",
    ]
    rows = [
        f"| {component} | [{_outward(c.interval[0], ROUND_FLOOR)}, "
        f"{_outward(c.interval[1], ROUND_CEILING)}] | {c.below} | {c.above} |"
        for component, c in found
    ]
    return lines + (rows or ["| none | | | |"])


def _outward(value: float, rounding: str) -> str:
    """``value`` to 10 significant digits, rounded in the direction that keeps it enclosed."""
    return str(+Decimal(value).normalize(Context(prec=10, rounding=rounding)))


def explicit_region_section(verdicts: Mapping[str, RegionVerdict], domain: Domain) -> str:
    """The proven verdicts of an explicit-coordinate case over a common shift and scale."""
    if not verdicts:
        return ""
    lines = [
        "## Proven regions over a common shift and scale",
        "",
        "With every coordinate at the same mean and scale (mu_i = mu, sigma_i = sigma), over "
        f"mu in [{domain.mu[0]:g}, {domain.mu[1]:g}], sigma in [{domain.sigma[0]:g}, "
        f"{domain.sigma[1]:g}]: each component's verdict, proven by ball arithmetic on boxes "
        f'(README "Proven regions"), {budget_words()}; a share where the score '
        "function is lower is an interval from the proven to the proven plus the undecided "
        "area.",
        "",
        "| component | verdict | certified |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {c} | {v.label} | {status_cell(v)} |" for c, v in verdicts.items()]
    lines += ["", f"| parameters | component {SHARE_HEADER}", "|" + " --- |" * 9]
    for component, verdict in verdicts.items():
        lines += [f"| {row.label} | {component} | {_share_cells(row)} |" for row in verdict.rows]
    return "\n".join(lines)
