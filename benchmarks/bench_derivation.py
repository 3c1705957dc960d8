"""Derivation benchmarks: every bundled case, and our engine side by side with SymPy.

The contract: :func:`section` returns a markdown section whose every number, and
every "met"/"not met", is measured while it runs (nothing is copied from elsewhere):

1. per case in ``cases/`` (discovered at run time): ``derive(r)`` and all 19 formulas
   (objective, gradient in mu and sigma, ``E[g**p]`` for p = 1..4, both estimators,
   both parameters), timed in a fresh Python process per repeat, so that neither
   SymPy's cache nor the engine's caches carry over; then, in the same process, the
   evaluation of those 19 formulas at the case's reference point (each parameter value);
2. the expectations of :mod:`_baselines` by our engine, ``sympy.stats.E`` and
   ``sympy.integrate`` (see :mod:`_baselines`), with the ratios of their times.

``benchmarks/run.py --quick`` (see :func:`_timing.quick_mode`) shrinks both to a smoke
run: the first case with one repeat, one expectation with a 5 s baseline limit.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

from _baselines import COSTS, QUANTITIES
from _comparison import comparison_section
from _timing import REPO_ROOT, Json, markdown_table, measure, median, quick_mode, run_children

from verify.cases.case import Case
from verify.cases.case_files import discover_cases, load_case, load_cases
from verify.cases.estimators import ESTIMATOR_NAMES
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.derivation import Derivation, derive
from verify.exact.evaluation import evaluate_expectation, evaluate_gradient, exact_point

TARGET_SECONDS = 1.0
FULL_REPEATS, QUICK_REPEATS = 5, 1
CASE_LIMIT = 300.0  # seconds per derivation; only a pathological case comes near it
MAX_REASONS = 2  # distinct "no closed form" reasons shown per case
ORDERS = (1, 2, 3, 4)
MOMENTS = tuple(itertools.product(ESTIMATOR_NAMES, GRADIENT_PARAMETERS, ORDERS))
QUANTITY_COUNT = 1 + len(GRADIENT_PARAMETERS) + len(MOMENTS)


def all_methods(derivation: Derivation) -> dict[str, tuple[str, str]]:
    """Every formula of the derivation (computing it), by name: (method, reason)."""
    objective = derivation.objective
    methods: dict[str, tuple[str, str]] = {"objective": (objective.method, objective.reason)}
    for parameter, formula in derivation.gradient.items():
        methods[f"gradient.{parameter}"] = (formula.method, "")
    for estimator, parameter, order in MOMENTS:
        moment = derivation.raw_moment(estimator, parameter, order)
        methods[f"{estimator}.{parameter}^{order}"] = (moment.method, moment.reason)
    return methods


def evaluate_all(derivation: Derivation, case: Case) -> int:
    """Evaluate the 19 formulas at the reference point for every parameter value; the count."""
    names = case.parameter_names
    grid = list(itertools.product(*(case.parameters[name] for name in names)))
    for values in grid:
        point = exact_point({**case.reference, **dict(zip(names, values, strict=True))})
        evaluate_expectation(derivation.objective, point)
        for parameter in GRADIENT_PARAMETERS:
            evaluate_gradient(derivation, parameter, point)
        for estimator, parameter, order in MOMENTS:
            evaluate_expectation(derivation.raw_moment(estimator, parameter, order), point)
    return len(grid)


def case_child(argument: Json) -> Json:
    """One repeat for one case, run in a fresh process: derivation and evaluation times."""
    case = load_case(argument["path"])  # parsing the file is not timed
    derivation = derive(case.r)  # lazy: every formula is built inside the timed call
    derived = measure(
        lambda: all_methods(derivation),
        clear=lambda: None,
        limit=argument["limit"],
        repeats=1,
        repeat_below=0.0,
    )
    if derived.status != "ok":
        return {"status": derived.status}
    evaluated = measure(
        lambda: evaluate_all(derivation, case),
        clear=lambda: None,
        limit=argument["limit"],
        repeats=1,
        repeat_below=0.0,
    )
    return {
        "status": evaluated.status,
        "derive": derived.median,
        "evaluate": evaluated.median,
        "points": evaluated.result,
        "methods": derived.result,
    }


def describe_methods(methods: dict[str, list[str]]) -> str:
    """``closed form``, or which quantities need quadrature and why.

    >>> describe_methods({"objective": ["closed-form", ""], "score.mu^2": ["quadrature", "log"]})
    'quadrature: score.mu^2 (log)'
    """
    needing = [name for name, (method, _) in methods.items() if method == "quadrature"]
    if not needing:
        return "closed form"
    reasons = sorted({methods[name][1] for name in needing} - {""})
    if len(reasons) > MAX_REASONS:  # the first ones say why; the rest are variations
        reasons = [*reasons[:MAX_REASONS], f"{len(reasons) - MAX_REASONS} more"]
    listed = "all" if len(needing) == len(methods) else ", ".join(needing)
    return f"quadrature: {listed}" + (f" ({'; '.join(reasons)})" if reasons else "")


def time_cases(paths: Sequence[Path], repeats: int) -> list[tuple[Case, list[Json]]]:
    """Each case's repeats, each in a fresh process, one process at a time (timing accuracy)."""
    cases, _errors = load_cases(paths)
    jobs = [
        ("bench_derivation", "case_child", {"path": str(c.path), "limit": CASE_LIMIT}, CASE_LIMIT)
        for c in cases
        for _ in range(repeats)
    ]
    runs = run_children(jobs, workers=1)
    return [(c, runs[i * repeats : (i + 1) * repeats]) for i, c in enumerate(cases)]


