"""Per-component verdicts from the proven regions, with the grid's estimate as a fallback.

The contract: a :class:`RegionVerdict` summarises one gradient component of a case over
its ``(mu, sigma)`` domain and every listed parameter combination (one
:class:`RowShares` each, every row the same area) from the boxes that
:func:`verify.analysis.region_rows.region_row` proved for the score function against
the pathwise estimator.  The share of the domain where the score function is lower is
an interval: at least the proven share, at most the proven share plus the undecided
one, so it contains the true share whatever the undecided boxes hold.  Its
:attr:`~RegionVerdict.status` says how far the answer is certified:

- ``"proven"``: every row was searched and nothing is undecided;
- ``"bounds"``: every row was searched, some area is undecided within the box budget;
  the interval is proven, and the grid's share is stated beside it as an estimate;
- ``"grid estimate"``: some row has no certified search (no enclosure of the variances
  over a box, or box quadrature not searched within the report's budget); the verdict
  is then the grid's (:class:`~verify.analysis.verdicts.ComponentVerdict`), said in
  words, with the reason.

>>> grid = ComponentVerdict("mu", 0.25, ("k=1",), 0.0, False, False)
>>> row = RowShares("k=1", {"score": 0.25, "pathwise": 0.75, "undecided": 0.0}, "closed-form", 9)
>>> RegionVerdict("mu", (row,), grid, budget=100).label
'score lower in 25.0% of the domain (proven; k=1)'
>>> row = RowShares("k=1", {"score": 0.25, "pathwise": 0.7, "undecided": 0.05}, "closed-form", 99)
>>> RegionVerdict("mu", (row,), grid, budget=100).short
'score lower in 25.0-30.0%'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from verify.analysis.region_rows import QUADRATURE, UNCERTIFIED
from verify.analysis.regions import EQUAL, INFINITE, UNDECIDED, RegionSearch, shares
from verify.analysis.verdicts import ComponentVerdict

PROVEN, BOUNDS, GRID = "proven", "bounds", "grid estimate"
SCORE, PATHWISE = "score", "pathwise"


@dataclass(frozen=True)
class RowShares:
    """One parameter combination's proven shares of the domain, and how they were found."""

    label: str  # the combination, e.g. "k=1"
    shares: dict[str, float]  # label -> fraction of the domain (missing: 0)
    method: str  # closed-form | quadrature | uncertified
    boxes_examined: int

    def share(self, label: str) -> float:
        """The fraction of the domain proven for ``label``."""
        return self.shares.get(label, 0.0)

    @property
    def searched(self) -> bool:
        """A certified labeller examined at least one box."""
        return self.method != UNCERTIFIED and self.boxes_examined > 0


def row_shares(label: str, search: RegionSearch, method: str) -> RowShares:
    """The shares of score against pathwise that one search proved."""
    labels = (SCORE, PATHWISE, EQUAL, UNDECIDED, INFINITE)
    return RowShares(label, shares(search, labels), method, search.boxes_examined)


