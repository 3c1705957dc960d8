"""The report's work section: variance per unit of work at the reference point (issue 12).

The contract: :func:`work_section` is a pure function of a
:class:`~verify.reporting.gather.CaseReport` (its ``work``, one
:class:`~verify.analysis.reference_work.ReferenceWork` per parameter combination):
per combination, the lowest variance per sample beside the most efficient estimator,
a table of cost per sample, variance x cost, samples and r-evaluations needed for a
10% relative standard error per component ("gradient is 0" and the like instead of
infinity), score_loo's variance and covariance as functions of M, and the crossover
in M at equal work.  Numbers are exact closed forms or certified quadrature rounded
to :data:`~verify.reporting.cells.TABLE_DIGITS` digits (the method column says which);
the counts and M are integers decided in ball arithmetic.  :func:`efficiency_maps`
links the efficiency maps that :func:`render_efficiency_map` draws.
"""

from __future__ import annotations

import numpy as np

from verify.analysis.loo_form import LooForm
from verify.analysis.reference_work import ReferenceWork, lowest_per_sample, most_efficient
from verify.cases.budget import LOO_ESTIMATOR
from verify.cases.formulas import as_latex
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.reporting.cells import cell, short
from verify.reporting.gather import (
    CaseReport,
    combination_label,
    efficiency_map_file_name,
    image_links,
)
from verify.reporting.plots import render_ratio_map

SYMBOL = {"mu": r"\mu", "sigma": r"\sigma"}


def work_section(report: CaseReport) -> str:
    """The whole section ("" for a report without reference results)."""
    if not report.work:
        return ""
    at = report.case.reference
    first = report.work[0].work
    lines = [
        f"## Per unit of work at the reference point (mu = {at['mu']:g}, sigma = {at['sigma']:g})",
        "",
        "Cost per sample in evaluations of r: the score function and its baselines 1, "
        f"pathwise {first.costs['pathwise']:g} (r' costs {first.derivative_cost:g} evaluations "
        "of r: the case's `[cost] derivative`, else 2), measure-valued 4 (two evaluations per "
        f"component), score_loo 1 (one estimate of M = {first.samples} samples costs "
        f"{first.samples}: the case's `[estimate] samples`, else 4). Efficiency is variance x "
        "cost per estimate (Glynn and Whitt's work-normalized variance; an M-sample average "
        "divides the variance by M and multiplies the cost by M, so for the single-sample "
        "estimators it does not depend on M). Samples needed: for a relative standard error "
        "of 10% on the component, ceil(100 Var / grad^2) (score_loo: M per estimate); "
        "r-evaluations: samples x cost. Values are exact (closed form) or certified "
        "quadrature, as the method column says, to 10 digits; counts and M are integers "
        "decided in ball arithmetic.",
    ]
    several = len(report.work) > 1
    for combination, work in zip(report.combinations, report.work, strict=True):
        if several:
            lines += ["", f"### {combination_label(combination)}"]
        lines += ["", *_statements(work), "", *_table(work), "", *_loo_lines(work)]
    return "\n".join(lines)


def _names(estimators: list[str]) -> str:
    return " / ".join(estimators) if estimators else "none finite"


def _statements(work: ReferenceWork) -> list[str]:
    return [
        f"- **Lowest variance per sample** ({p}): {_names(lowest_per_sample(work, p))}; "
        f"**most efficient** (least variance x cost): {_names(most_efficient(work, p))}."
        for p in GRADIENT_PARAMETERS
    ]


def _needed_cell(work: ReferenceWork, estimator: str, parameter: str) -> str:
    n = work.work.needed[estimator][parameter]
    if n is not None:
        return str(n)
    note = work.work.notes[f"{estimator}.samples_needed.{parameter}"]
    return note.split(":")[0].removeprefix("the ")


def _evaluations_cell(work: ReferenceWork, estimator: str, parameter: str) -> str:
    n = work.work.evaluations[estimator][parameter]
    return _needed_cell(work, estimator, parameter) if n is None else cell(n, 12)


