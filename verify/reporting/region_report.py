"""The proven regions a report shows: searched with a box budget, never a time limit.

The contract: :func:`gather_regions` searches, for every listed parameter combination
of a case, the sign regions of ``Var[score] - Var[pathwise]`` of both components over
the case's ``(mu, sigma)`` domain (:func:`verify.analysis.region_rows.region_row`) and
returns them with one :class:`~verify.analysis.region_verdicts.RegionVerdict` per
component.  Reports must be byte-identical on every machine and rerun, so the search
stops after a number of boxes examined, never after a time: each search examines
:data:`REGION_BOXES_PER_SEARCH` boxes (fewer when it is done), and one that still leaves
more than :data:`REGION_ENOUGH_UNDECIDED` of the domain undecided goes on until it does
not or :data:`REGION_BOXES_EXTENDED` are examined (:func:`budget_words`).  The time
limit is a safety value far above what the budget takes.  Components enclosed
by box quadrature get :data:`QUADRATURE_BOXES` boxes: 0 for now, as box quadrature
examines about 10 boxes a second on the 2-core machine where the budget was chosen
(closed forms 300-8,000); their verdicts are then the grid's, and say so.

:func:`explicit_regions` gives a case in explicit coordinates z1..zd the same over a
common shift and scale of all coordinates (``mu_i = mu``, ``sigma_i = sigma``), one
verdict per component ``mu1``..``sigmad``, with the same budget per component.

:func:`range_regions` maps each parameter given as a range (``k = {range = [low,
high]}``) continuously: the regions along it, with ``mu`` and ``sigma`` at the
reference point and the other parameters at the first combination, each sign change
enclosed in an undecided interval of at most 2^-26 of the range
(:data:`~verify.analysis.region_rows.MIN_WIDTH_LINE`), with at most
:data:`REGION_BOXES_EXTENDED` boxes per component (a line needs few).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from verify.analysis.region_rows import (
    MIN_WIDTH_AREA,
    MIN_WIDTH_LINE,
    RegionsRow,
    region_row,
)
from verify.analysis.region_verdicts import RegionVerdict, row_shares
from verify.analysis.verdicts import ComponentVerdict
from verify.cases.case import Case
from verify.cases.estimators import CLASSIC_ESTIMATORS

# Boxes examined per search (a parameter combination and a component), chosen from
# measurement (README "Proven regions in the reports"): with the second-order form,
# erfcx and the divergence boundaries (verify.exact.box_enclosure, box_erfc,
# box_divergence), 4,000 boxes leave every bundled closed-form component at most 1%
# undecided but gaussian_bump's sigma at k = 10 (1.3%), which goes on towards 16,000.
# Over all 42 cases that examined 371,000 boxes in 129 s of CPU (about 57 s since the
# set-up is memoised and box functions are straight-line code, verify.exact.box_compile;
# the same boxes); stopping at 1% after 1,000 boxes examined 162,000 in 100 s (before),
# but left elu, relu's mu and two_kinks' sigma 0.5-1% undecided where 4,000 prove them
# over the whole domain.
REGION_BOXES_PER_SEARCH = 4000
REGION_BOXES_EXTENDED = 16000
REGION_ENOUGH_UNDECIDED = 0.01
# Boxes per component enclosed by box quadrature (about 10 boxes/s: not affordable yet).
QUADRATURE_BOXES = 0
# Seconds: only a safety net; a report's regions end by the box budget.
SAFETY_TIME_LIMIT = 3600.0


REPORT_BUDGET = (SAFETY_TIME_LIMIT, REGION_BOXES_EXTENDED)
REPORT_ENOUGH = (REGION_BOXES_PER_SEARCH, REGION_ENOUGH_UNDECIDED)


def budget_words() -> str:
    """The reports' box budget, said in words."""
    return (
        f"{REGION_BOXES_PER_SEARCH:,} boxes per parameter combination and component, "
        f"continued up to {REGION_BOXES_EXTENDED:,} while more than "
        f"{100 * REGION_ENOUGH_UNDECIDED:g}% of the domain is undecided"
    )


def gather_regions(
    case: Case,
    combinations: Sequence[Mapping[str, float]],
    grid: Mapping[str, ComponentVerdict],
    labels: Sequence[str],
) -> tuple[list[RegionsRow], dict[str, RegionVerdict]]:
    """The regions of every combination, and the verdicts (``grid``: the fallback)."""
    spans = {"mu": case.domain.mu, "sigma": case.domain.sigma}
    rows = [
        region_row(
            case,
            CLASSIC_ESTIMATORS,
            {**case.reference, **combination},
            spans,
            MIN_WIDTH_AREA,
            REPORT_BUDGET,
            quadrature_boxes=QUADRATURE_BOXES,
            enough=REPORT_ENOUGH,
        )
        for combination in combinations
    ]
    return rows, _verdicts(rows, labels, grid, REGION_BOXES_PER_SEARCH, discontinuous=False)


def explicit_regions(
    case: Case,
    combinations: Sequence[Mapping[str, float]],
    labels: Sequence[str],
    discontinuous: bool,
) -> tuple[list[RegionsRow], dict[str, RegionVerdict]]:
    """An explicit-coordinate case's regions over a common shift and scale of all its
    coordinates (mu_i = mu, sigma_i = sigma), per combination, and the verdicts per
    component (no grid: the verdict is proven or says it is not)."""
    assert case.coordinates is not None
    spans = {"mu": case.domain.mu, "sigma": case.domain.sigma}
    rows = [
        region_row(
            case,
            CLASSIC_ESTIMATORS,
            dict(combination),
            spans,
            MIN_WIDTH_AREA,
            REPORT_BUDGET,
            enough=REPORT_ENOUGH,
        )
        for combination in combinations
    ]
    return rows, _verdicts(rows, labels, {}, REGION_BOXES_PER_SEARCH, discontinuous)


def _verdicts(
    rows: Sequence[RegionsRow],
    labels: Sequence[str],
    grid: Mapping[str, ComponentVerdict],
    budget: int,
    discontinuous: bool,
) -> dict[str, RegionVerdict]:
    """One verdict per component over every row."""
    components = rows[0].searches if rows else {}
    return {
        p: RegionVerdict(
            p,
            tuple(
                row_shares(label, row.searches[p], row.methods[p])
                for label, row in zip(labels, rows, strict=True)
            ),
            grid.get(p),
            budget,
            discontinuous,
        )
        for p in components
    }


def range_regions(case: Case, combinations: Sequence[Mapping[str, float]]) -> dict[str, RegionsRow]:
    """The regions along each parameter given as a range (see the module docstring)."""
    first = dict(combinations[0]) if combinations else {}
    return {
        name: region_row(
            case,
            CLASSIC_ESTIMATORS,
            {**first, **case.reference},
            {name: span},
            MIN_WIDTH_LINE,
            (SAFETY_TIME_LIMIT, REGION_BOXES_EXTENDED),
            quadrature_boxes=QUADRATURE_BOXES,
        )
        for name, span in case.ranges.items()
    }
