"""``verify.report``: what ``verify run`` does for one case, callable from Python.

Contract: :func:`process_case` derives, evaluates, checks and (given a directory)
writes the report of one case, each piece of work done once: the reference point of
each parameter combination is evaluated once, inside the report's gathering, and the
summary reads it from there; the case is derived once per process
(:func:`verify.exact.derivation.derive` is cached) and its formulas compiled once.
``verify run`` calls it for every case in its own process; :func:`report` calls it
for one case in this process.  The JSON record of a case (``verify run --json``)::

    {"case": str, "points": [{"at": {name: float}, "lower": {"mu": str, "sigma": str},
                              "pathwise_biased": {"mu": bool, "sigma": bool},
                              "method": "closed-form" | "quadrature"}],
     "index": {...}, "failed": bool, "seconds": float}   # "checks" instead of
                                                          # "index" without reports
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verify.api.case import Case, CaseLike
from verify.api.evaluation import lowest_variance
from verify.cases.case import Case as ValidatedCase
from verify.cases.estimators import ESTIMATOR_NAMES
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.dimension import derive_case
from verify.exact.evaluation import exact_point
from verify.exact.results import PointResult, evaluate_point
from verify.montecarlo.checks import check_case, count_checks
from verify.montecarlo.engine import DEFAULT_SEED
from verify.reporting.explicit_report import (
    explicit_index_record,
    explicit_points,
    gather_explicit,
)
from verify.reporting.gather import ReportSettings, fingerprint
from verify.reporting.index import index_record
from verify.reporting.publish import write_case_report, write_explicit_case_report

CaseRecord = dict[str, Any]


@dataclass(frozen=True)
class WrittenReport:
    """A report written to ``path``; a notebook shows its markdown."""

    path: Path
    markdown: str
    record: CaseRecord

    @property
    def failed(self) -> bool:
        """A check failed or a claim was refuted."""
        return bool(self.record["failed"])

    def _repr_markdown_(self) -> str:
        return self.markdown


def report(
    case: CaseLike,
    directory: str | Path = "reports",
    *,
    samples: int | None = None,
    seed: int = DEFAULT_SEED,
    family_size: int | None = None,
) -> WrittenReport:
    """Write ``directory/<case>.md`` and its maps, as ``verify run`` would.

    ``family_size`` (default: this case's checks) sets the Monte Carlo threshold;
    ``verify run`` uses the total over all cases, so pass that to reproduce its report.
    """
    case = Case.of(case)
    size = count_checks(case) if family_size is None else family_size
    settings = ReportSettings(samples=samples, seed=seed, family_size=size)
    record = process_case(case, Path(directory), settings)
    path = Path(directory) / f"{case.name}.md"
    return WrittenReport(path, path.read_text(encoding="utf-8"), record)


def parameter_grid(case: ValidatedCase) -> list[dict[str, float]]:
    """Every combination of the case's parameter values, in file order."""
    names = case.parameter_names
    combinations = itertools.product(*(case.parameters[n] for n in names))
    return [dict(zip(names, values, strict=True)) for values in combinations]


def process_case(
    case: ValidatedCase, reports: Path | None, settings: ReportSettings, images: bool = True
) -> CaseRecord:
    """Derive, evaluate, check and (when ``reports`` is a directory) report one case
    (``images`` False: the markdown without its PNGs)."""
    start = time.perf_counter()
    combinations = parameter_grid(case)
    record: CaseRecord = {"case": case.name}
    if case.coordinates is not None:  # r in z1..zd: its own page, region maps only
        record |= _explicit_record(case, reports, settings, combinations, images)
    elif reports is not None:
        report, _ = write_case_report(case, reports, settings, combinations, images)
        record["points"] = reference_points(case, combinations, report.reference_results)
        record["index"] = index_record(report, fingerprint(case, settings))
        record["failed"] = report.checks_failed
    else:
        derivation = derive_case(case)
        results = [
            evaluate_point(derivation, exact_point({**case.reference, **c}), ESTIMATOR_NAMES)
            for c in combinations
        ]
        record["points"] = reference_points(case, combinations, results)
        result = check_case(
            case, samples=settings.samples, seed=settings.seed, family_size=settings.family_size
        )
        record["checks"] = result.to_json()
        record["failed"] = result.failed
    record["seconds"] = round(time.perf_counter() - start, 3)
    return record


def _explicit_record(
    case: ValidatedCase,
    reports: Path | None,
    settings: ReportSettings,
    combinations: list[dict[str, float]],
    images: bool,
) -> CaseRecord:
    """The record of an explicit-dimension case: lower estimator per component."""
    if reports is not None:
        report = write_explicit_case_report(case, reports, settings, combinations, images)
        return {
            "points": explicit_points(report.points, report.results),
            "index": explicit_index_record(report, fingerprint(case, settings)),
            "failed": report.checks_failed,
        }
    report = gather_explicit(case, settings, combinations)
    return {
        "points": explicit_points(report.points, report.results),
        "checks": report.checks,
        "failed": report.checks_failed,
    }


def reference_points(
    case: ValidatedCase, combinations: list[dict[str, float]], results: list[PointResult]
) -> list[dict[str, Any]]:
    """Which estimator has the lower variance at the reference point, per combination."""
    points = []
    for parameters, result in zip(combinations, results, strict=True):
        methods = {number.method for number in result.numbers().values()}
        points.append(
            {
                "at": {**case.reference, **parameters},
                "lower": {p: lowest_variance(result, p) for p in GRADIENT_PARAMETERS},
                "pathwise_biased": {
                    p: result.bias("pathwise", p).as_json() not in (0.0, "nan")
                    for p in GRADIENT_PARAMETERS
                },
                "method": "quadrature" if "quadrature" in methods else "closed-form",
            }
        )
    return points