def _table(work: ReferenceWork) -> list[str]:
    columns = (
        ["estimator", "cost per sample"]
        + [f"Var x cost ({p})" for p in GRADIENT_PARAMETERS]
        + [f"samples for 10% ({p})" for p in GRADIENT_PARAMETERS]
        + [f"r-evaluations ({p})" for p in GRADIENT_PARAMETERS]
        + ["method"]
    )
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for e in work.result.means:
        efficiency = work.work.efficiency[e]
        methods = {efficiency[p].method for p in GRADIENT_PARAMETERS}
        name = f"{e} (M = {work.work.samples})" if e == LOO_ESTIMATOR else e
        cells = [name, f"{work.work.costs[e]:g}"]
        cells += [short(efficiency[p]) for p in GRADIENT_PARAMETERS]
        cells += [_needed_cell(work, e, p) for p in GRADIENT_PARAMETERS]
        cells += [_evaluations_cell(work, e, p) for p in GRADIENT_PARAMETERS]
        cells.append("quadrature" if "quadrature" in methods else "closed form")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _form_line(form: LooForm) -> str:
    first, second = (rf"g^{{\mathrm{{loo}}}}_{{{SYMBOL[p]}}}" for p in (form.first, form.second))
    if form.is_variance:
        label = rf"\operatorname{{Var}}[{first}](M)"
    else:
        label = rf"\operatorname{{Cov}}[{first}, {second}](M)"
    general = r"\frac{V}{M} + \frac{X}{M (M - 1)}"
    method = form.limit.method.replace("-", " ")
    numbers = f"V = {short(form.limit)}, X = {short(form.excess)}, {method}"
    if form.formula is None:
        return f"$${label} = {general}$$ with {numbers}."
    return f"$${label} = {as_latex(form.formula)}$$ ({numbers})."


def _crossover_line(work: ReferenceWork, parameter: str) -> str:
    crossing = work.work.crossover[parameter]
    cost = work.work.costs["pathwise"]
    limit = work.result.variances["score_baseline_mean"][parameter]
    pathwise = work.result.variances["pathwise"][parameter]
    if crossing is not None:
        return (
            f"- {parameter}: score_loo at M samples beats pathwise at the same number of "
            f"r-evaluations from **M = {crossing}** on (M Var_loo(M) decreases in M)."
        )
    above = limit.value >= cost * pathwise.value
    return (
        f"- {parameter}: at **no M**: M Var_loo(M) decreases to V = {short(limit)}, which is "
        + ("not below" if above else "not certified below")
        + f" {cost:g} x Var pathwise = {cost:g} x {short(pathwise)}."
    )


def _loo_lines(work: ReferenceWork) -> list[str]:
    lines = [
        "score_loo (leave-one-out baseline over M samples) as a function of M, with "
        "V = lim M Var (score_baseline_mean's single-sample variance) and X >= 0:",
        "",
    ]
    lines += [_form_line(form) for form in work.forms]
    lines += ["", "Crossover in M at equal work (score_loo's M samples against pathwise):", ""]
    lines += [_crossover_line(work, p) for p in GRADIENT_PARAMETERS]
    return lines


def efficiency_maps(report: CaseReport) -> list[str]:
    """Lines linking each combination's efficiency map (for the maps section)."""
    if not report.efficiency_maps:
        return []
    cost = report.work[0].work.costs["pathwise"]
    lines = [
        "",
        f"Per unit of work: log(c Var pathwise / Var score) with c = {cost:g} evaluations of "
        "r per pathwise sample and 1 per score sample (at any M: an M-sample average divides "
        "both variances by M); blue: pathwise more efficient, red: score more efficient, "
        "black: the crossover curve at equal work. A grid estimate like the variance maps "
        "above: `verify regions CASE --efficiency` proves these regions box by box (the "
        "same search with each variance times its cost).",
    ]
    shown = report.combinations[: len(report.efficiency_maps)]
    return lines + image_links(report.case.name, shown, efficiency_map_file_name, "efficiency, ")


def render_efficiency_map(report: CaseReport, index: int, ratios: dict[str, np.ndarray]) -> bytes:
    """The PNG of the ``index``-th combination's efficiency map."""
    cost = report.work[index].work.costs["pathwise"]
    title = f"{report.case.title}: {combination_label(report.combinations[index])}"
    return render_ratio_map(
        report.mu_values,
        report.sigma_values,
        ratios,
        f"{title}, per unit of work",
        label=f"log({cost:g} Var pathwise / Var score)",
        legend="blue: pathwise more efficient, red: score more efficient",
    )
