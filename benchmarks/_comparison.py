"""Our engine against ``sympy.stats`` and ``sympy.integrate`` (see :mod:`_baselines`): run, report.

The contract: :func:`comparison_section` times the given expectations with every
engine (each baseline call in its own child process under a time limit, at most
:data:`WORKERS` at a time) and returns the markdown table and a summary generated
from the measured numbers only.  A baseline "succeeds" on an expectation when it
returns a number at the test point that agrees with ours to 15 digits.
"""

from __future__ import annotations

from collections.abc import Sequence

from _baselines import TEST_POINT, agree, label
from _timing import STARTUP_ALLOWANCE, Json, markdown_table, median, run_child, run_children

TARGET_RATIO = 30.0
WORKERS = 2
OURS_LIMIT = 60.0
ENGINES = {"stats": "sympy.stats `E`", "integrate": "`sympy.integrate`"}
Item = tuple[int, str]


def _settings(quick: bool) -> Json:
    if quick:
        return {"limit": 5.0, "ours_repeats": 2, "repeats": 1, "repeat_below": 2.0}
    return {"limit": 30.0, "ours_repeats": 5, "repeats": 3, "repeat_below": 2.0}


def run_engines(items: Sequence[Item], settings: Json) -> tuple[list[Json], dict[str, list[Json]]]:
    """Our results (one child for all items) and each baseline's (one child per call)."""
    argument = {"items": list(items), "limit": OURS_LIMIT, "repeats": settings["ours_repeats"]}
    budget = OURS_LIMIT * settings["ours_repeats"] * len(items) + STARTUP_ALLOWANCE
    ours = run_child("_baselines", "ours_child", argument, budget)
    if ours["status"] != "ok":
        raise RuntimeError(f"our engine failed in the comparison: {ours}")
    jobs = [
        (
            "_baselines",
            "baseline_child",
            {"engine": engine, "cost": cost, "quantity": quantity, **settings},
            settings["limit"] + STARTUP_ALLOWANCE,
        )
        for cost, quantity in items
        for engine in ENGINES
    ]
    done = run_children(jobs, workers=WORKERS)
    baselines = {engine: done[index :: len(ENGINES)] for index, engine in enumerate(ENGINES)}
    return ours["results"], baselines


def succeeded(ours: Json, theirs: Json) -> bool:
    """The baseline returned a number that agrees with ours to 15 digits."""
    return theirs["status"] == "ok" and "value" in ours and agree(ours["value"], theirs["value"])


def _ratio(ours: Json, theirs: Json, limit: float) -> float | None:
    if theirs["status"] == "ok":
        return float(theirs["seconds"]) / float(ours["seconds"])
    if theirs["status"] == "timeout":
        return limit / float(ours["seconds"])  # a lower bound
    return None


def _cells(ours: Json, theirs: Json, limit: float) -> list[str]:
    ratio = _ratio(ours, theirs, limit)
    status = theirs["status"]
    if status == "ok":
        time_cell = f"{theirs['seconds']:.3f} s"
        agrees = "yes" if succeeded(ours, theirs) else "NO"
    elif status == "timeout":
        time_cell, agrees = f"timeout (> {limit:g} s)", "-"
    elif status == "unevaluated":
        time_cell, agrees = f"unevaluated ({theirs['seconds']:.2f} s)", "-"
    else:
        time_cell, agrees = f"error: {theirs.get('message', '')}", "-"
    bound = ">" if status == "timeout" else ""
    ratio_cell = "-" if ratio is None else f"{bound}{ratio:,.0f}x"
    return [time_cell, ratio_cell, agrees]


def _row(item: Item, ours: Json, baselines: dict[str, Json], limit: float) -> list[str]:
    mine = f"{ours['seconds'] * 1000:.2f}"
    if ours.get("method") == "quadrature":
        mine += " (no closed form)"
    if ours["status"] != "ok":
        mine = ours["status"]
    row = [label(*item), mine]
    agreement = []
    for theirs in baselines.values():
        time_cell, ratio_cell, agrees = _cells(ours, theirs, limit)
        row += [time_cell, ratio_cell]
        agreement.append(agrees)
    return [*row, " / ".join(agreement)]


def _summary(engine: str, ours: list[Json], theirs: list[Json], limit: float) -> str:
    ratios = [
        _ratio(mine, other, limit) or 0.0
        for mine, other in zip(ours, theirs, strict=True)
        if succeeded(mine, other)
    ]
    count = {s: sum(t["status"] == s for t in theirs) for s in ("timeout", "unevaluated", "error")}
    disagreed = sum(t["status"] == "ok" for t in theirs) - len(ratios)
    text = f"{ENGINES[engine]}: succeeded on {len(ratios)} of {len(theirs)}"
    if ratios:
        text += f" (ours faster by min {min(ratios):,.0f}x, median {median(ratios):,.0f}x)"
    text += (
        f"; answered but disagreed: {disagreed}; unevaluated: {count['unevaluated']}; "
        f"timed out (> {limit:g} s): {count['timeout']}; errors: {count['error']}."
    )
    if engine == "stats":
        text += " " + _target(ratios)
    return text


def _target(ratios: list[float]) -> str:
    goal = f"Target: at least {TARGET_RATIO:g}x faster than sympy.stats where it succeeds"
    if not ratios:
        return f"{goal}: not measurable (it succeeded nowhere)."
    verdict = "met" if min(ratios) >= TARGET_RATIO else "not met"
    return f"{goal}: {verdict} (min {min(ratios):,.1f}x)."


def _prose(settings: Json) -> str:
    point = ", ".join(f"{name} = {value:g}" for name, value in TEST_POINT.items())
    return (
        "The same expectations, symbolic in mu, sigma > 0 and real k, z ~ N(mu, sigma^2), "
        "g the single-sample gradient estimator. Ours: `gaussian_expectation` of the "
        f"integrand after z = mu + sigma*eps, median of {settings['ours_repeats']} runs in "
        "one process with SymPy's cache and the engine's caches cleared before each run. "
        "Baselines: every call in its own fresh process under a "
        f"{settings['limit']:g} s limit, SymPy's cache cleared before each run, repeated "
        f"(median of up to {settings['repeats']} run(s)) only while a run takes under "
        f"{settings['repeat_below']:g} s; {WORKERS} baseline processes run at a time. "
        "`unevaluated`: the answer still holds an Integral (or an undecided Piecewise) at "
        f"the test point. Agreement: both answers evaluated at {point} to 30 digits must "
        "agree to 15 significant digits (stats / integrate). Ratio: baseline time / our "
        "time (a lower bound after a timeout). Ours is in milliseconds."
    )


def comparison_section(items: Sequence[Item], quick: bool) -> str:
    """The comparison table and its measured summary for ``items`` ((cost, quantity) pairs)."""
    settings = _settings(quick)
    ours, baselines = run_engines(items, settings)
    limit = settings["limit"]
    rows = [
        _row(item, ours[i], {e: baselines[e][i] for e in ENGINES}, limit)
        for i, item in enumerate(items)
    ]
    headers = ["expectation", "ours (ms)"]
    for name in ENGINES.values():
        headers += [name, "ratio"]
    headers.append("agree?")
    summaries = [_summary(e, ours, baselines[e], limit) for e in ENGINES]
    return "\n\n".join([_prose(settings), markdown_table(headers, rows), *summaries])
