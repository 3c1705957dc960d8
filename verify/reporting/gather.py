"""What a case's report shows, computed: the data behind ``reports/<case>.md``.

The contract: :func:`gather_report` computes everything a report shows -- exact
formulas, the variances at the reference point for each parameter combination,
the (mu, sigma) grid maps and their verdicts, the proven regions and the verdicts
from them (:mod:`verify.reporting.region_report`), crossovers and the Monte Carlo
checks, the work-normalized comparison at the reference point (score_loo at the
case's M, cost, efficiency, :mod:`verify.analysis.reference_work`) with maps of the
efficiency ratio, and for a case in the phi form the numbers in the phi names
(:mod:`verify.reporting.phi_rows`).  Rendering is :mod:`verify.reporting.markdown`;
writing, :mod:`verify.reporting.publish`.
Each report carries a :func:`fingerprint` of its inputs (the case file, the package
source and the settings), so a stale committed report is detectable without
regenerating it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sympy

from verify.analysis.crossover import Crossover, find_crossovers
from verify.analysis.dimension_growth import DimensionGrowth, dimension_growth
from verify.analysis.maps import log_efficiency_ratio, log_ratio, variance_grids
from verify.analysis.reference_work import ReferenceWork, reference_work
from verify.analysis.region_rows import RegionsRow
from verify.analysis.region_verdicts import RegionVerdict
from verify.analysis.verdicts import ComponentVerdict, component_verdict
from verify.cases.case import Case
from verify.cases.estimators import CLASSIC_ESTIMATORS, ESTIMATOR_NAMES
from verify.cases.symbols import GRADIENT_PARAMETERS, MU, SIGMA, parameter_symbol
from verify.exact.derivation import Derivation
from verify.exact.dimension import derive_case
from verify.exact.evaluation import exact_point
from verify.exact.results import PointResult, evaluate_point
from verify.montecarlo.checks import check_case
from verify.reporting.phi_rows import PhiRow, gather_phi
from verify.reporting.region_report import gather_regions, range_regions

PACKAGE_DIRECTORY = Path(__file__).resolve().parents[1]  # verify/, every stage
MAP_POINTS = (41, 36)  # (mu, sigma) grid of each map


@dataclass(frozen=True)
class ReportSettings:
    """What, besides the case and the code, a report depends on."""

    samples: int | None  # None: planned per stream from the exact moments
    seed: int
    family_size: int


@dataclass(frozen=True)
class CaseReport:
    """Everything one report shows (see the module docstring)."""

    case: Case
    derivation: Derivation
    combinations: list[dict[str, float]]
    reference_results: list[PointResult]
    maps: list[dict[str, np.ndarray]]
    mu_values: np.ndarray
    sigma_values: np.ndarray
    verdicts: dict[str, ComponentVerdict]
    crossovers: dict[str, dict[str, list[Crossover]]]
    crossover_ranges: dict[str, tuple[float, float, dict[str, float]]]
    checks: dict[str, Any]
    checks_failed: bool
    settings: ReportSettings
    phi_rows: list[PhiRow] = dataclasses.field(default_factory=list)  # phi-form cases only
    dimension: DimensionGrowth | None = None  # symbolic-dimension cases only
    work: list[ReferenceWork] = dataclasses.field(default_factory=list)  # per combination
    efficiency_maps: list[dict[str, np.ndarray]] = dataclasses.field(default_factory=list)
    regions: list[RegionsRow] = dataclasses.field(default_factory=list)  # per combination
    region_verdicts: dict[str, RegionVerdict] = dataclasses.field(default_factory=dict)
    range_regions: dict[str, RegionsRow] = dataclasses.field(default_factory=dict)


def combination_label(combination: dict[str, float]) -> str:
    """``k=0.5, c=1`` (or ``all`` for a case without parameters)."""
    return ", ".join(f"{name}={value:g}" for name, value in combination.items()) or "all"


def map_file_name(index: int) -> str:
    """The PNG of the ``index``-th parameter combination, inside ``reports/<case>/``."""
    return f"map-{index + 1}.png"


def image_links(
    case_name: str,
    combinations: Sequence[dict[str, float]],
    file_name: Callable[[int], str],
    prefix: str,
) -> list[str]:
    """One image link per parameter combination, each after a blank line."""
    lines: list[str] = []
    for index, combination in enumerate(combinations):
        label = combination_label(combination)
        lines += ["", f"![{prefix}{label}]({case_name}/{file_name(index)})"]
    return lines


def region_map_file_name(index: int) -> str:
    """The map of the proven regions of the ``index``-th combination, beside its map."""
    return f"region-map-{index + 1}.png"


def efficiency_map_file_name(index: int) -> str:
    """The efficiency map (variance x cost) of the ``index``-th combination, beside its map."""
    return f"efficiency-map-{index + 1}.png"


def gather_report(
    case: Case, settings: ReportSettings, combinations: list[dict[str, float]]
) -> CaseReport:
    """Compute everything the report of ``case`` shows."""
    derivation = derive_case(case)
    mu_values = np.linspace(*case.domain.mu, MAP_POINTS[0])
    sigma_values = np.linspace(*case.domain.sigma, MAP_POINTS[1])
    reference = [
        evaluate_point(derivation, exact_point({**case.reference, **c}), ESTIMATOR_NAMES)
        for c in combinations
    ]
    grids = [
        {p: variance_grids(derivation, p, c, mu_values, sigma_values) for p in GRADIENT_PARAMETERS}
        for c in combinations
    ]
    maps = [{p: log_ratio(*grid[p]) for p in GRADIENT_PARAMETERS} for grid in grids]
    work = [
        reference_work(case, derivation, exact_point({**case.reference, **c}), result)
        for c, result in zip(combinations, reference, strict=True)
    ]
    efficiency_maps = [
        {p: log_efficiency_ratio(*grid[p], w.work.costs["pathwise"]) for p in GRADIENT_PARAMETERS}
        for grid, w in zip(grids, work, strict=True)
    ]
    labels = [combination_label(c) for c in combinations]
    verdicts = {
        p: component_verdict(
            p,
            {label: m[p] for label, m in zip(labels, maps, strict=True)},
            biased=derivation.is_discontinuous,
            infinite_maps={
                label: infinite_map(derivation, p, c, mu_values, sigma_values)
                for label, c in zip(labels, combinations, strict=True)
            },
        )
        for p in GRADIENT_PARAMETERS
    }
    regions, region_verdicts = gather_regions(case, combinations, verdicts, labels)
    ranges = crossover_ranges(case, combinations)
    crossovers = {
        vary: {
            p: find_crossovers(derivation, vary, low, high, fixed, p) for p in GRADIENT_PARAMETERS
        }
        for vary, (low, high, fixed) in ranges.items()
    }
    result = check_case(
        case, samples=settings.samples, seed=settings.seed, family_size=settings.family_size
    )
    return CaseReport(
        case,
        derivation,
        combinations,
        reference,
        maps,
        mu_values,
        sigma_values,
        verdicts,
        crossovers,
        ranges,
        result.to_json(),
        result.failed,
        settings,
        phi_rows=gather_phi(case, derivation, combinations),
        dimension=_dimension_growth(case, derivation, combinations),
        work=work,
        efficiency_maps=efficiency_maps,
        regions=regions,
        region_verdicts=region_verdicts,
        range_regions=range_regions(case, combinations),
    )


def _dimension_growth(
    case: Case, derivation: Derivation, combinations: list[dict[str, float]]
) -> DimensionGrowth | None:
    """Variances against d at the reference point and first combination (see the module)."""
    if case.dimension is None:
        return None
    name = case.dimension.parameter
    fixed = {**case.reference, **(combinations[0] if combinations else {})}
    return dimension_growth(derivation, case.dimension, fixed, int(max(case.parameters[name])))


def infinite_map(
    derivation: Derivation,
    parameter: str,
    combination: dict[str, float],
    mu_values: np.ndarray,
    sigma_values: np.ndarray,
) -> np.ndarray:
    """Where the score or pathwise variance is infinite: some re(b) >= 1/2 of E[g^2]."""
    mu_grid, sigma_grid = np.meshgrid(mu_values, sigma_values)
    infinite = np.zeros(mu_grid.shape, dtype=bool)
    fixed = {parameter_symbol(n): v for n, v in combination.items()}
    for estimator in CLASSIC_ESTIMATORS:
        for b in derivation.raw_moment(estimator, parameter, 2).divergence:
            condition = sympy.re(b.subs(fixed))
            function = sympy.lambdify((MU, SIGMA), condition, modules="numpy")
            values = np.broadcast_to(
                np.asarray(function(mu_grid, sigma_grid), dtype=float), mu_grid.shape
            )
            infinite |= values >= 0.5
    return infinite


def crossover_ranges(
    case: Case, combinations: list[dict[str, float]]
) -> dict[str, tuple[float, float, dict[str, float]]]:
    """What the report varies: each multi-valued parameter over its listed range, and sigma
    over the domain, with everything else at the reference point and first combination."""
    first = combinations[0] if combinations else {}
    ranges: dict[str, tuple[float, float, dict[str, float]]] = {}
    for name in case.parameter_names:
        values = case.parameters[name]
        if len(set(values)) > 1:
            fixed = {**case.reference, **{k: v for k, v in first.items() if k != name}}
            ranges[name] = (min(values), max(values), fixed)
    fixed_sigma = {"mu": case.reference["mu"], **first}
    ranges["sigma"] = (case.domain.sigma[0], case.domain.sigma[1], fixed_sigma)
    return ranges


def fingerprint(case: Case, settings: ReportSettings) -> str:
    """sha256 of the validated case, every source file of the package, and the settings.

    The case enters as its validated fields (not its file, which a case built in Python
    does not have; nor its path, which depends on the working directory).
    """
    digest = hashlib.sha256()
    for field in dataclasses.fields(case):
        if field.name != "path":
            digest.update(f"{field.name}={getattr(case, field.name)!r};".encode())
    for source in sorted(PACKAGE_DIRECTORY.rglob("*.py")):
        digest.update(source.relative_to(PACKAGE_DIRECTORY).as_posix().encode())
        digest.update(source.read_bytes())
    digest.update(repr(settings).encode())
    return digest.hexdigest()
