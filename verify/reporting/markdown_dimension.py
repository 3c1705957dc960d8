"""The "Does the dimension change the answer?" section of a symbolic-dimension report.

The contract: :func:`dimension_section` is a pure function of a
:class:`~verify.reporting.gather.CaseReport` (its ``dimension`` growth, reference
results and crossovers along d): the per-coordinate estimators as defined in
:mod:`verify.exact.dimension`, a table per listed d at the reference point (coordinate
1's variances, the trace of the whole 2d x 2d covariance, the lower estimator), how
each variance grows with d, the crossovers in d, and the plot of variance against d
(``reports/<case>/dimension.png``).  Numbers in the table are exact values to
:data:`~verify.reporting.cells.TABLE_DIGITS` digits; empty for other cases.
"""

from __future__ import annotations

import math

from verify.analysis.crossover import Crossover
from verify.analysis.dimension_growth import DimensionGrowth
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.results import PointResult, scaled
from verify.reporting.cells import TABLE_DIGITS, lower_cell, short
from verify.reporting.gather import CaseReport

PLOT_FILE = "dimension.png"
_DEFINITIONS = (
    "Every coordinate shares mu and sigma; the numbers are coordinate 1's (all are alike). "
    "Per coordinate i the estimators are: score `r(z) eps_i / sigma` and "
    "`r(z) (eps_i^2 - 1) / sigma`; pathwise `dr/dz_i` and `(dr/dz_i) eps_i`; the baselines "
    "as in one dimension (`b = E[r]`, or `E[r s_i^2] / E[s_i^2]`); measure-valued: coordinate "
    "i replaced by the weak-derivative draws while the other coordinates keep one shared base "
    "sample, as in deepmind/mc_gradients.  The trace is that of the whole 2d x 2d covariance, "
    "d times coordinate 1's: the total variance that SGD feels."
)


def dimension_section(report: CaseReport) -> str:
    """The whole section, or "" for a case without a symbolic dimension."""
    growth = report.dimension
    if growth is None:
        return ""
    name = growth.dimension.parameter
    at = ", ".join(f"{k} = {v:g}" for k, v in growth.fixed.items() if k != name)
    lines = [
        "## Does the dimension change the answer?",
        "",
        f"r(z) is the {growth.dimension.combine} of f over {name} coordinates. {_DEFINITIONS}",
        "",
        f"At {at}:",
        "",
        f"| {name} | component | Var score | Var pathwise | lower | trace score | trace pathwise |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for d, result in rows(report, growth):
        for parameter in GRADIENT_PARAMETERS:
            score, pathwise = (result.variances[e][parameter] for e in ("score", "pathwise"))
            traces = [short(scaled(result.trace(e), d)) for e in ("score", "pathwise")]
            lines.append(
                f"| {d:g} | {parameter} | {short(score)} | {short(pathwise)} | "
                f"{lower_cell(score, pathwise)} | {traces[0]} | {traces[1]} |"
            )
    lines += ["", *_growth_lines(growth), "", *_crossover_lines(report, name)]
    lines += ["", f"![variance against {name}]({report.case.name}/{PLOT_FILE})"]
    return "\n".join(lines)


def rows(report: CaseReport, growth: DimensionGrowth) -> list[tuple[float, PointResult]]:
    """The reference results whose other parameters are the plotted ones, by d."""
    name = growth.dimension.parameter
    rows = []
    for combination, result in zip(report.combinations, report.reference_results, strict=True):
        others = {k: v for k, v in combination.items() if k != name}
        if all(growth.fixed.get(k) == v for k, v in others.items()):
            rows.append((combination[name], result))
    return rows


def _growth_lines(growth: DimensionGrowth) -> list[str]:
    name = growth.dimension.parameter
    if growth.dimension.combine == "product":
        return [
            "**Growth.** Every second moment is its one-coordinate value times "
            f"`E[f^2]^({name} - 1)`, with `E[f^2] = {growth.rate:.{TABLE_DIGITS}g}` here: every "
            f"estimator's variance changes by that factor per coordinate, so the ratio of two "
            f"estimators' variances tends to a constant as {name} grows.",
        ]
    lines = ["**Growth in d** (the degree of each variance as an exact polynomial in d):", ""]
    for estimator, components in growth.growth.items():
        shown = ", ".join(f"{p}: {g}" for p, g in components.items())
        lines.append(f"- {estimator}: {shown}")
    return lines


def _crossover_lines(report: CaseReport, name: str) -> list[str]:
    found = report.crossovers.get(name, {})
    lines = [f"**Crossovers in {name}** (the variance formulas continued to real {name}):", ""]
    for parameter in GRADIENT_PARAMETERS:
        crossings = [c for c in found.get(parameter, []) if c.kind in ("crossing", "touch")]
        lines.append(f"- {parameter}: {_crossover_text(crossings, name)}")
    return lines


def _crossover_text(crossings: list[Crossover], name: str) -> str:
    if not crossings:
        return "none in the listed range: the same estimator is lower at every d"
    parts = []
    for crossing in crossings:
        at = float(crossing.at)
        parts.append(
            f"at {name} = {at:.8g} (from {name} = {math.floor(at) + 1} on, "
            f"{crossing.above} is lower)"
        )
    return "; ".join(parts)
