"""``verify.regions``: the domain divided into boxes, each proven to belong to one estimator.

Contract: :func:`regions` compares two estimators' variances (default ``score`` against
``pathwise``) for each gradient component over the case's ``(mu, sigma)`` domain with
every parameter fixed (``at``, or its single value), or, with ``vary``, along one name
over ``range`` with every other value fixed.  :meth:`RegionsResult.to_json` is what
``verify regions --json`` prints (keys are only ever added)::

    {"case": str, "compare": [first, second],
     "domain": {"mu": [lo, hi], "sigma": [lo, hi], NAME: [lo, hi]},   # fixed: [v, v]
     "components": {"mu": {"boxes": [{"mu": [lo, hi], "sigma": [lo, hi], NAME: [lo, hi],
                                      "lower": first | second | "equal" | "undecided"
                                               | "infinite"}],
                           "share": {first: x, second: x, "equal": x, "undecided": x,
                                     "infinite": x},
                           "crossings": [{NAME: [lo, hi], "below": str, "above": str}],
                           "method": "closed-form" | "quadrature" | "uncertified",
                           "seconds": s, "boxes_examined": n, "budget_spent": bool},
                    "sigma": {...}},
     "at": {name: v}, "vary": NAME | null, "biased": [estimator, ...],
     "min_width": w, "seconds": s,
     "rows": [{"at", "domain", "components"}, ...],   # one per listed parameter value
     "efficiency": bool, "costs": {first: c, second: c} | null}

``lower`` names the estimator whose variance is proven lower at every point of the box
(Var[first] - Var[second] < 0 gives ``first``; with ``efficiency=True``,
``c_first Var[first] - c_second Var[second]``, the work-normalised variance, with ``costs``
the evaluations of r per estimate: :func:`verify.analysis.work.cost_per_estimate` with the
case's ``[cost] derivative`` and ``[estimate] samples`` or the defaults); ``"equal"``: the
two are the same formula; ``"infinite"``: both diverge on the whole box (when only one
does, the other is lower); ``"undecided"``: not proven either way down to the size limit
``min_width`` (a fraction of each side of the domain) or within the budget (seconds, or
``max_boxes`` boxes examined per component, which is machine-independent) -- never a
guess.  ``share`` is the fraction of the domain's area (or length) per label;
``crossings`` (one varied name only) are the undecided intervals between boxes proven
for different estimators, each enclosing a sign change.  ``biased`` lists the compared
estimators whose mean is not the gradient (the pathwise estimator for an ``r`` with
jumps): their variance is still compared exactly, but a biased winner is no answer.
``method`` is ``"closed-form"`` (ball arithmetic on the exact formulas), ``"quadrature"``
(box quadrature, :mod:`verify.exact.box_quadrature`) or ``"uncertified"`` (nothing can be
enclosed: a compound moment without a closed form, or no growth bound; the domain is one
undecided box).
A case whose parameters list several values and are not fixed by ``at`` gets one row
per combination; the top-level ``at``, ``domain`` and ``components`` are the first row.

An explicit-coordinate case is searched over a common shift and scale (every ``mu_i`` is
``mu``, every ``sigma_i`` is ``sigma``), one entry per component ``mu1``..``sigmad`` under
``"components"`` (:mod:`verify.analysis.region_rows`).

The method (ball arithmetic, centred forms, monotonicity, bisection) is in
:mod:`verify.analysis.regions` and :mod:`verify.exact.box_enclosure`.

>>> from verify.api.case import Case
>>> result = regions(Case("cos(k*z)", parameters={"k": [0.5, 4]}), vary="k",
...                  at={"mu": 1, "sigma": 1}, range=(0.5, 4), min_width=2.0**-24)
>>> [c.below + " < " + c.above for c in result.crossings("mu")]
['pathwise < score']
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from verify.analysis.region_rows import MIN_WIDTH_AREA, MIN_WIDTH_LINE, RegionsRow, region_row
from verify.analysis.regions import (
    EQUAL,
    INFINITE,
    TIME_LIMIT,
    UNDECIDED,
    Crossing,
    crossings,
    shares,
)
from verify.analysis.work import budget_of, cost_per_estimate
from verify.api.case import Case, CaseLike, complete_point
from verify.api.crossover import range_problem
from verify.cases.case import CaseError
from verify.cases.estimators import CLASSIC_ESTIMATORS, ESTIMATORS
from verify.exact.dimension import derive_case
from verify.exact.explicit import derive_explicit


@dataclass(frozen=True)
class RegionsResult:
    """The proven regions (see the module docstring)."""

    case: Case
    compare: tuple[str, str]
    vary: str | None
    rows: tuple[RegionsRow, ...]
    min_width: float
    seconds: float
    costs: dict[str, float] | None = None  # per estimate, when comparing efficiency

    def crossings(self, component: str, row: int = 0) -> list[Crossing]:
        """The sign changes enclosed along the varied name (none in two dimensions)."""
        if self.vary is None:
            return []
        search = self.rows[row].searches[component]
        return crossings(search, self.rows[row].names.index(self.vary), self.compare)

    def share(self, component: str, row: int = 0) -> dict[str, float]:
        """The fraction of the domain proven for each label."""
        labels = (*self.compare, EQUAL, UNDECIDED, INFINITE)
        return shares(self.rows[row].searches[component], labels)

    def _components_json(self, row: int) -> dict[str, object]:
        components: dict[str, object] = {}
        record = self.rows[row]
        for component, search in record.searches.items():
            components[component] = {
                "boxes": [
                    {**_box_json(record.names, r.box), "lower": r.label} for r in search.regions
                ],
                "share": self.share(component, row),
                "crossings": [
                    {self.vary: list(c.interval), "below": c.below, "above": c.above}
                    for c in self.crossings(component, row)
                ],
                "method": record.methods[component],
                "seconds": search.seconds,
                "boxes_examined": search.boxes_examined,
                "budget_spent": search.budget_spent,
            }
        return components

    def to_dict(self) -> dict[str, object]:
        """The JSON object as a dict (see the module docstring)."""
        biased = [e for e in self.compare if e == "pathwise" and _discontinuous(self.case)]
        rows = [
            {"at": r.at, "domain": r.domain, "components": self._components_json(i)}
            for i, r in enumerate(self.rows)
        ]
        return {
            "case": self.case.name,
            "compare": list(self.compare),
            "domain": rows[0]["domain"],
            "components": rows[0]["components"],
            "seconds": self.seconds,
            "at": self.rows[0].at,
            "vary": self.vary,
            "biased": biased,
            "min_width": self.min_width,
            "rows": rows,
            "efficiency": self.costs is not None,
            "costs": self.costs,
        }

    def to_json(self) -> str:
        """What ``verify regions --json`` prints."""
        return json.dumps(self.to_dict())

    def to_text(self) -> str:
        """Shares and crossings per row and component (the command's text output)."""
        compared = "variances"
        if self.costs is not None:
            each = ", ".join(f"{e} {c:g}" for e, c in self.costs.items())
            compared = f"variance x cost per estimate (evaluations of r: {each})"
        lines = [
            f"case {self.case.name}: {self.case.title}",
            f"{self.compare[0]} against "
            f"{self.compare[1]}: {compared}, proven by ball arithmetic ({self.seconds:.1f} s)",
        ]
        for index, row in enumerate(self.rows):
            shown = ", ".join(f"{n} in [{lo:g}, {hi:g}]" for n, (lo, hi) in row.domain.items())
            lines.append(f"\n{shown}")
            for component in row.searches:
                share = self.share(component, index)
                parts = ", ".join(f"{k} {100 * v:.2f}%" for k, v in share.items() if v > 0)
                lines.append(f"  {component:<6} {parts} ({row.methods[component]})")
                for c in self.crossings(component, index):
                    lines.append(
                        f"         crossing in [{c.interval[0]:.10g}, {c.interval[1]:.10g}]: "
                        f"{c.below} below, {c.above} above"
                    )
        return "\n".join(lines)


def _box_json(names: Sequence[str], box: Sequence[tuple[float, float]]) -> dict[str, list[float]]:
    return {n: [low, high] for n, (low, high) in zip(names, box, strict=True)}


def regions(
    case: CaseLike,
    *,
    at: Mapping[str, object] | None = None,
    vary: str | None = None,
    range: tuple[float, float] | None = None,
    compare: Sequence[str] = CLASSIC_ESTIMATORS,
    min_width: float | None = None,
    time_limit: float = TIME_LIMIT,
    max_boxes: int | None = None,
    efficiency: bool = False,
) -> RegionsResult:
    """The proven regions of ``case``; see the module docstring."""
    start = time.perf_counter()
    case = Case.of(case)
    pair = _checked_compare(case, compare)
    costs = None
    if efficiency:
        samples, derivative_cost = budget_of(case)
        costs = {e: cost_per_estimate(e, samples, derivative_cost) for e in pair}
    weights = (1.0, 1.0) if costs is None else (costs[pair[0]], costs[pair[1]])
    given = dict(at or {})
    if vary is not None:
        given.pop(vary, None)
        if range is None:
            raise CaseError(str(case.path), "range", f"give a range to vary {vary}")
        problem = range_problem(case, vary, *range)
        if problem is not None:
            raise CaseError(str(case.path), problem[0], f"{vary} over {range}: {problem[1]}")
    width = min_width or (MIN_WIDTH_AREA if vary is None else MIN_WIDTH_LINE)
    rows = tuple(
        _row(case, pair, point, vary, range, width, (time_limit, max_boxes), weights)
        for point in _assignments(case, given, vary)
    )
    return RegionsResult(case, pair, vary, rows, width, time.perf_counter() - start, costs)


def _discontinuous(case: Case) -> bool:
    """Whether ``r`` jumps (the pathwise estimator is then biased)."""
    if case.coordinates is not None:
        return derive_explicit(case.r, case.coordinates.count).is_discontinuous
    return derive_case(case).is_discontinuous


def _checked_compare(case: Case, compare: Sequence[str]) -> tuple[str, str]:
    names = tuple(compare)
    if len(names) != 2 or names[0] == names[1] or not set(names) <= set(ESTIMATORS):
        raise CaseError(
            str(case.path),
            "compare",
            f"{','.join(names)}: expected two different estimators of {', '.join(ESTIMATORS)}",
        )
    return names[0], names[1]


def _assignments(
    case: Case, given: Mapping[str, object], vary: str | None
) -> list[dict[str, object]]:
    """Every combination of the listed values of the parameters neither given nor varied."""
    open_names = [n for n in case.parameter_names if n not in given and n != vary]
    listed = [case.parameters[n] for n in open_names]
    return [
        {**given, **dict(zip(open_names, values, strict=True))}
        for values in itertools.product(*listed)
    ]


def _row(
    case: Case,
    pair: tuple[str, str],
    point: dict[str, object],
    vary: str | None,
    bounds: tuple[float, float] | None,
    min_width: float,
    budget: tuple[float, int | None],
    costs: tuple[float, float],
) -> RegionsRow:
    """The regions of both components with ``point`` fixed and the free names spanning
    the domain (mu and sigma) or ``bounds`` (the varied name)."""
    spans = {"mu": case.domain.mu, "sigma": case.domain.sigma}
    if vary is not None and bounds is not None:
        spans = {vary: (float(bounds[0]), float(bounds[1]))}
    # complete_point checks the fixed values; each free name is given its low end, then dropped.
    fixed = complete_point(case, {**point, **{n: low for n, (low, _) in spans.items()}})
    return region_row(case, pair, fixed, spans, min_width, budget, costs=costs)