@dataclass(frozen=True)
class RegionVerdict:
    """The proven answer for one component (see the module docstring)."""

    parameter: str
    rows: tuple[RowShares, ...]
    grid: ComponentVerdict | None  # None: no grid (explicit coordinates)
    budget: int  # boxes per row and component that the search could examine
    discontinuous: bool = False  # r has jumps: the pathwise estimator is biased

    @property
    def biased(self) -> bool:
        """The pathwise estimator is biased (r has jumps)."""
        return self.discontinuous or (self.grid is not None and self.grid.biased)

    def _mean(self, label: str) -> float:
        return sum(row.share(label) for row in self.rows) / len(self.rows)

    @property
    def status(self) -> str:
        """``proven``, ``bounds`` or ``grid estimate`` (see the module docstring)."""
        if not self.rows or not all(row.searched for row in self.rows):
            return GRID
        return PROVEN if self.undecided == 0 else BOUNDS

    @property
    def undecided(self) -> float:
        """The undecided fraction of the domain, over every row."""
        return self._mean(UNDECIDED)

    @property
    def score_lower(self) -> tuple[float, float]:
        """The fraction of the domain where the score function is lower: [proven, possible]."""
        low = self._mean(SCORE)
        return low, min(1.0, low + self.undecided)

    @property
    def _equal_everywhere(self) -> bool:
        # Zero shares are exact (sums of zeros); a share of 1 may be off by rounding.
        return all(self._mean(label) == 0 for label in (SCORE, PATHWISE, INFINITE, UNDECIDED))

    @property
    def infinite(self) -> float:
        """The fraction proven to have both variances infinite."""
        return self._mean(INFINITE)

    @property
    def reason(self) -> str:
        """Why the answer is the grid's, in words (empty when it is not)."""
        if self.status != GRID:
            return ""
        methods = {row.method for row in self.rows if not row.searched}
        if UNCERTIFIED in methods:
            return (
                "no certified enclosure of the two variances over a box (a moment without a "
                "closed form or growth bound), so only grid points are evaluated"
            )
        if QUADRATURE in methods:
            return (
                "the variances need box quadrature, orders of magnitude slower per box than "
                "closed forms and not searched within the report's budget "
                "(`verify regions` searches it)"
            )
        return "the regions were not searched"

    @property
    def label(self) -> str:
        """The one-line verdict: the proven finding (or the grid's), then the caveats."""
        if self.status == GRID:
            if self.grid is None:
                return f"not certified: {self.reason}"
            return f"{self.grid.label} (grid estimate: {self.reason})"
        parts = [self._finding()]
        if self.biased:
            parts.append("pathwise biased")
        if self.infinite > 0:
            parts.append(f"both variances infinite in {percent(self.infinite)} of the domain")
        return ", ".join(parts)

    def _finding(self) -> str:
        low, high = self.score_lower
        if self.status == PROVEN:
            if self._equal_everywhere:
                return "equal variances everywhere (proven over the domain)"
            if high == 0:
                # Elsewhere both variances are infinite or equal (stated as caveats).
                others = self.infinite > 0 or self._mean(EQUAL) > 0
                everywhere = "wherever they differ" if others else "everywhere"
                return f"pathwise lower {everywhere} (proven over the domain)"
            where = "; ".join(r.label for r in self.rows if r.share(SCORE) > 0)
            return f"score lower in {percent(low)} of the domain (proven; {where})"
        where = "; ".join(r.label for r in self.rows if r.share(SCORE) > 0) or "no row proven"
        grid = (
            ""
            if self.grid is None
            else f"the grid estimate is {self.grid.score_lower_share:.0%} of the map; "
        )
        return (
            f"score lower in {_interval(low, high)} of the domain (proven bounds; "
            f"{percent(self.undecided, up=True)} undecided within the box budget; "
            f"{grid}score proven lower at: {where})"
        )

    @property
    def short(self) -> str:
        """A compact tag for the index table."""
        if self.status == GRID:
            return "not certified" if self.grid is None else f"{self.grid.short} (grid estimate)"
        low, high = self.score_lower
        if self.status == PROVEN and self._equal_everywhere:
            tags = ["equal (proven)"]
        elif self.status == PROVEN and high == 0:
            tags = ["pathwise lower (proven)"]
        elif self.status == PROVEN:
            tags = [f"score lower in {percent(low)} (proven)"]
        else:
            tags = [f"score lower in {_interval(low, high)}"]
        if self.biased:
            tags.append("biased")
        if self.infinite > 0:
            tags.append("infinite somewhere")
        return ", ".join(tags)

    @property
    def loses_somewhere(self) -> bool | None:
        """Whether the score function is lower somewhere: proven True or False, or None."""
        if self.status == GRID:
            return None
        low, high = self.score_lower
        return True if low > 0 else False if high == 0 else None


def percent(share: float, up: bool = False) -> str:
    """A share as a percentage to 0.1% (rounded up when it is an upper bound; a positive
    share that would round to 0.0% is "<0.1%", never read as none).

    >>> percent(0.7083), percent(0.00912, up=True), percent(0.0003)
    ('70.8%', '1.0%', '<0.1%')
    """
    if 0 < share < 0.0005 and not up:
        return "<0.1%"
    value = math.ceil(share * 1000) / 10 if up else round(share * 100, 1)
    return f"{value:.1f}%"


def _interval(low: float, high: float) -> str:
    """[low, high] as percentages rounded outward, so the printed interval contains it."""
    return f"{math.floor(low * 1000) / 10:.1f}-{math.ceil(high * 1000) / 10:.1f}%"
