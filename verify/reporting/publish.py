"""Writing reports: every file atomically, every path from a validated case name.

The contract: :func:`write_case_report` gathers (:mod:`verify.reporting.gather`), renders
(:mod:`verify.reporting.markdown`, :mod:`verify.reporting.plots`) and writes
``reports/<case>.md`` and ``reports/<case>/map-<i>.png``, ``region-map-<i>.png`` and
``efficiency-map-<i>.png``.  Each file is written to a temporary file in the same
directory and renamed over the old one, so a failure (a crash, a time-out that kills
the process) never leaves another report, or this one, half-written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from verify.analysis.region_rows import RegionsRow
from verify.cases.case import Case
from verify.reporting.explicit_report import (
    ExplicitReport,
    gather_explicit,
    render_explicit_markdown,
)
from verify.reporting.gather import (
    CaseReport,
    ReportSettings,
    combination_label,
    efficiency_map_file_name,
    fingerprint,
    gather_report,
    map_file_name,
    region_map_file_name,
)
from verify.reporting.markdown import render_case_markdown
from verify.reporting.markdown_dimension import PLOT_FILE
from verify.reporting.markdown_work import render_efficiency_map
from verify.reporting.plots import render_dimension_plot, render_ratio_map, render_region_map


def write_atomic(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_case_report(
    case: Case,
    directory: Path,
    settings: ReportSettings,
    combinations: list[dict[str, float]],
    images: bool = True,
) -> tuple[CaseReport, str]:
    """Gather, render and atomically write the report and maps of ``case``.

    ``images`` False writes the markdown alone (the same bytes): the PNGs are drawn by
    matplotlib, 1-2 CPU seconds a case (a third of it importing matplotlib), and vary
    with the renderer, so a run that only compares the markdown (CI) need not draw them.
    """
    report = gather_report(case, settings, combinations)
    if images:
        _write_images(case, directory, report, combinations)
    markdown = render_case_markdown(report, fingerprint(case, settings))
    write_atomic(directory / f"{case.name}.md", markdown.encode("utf-8"))
    return report, markdown


def _write_images(
    case: Case, directory: Path, report: CaseReport, combinations: list[dict[str, float]]
) -> None:
    """The maps (and the plot against d) of ``report``."""
    for index, (combination, ratios) in enumerate(zip(combinations, report.maps, strict=True)):
        title = f"{case.title}: {combination_label(combination)}"
        image = render_ratio_map(report.mu_values, report.sigma_values, ratios, title)
        write_atomic(directory / case.name / map_file_name(index), image)
    _write_region_maps(case, directory, combinations, report.regions)
    for index, ratios in enumerate(report.efficiency_maps):
        image = render_efficiency_map(report, index, ratios)
        write_atomic(directory / case.name / efficiency_map_file_name(index), image)
    if report.dimension is not None:
        growth = report.dimension
        name = growth.dimension.parameter
        image = render_dimension_plot(growth.grid, growth.curves, name, case.title)
        write_atomic(directory / case.name / PLOT_FILE, image)


def write_explicit_case_report(
    case: Case,
    directory: Path,
    settings: ReportSettings,
    combinations: list[dict[str, float]],
    images: bool = True,
) -> ExplicitReport:
    """Gather, render and atomically write the page of an explicit-dimension case, with its
    region maps over a common shift and scale of the coordinates (``images`` False: without)."""
    report = gather_explicit(case, settings, combinations)
    if images:
        common = " (mu_i = mu, sigma_i = sigma)"
        _write_region_maps(case, directory, combinations, report.regions, common, rows=2)
    markdown = render_explicit_markdown(report, fingerprint(case, settings))
    write_atomic(directory / f"{case.name}.md", markdown.encode("utf-8"))
    return report


def _write_region_maps(
    case: Case,
    directory: Path,
    combinations: list[dict[str, float]],
    regions: Sequence[RegionsRow],
    suffix: str = "",
    rows: int = 1,
) -> None:
    """One map of the proven boxes per combination, a panel per component in ``rows`` rows."""
    domain = (case.domain.mu, case.domain.sigma)
    for index, (combination, row) in enumerate(zip(combinations, regions, strict=True)):
        title = f"{case.title}: {combination_label(combination)}{suffix}"
        panels = {p: search.regions for p, search in row.searches.items()}
        image = render_region_map(panels, domain, title, rows=rows)
        write_atomic(directory / case.name / region_map_file_name(index), image)