def case_row(case: Case, runs: list[Json]) -> tuple[list[str], float | None]:
    """A table row and the case's median derivation time (None if a run failed)."""
    good = [run for run in runs if run["status"] == "ok"]
    if len(good) < len(runs):
        failed = sorted({str(run.get("message", run["status"])) for run in runs} - {"ok"})
        return [case.name, f"`{case.r_text}`", "failed: " + "; ".join(failed), "", ""], None
    derive_times = [run["derive"] for run in good]
    evaluate_times = [run["evaluate"] for run in good]
    seconds = median(derive_times)
    row = [
        case.name,
        f"`{case.r_text}`",
        f"{seconds:.3f} ({min(derive_times):.3f}-{max(derive_times):.3f})",
        describe_methods(good[0]["methods"]),
        f"{median(evaluate_times):.3f} ({good[0]['points']})",
    ]
    return row, seconds


def cases_section(paths: Sequence[Path], repeats: int) -> str:
    """The per-case table with its measured summary."""
    rows, medians, closed = [], [], 0
    timed = time_cases(paths, repeats)
    for case, runs in timed:
        row, seconds = case_row(case, runs)
        rows.append(row)
        if seconds is not None:
            medians.append((seconds, case.name))
        closed += row[3] == "closed form"
    headers = (
        "case",
        "r",
        f"derive + {QUANTITY_COUNT} formulas: median s (min-max)",
        "method",
        "evaluate at reference: median s (points)",
    )
    return "\n\n".join(
        [
            _cases_prose(repeats),
            markdown_table(headers, rows),
            _cases_summary(medians, len(timed), closed),
        ]
    )


def _cases_prose(repeats: int) -> str:
    return (
        f"Per case: `derive(r)` and all {QUANTITY_COUNT} formulas (objective; gradient in mu "
        f"and sigma; E[g^p], p = 1..4, for both estimators and both parameters), each repeat "
        f"in a fresh Python process (so neither SymPy's cache nor the engine's caches carry "
        f"over; imports and reading the case file are not timed), {repeats} repeat(s), "
        "median with min-max, `time.perf_counter`. Then, in the same process, evaluating "
        "those formulas at the case's reference point at 50 digits, once per parameter "
        "value (the count is in brackets). One case process runs at a time."
    )


def _cases_summary(medians: list[tuple[float, str]], count: int, closed: int) -> str:
    if not medians:
        return "No case was timed successfully."
    under = sum(seconds < TARGET_SECONDS for seconds, _ in medians)
    slowest, slowest_name = max(medians)
    met = "met" if under == count else "not met"
    return (
        f"{count} cases; median across cases {median([s for s, _ in medians]):.3f} s; "
        f"slowest {slowest_name} ({slowest:.3f} s); {under} of {count} cases have a median "
        f"under {TARGET_SECONDS:g} s (target: every case under {TARGET_SECONDS:g} s: {met}). "
        f"All {QUANTITY_COUNT} formulas in closed form for {closed} of {count} cases; the "
        "method column names every quantity that needs quadrature, and why."
    )


def section() -> str:
    """The markdown section: per-case derivation times, then the SymPy comparison."""
    quick = quick_mode()
    paths = discover_cases(REPO_ROOT / "cases")
    items = [(0, "objective")] if quick else list(itertools.product(range(len(COSTS)), QUANTITIES))
    return "\n\n".join(
        [
            "## Derivation",
            cases_section(paths[:1] if quick else paths, QUICK_REPEATS if quick else FULL_REPEATS),
            "## Our engine against SymPy on the same expectations",
            comparison_section(items, quick),
        ]
    )
