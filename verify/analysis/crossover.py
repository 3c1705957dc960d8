"""Crossovers: where the pathwise and score-function variances are equal along one variable.

The contract: :func:`find_crossovers` varies one of ``mu``, ``sigma`` or a case
parameter over ``[low, high]`` with every other value fixed, and returns, for one
gradient component, each point where Var[pathwise] = Var[score], located to relative
1e-12 (1e-8 is promised) from the exact formulas.  The method:

1. D = Var[pathwise] - Var[score] is scanned on an even grid of
   :data:`CLOSED_FORM_GRID` points in float64 (see :meth:`VarianceFunction.values`);
   when a variance needs quadrature the grid is the coarser :data:`QUADRATURE_GRID`,
   because each exact decision below costs a 40-digit quadrature (~0.1 s) instead of
   a millisecond, so features narrower than its spacing are likelier to be missed;
   the sign at every grid point where |D| is within 1e-6 of zero, relative to the
   variances, is decided exactly;
2. each sign change is closed with the exact values (see :mod:`verify.analysis.roots`);
3. a small local minimum of |D| (below 1e-2 relative) without a sign change is
   searched for a tangential zero (``touch``, reported where |D| <= 1e-12 relative) or
   for two crossings closer together than the grid;
4. a run of grid points with exactly equal variances (e.g. both zero) is reported once,
   as an ``interval`` [at, until], not as infinitely many roots.

An infinite variance is larger than any finite one; where both are infinite no
estimator is better and nothing is reported.  A sign change at which D does not close
to zero is reported with ``kind == "jump"``; equality at an end of the range has
``kind == "endpoint"``.  ``below``/``above`` name the estimator with the lower variance
just below and just above (``None`` beyond the range or where neither is lower).

>>> from verify.exact.derivation import derive
>>> from verify.cases.symbols import Z, parameter_symbol
>>> k = parameter_symbol("k")
>>> find_crossovers(derive((Z - k) ** 2), "k", -3.0, 3.0, {"mu": 1.0, "sigma": 1.0}, "mu")
[]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import mpmath
import numpy as np

from verify.analysis.roots import (
    Difference,
    Sign,
    edge_of_equality,
    lower_estimator,
    lowest_point,
    refine_crossing,
    sign_of,
    signed_difference,
)
from verify.analysis.sweep import VarianceFunction
from verify.cases.symbols import GRADIENT_PARAMETERS, RESERVED_NAMES, Z
from verify.exact.derivation import Derivation
from verify.exact.gaussian import Method

CLOSED_FORM_GRID = 801
QUADRATURE_GRID = 201
_RECHECK = 1e-6
_TOUCH_SEARCH = 1e-2
_TOUCH = 1e-12

Kind = Literal["crossing", "touch", "interval", "jump", "endpoint"]


@dataclass(frozen=True)
class Crossover:
    """A point of equal variances (for ``kind == "interval"``, the interval [at, until])."""

    at: mpmath.mpf | float
    below: str | None
    above: str | None
    touch: bool = False
    kind: Kind = "crossing"
    until: mpmath.mpf | float | None = None

    def as_json(self) -> dict[str, object]:
        """The JSON record: at, below, above, touch, kind (and until for an interval)."""
        record: dict[str, object] = {
            "at": float(self.at),
            "below": self.below,
            "above": self.above,
            "touch": self.touch,
            "kind": self.kind,
        }
        if self.until is not None:
            record["until"] = float(self.until)
        return record


@dataclass(frozen=True)
class CrossoverSearch:
    """The crossovers of one gradient component, and how they were found."""

    crossovers: list[Crossover]
    method: Method
    grid_points: int


def find_crossovers(
    derivation: Derivation,
    vary: str,
    low: float,
    high: float,
    fixed: dict[str, float],
    parameter: str,
) -> list[Crossover]:
    """Every point in [low, high] where the two variances of ``parameter`` are equal."""
    return search_crossovers(derivation, vary, low, high, fixed, parameter).crossovers


def search_crossovers(
    derivation: Derivation,
    vary: str,
    low: float,
    high: float,
    fixed: Mapping[str, float],
    parameter: str,
    grid_points: int | None = None,
) -> CrossoverSearch:
    """:func:`find_crossovers` with the method and grid size; ValueError on bad input."""
    fixed = {name: value for name, value in fixed.items() if name != vary}
    check_search(derivation, vary, low, high, fixed, parameter)
    difference = Difference(
        VarianceFunction.compile(derivation, "pathwise", parameter, fixed, [vary]),
        VarianceFunction.compile(derivation, "score", parameter, fixed, [vary]),
    )
    default = CLOSED_FORM_GRID if difference.method == "closed-form" else QUADRATURE_GRID
    points = default if grid_points is None else grid_points
    if points < 3:
        raise ValueError(f"the grid needs at least 3 points, got {points}")
    scan = _Scan(difference, np.linspace(low, high, points))
    return CrossoverSearch(scan.crossovers(), difference.method, points)


def check_search(
    derivation: Derivation,
    vary: str,
    low: float,
    high: float,
    fixed: Mapping[str, float],
    parameter: str,
) -> None:
    """ValueError, with a one-line message, unless the search is well posed."""
    if parameter not in GRADIENT_PARAMETERS:
        raise ValueError(f"unknown gradient component {parameter!r}; use mu or sigma")
    if vary in RESERVED_NAMES - {"mu", "sigma"}:
        raise ValueError(f"cannot vary {vary!r}; vary mu, sigma or a case parameter")
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"the range needs finite LOW < HIGH, got {low}:{high}")
    if vary == "sigma" and low <= 0:
        raise ValueError(f"sigma must stay > 0, but the range starts at {low}")
    if fixed.get("sigma", 1.0) <= 0:
        raise ValueError("sigma must be > 0")
    names = {s.name for s in derivation.r.free_symbols - {Z}} | {"mu", "sigma"}
    missing = sorted(names - {vary} - set(fixed))
    if missing:
        raise ValueError(f"missing value for {', '.join(missing)}")


def _dips(gaps: list[float], relative: float) -> bool:
    """Whether |D| at three neighbouring points has a minimum that may reach zero."""
    left, middle, right = gaps
    if not (middle < left and middle <= right and math.isfinite(left + right)):
        return False
    if relative < _TOUCH_SEARCH:
        return True
    curvature = left - 2 * middle + right
    vertex = middle - (right - left) ** 2 / (8 * curvature) if curvature > 0 else middle
    return bool(vertex <= 0.1 * middle)


class _Scan:
    """The grid scan of one difference: signs at the grid points, then each feature."""

    def __init__(self, difference: Difference, grid: np.ndarray) -> None:
        self.difference = difference
        self.x = [float(v) for v in grid]
        pathwise, score = difference.grid(grid)
        with np.errstate(all="ignore"):
            scale = np.maximum(np.abs(pathwise), np.abs(score))
            self.gap = pathwise - score
            self.relative = np.where(scale > 0, np.abs(self.gap) / scale, 0.0)
        self.exact: set[int] = set()
        self.signs: list[Sign] = [self._sign(i, pathwise[i], score[i]) for i in range(len(self.x))]
        self._settle()

    def _sign(self, index: int, pathwise: float, score: float) -> Sign:
        quick = sign_of(pathwise, score, 0)
        if quick in (-1, 1) and not self.relative[index] < _RECHECK:
            return quick
        if quick is None and math.isinf(pathwise) and math.isinf(score):
            return None
        return self._exact_sign(index)  # close to zero: decide exactly

    def _exact_sign(self, index: int) -> Sign:
        self.exact.add(index)
        return self.difference.exact_sign(self.x[index])

    def _settle(self) -> None:
        """Decide exactly the signs at both ends of every sign change, until none is left
        undecided: float64 can be wrong where a formula cancels (far in a tail)."""
        while True:
            pending = {
                j
                for i in range(len(self.x) - 1)
                if self.signs[i] in (-1, 1) and self.signs[i + 1] == -self.signs[i]  # type: ignore[operator]
                for j in (i, i + 1)
                if j not in self.exact
            }
            if not pending:
                return
            for j in pending:
                self.signs[j] = self._exact_sign(j)

    def crossovers(self) -> list[Crossover]:
        found = self._equalities() + self._sign_changes() + self._touches()
        return sorted(found, key=lambda c: float(c.at))

    def _equalities(self) -> list[Crossover]:
        """Runs of grid points with equal variances: intervals, touches, grid-point zeros."""
        found: list[Crossover] = []
        last = len(self.x) - 1
        start = 0
        while start <= last:
            if self.signs[start] != 0:
                start += 1
                continue
            end = start
            while end < last and self.signs[end + 1] == 0:
                end += 1
            before = self.signs[start - 1] if start > 0 else None
            after = self.signs[end + 1] if end < last else None
            found.append(self._equality(start, end, before, after))
            start = end + 1
        return found

    def _equality(self, start: int, end: int, before: Sign, after: Sign) -> Crossover:
        below, above = lower_estimator(before), lower_estimator(after)
        if end > start:
            first = self.x[start]
            if start > 0 and before is not None:
                first = edge_of_equality(self.difference, self.x[start], self.x[start - 1])
            final = self.x[end]
            if end < len(self.x) - 1 and after is not None:
                final = edge_of_equality(self.difference, self.x[end], self.x[end + 1])
            return Crossover(first, below, above, kind="interval", until=final)
        if start in (0, len(self.x) - 1):
            return Crossover(self.x[start], below, above, kind="endpoint")
        if before is not None and before == after:
            return Crossover(self.x[start], below, above, touch=True, kind="touch")
        return Crossover(self.x[start], below, above)

    def _sign_changes(self) -> list[Crossover]:
        found = []
        for i in range(len(self.x) - 1):
            left, right = self.signs[i], self.signs[i + 1]
            if left in (-1, 1) and right == -left:
                found.append(self._crossing(self.x[i], self.x[i + 1], left, right))
        return found

    def _crossing(
        self, low: float | mpmath.mpf, high: float | mpmath.mpf, left: Sign, right: Sign
    ) -> Crossover:
        root, closes = refine_crossing(self.difference, low, high)
        kind: Kind = "crossing" if closes else "jump"
        return Crossover(root, lower_estimator(left), lower_estimator(right), kind=kind)

    def _touches(self) -> list[Crossover]:
        """Local minima of |D| that may reach zero, without a sign change: a touch, or two
        crossings closer together than the grid."""
        found: list[Crossover] = []
        for i in range(1, len(self.x) - 1):
            sign = self.signs[i]
            if sign not in (-1, 1) or not self.signs[i - 1] == sign == self.signs[i + 1]:
                continue
            if self._may_reach_zero(i):
                found += self._examine(self.x[i - 1], self.x[i + 1], sign)
        return found

    def _may_reach_zero(self, i: int) -> bool:
        """A strict local minimum of |D| that is tiny relative to the variances, or whose
        parabola through the three grid values dips to a tenth of it (as c*(x - x0)**2
        does: then both variances may vanish together, as for a*z at a = 0).  A float64
        candidate is re-tested on exact values: float64 noise far in a tail looks jagged."""
        gaps = [abs(self.gap[j]) for j in (i - 1, i, i + 1)]
        if not _dips(gaps, float(self.relative[i])):
            return False
        exact = [self.difference.exact(self.x[j]) for j in (i - 1, i, i + 1)]
        gaps = [abs(float(signed_difference(*pair))) for pair in exact]
        pathwise, score = exact[1]
        relative = gaps[1] / max(float(pathwise), float(score), 1e-300)
        return _dips(gaps, relative)

    def _examine(self, low: float, high: float, sign: int) -> list[Crossover]:
        lowest = lowest_point(self.difference, low, high, sign)
        pathwise, score = self.difference.exact(lowest)
        if sign_of(pathwise, score, self.difference.equal) == -sign:
            return [
                self._crossing(low, lowest, sign, -sign),
                self._crossing(lowest, high, -sign, sign),
            ]
        # Small against the variances, or against D one grid step away (both may vanish).
        nearby = max(abs(signed_difference(*self.difference.exact(x))) for x in (low, high))
        gap = abs(signed_difference(pathwise, score))
        if gap <= _TOUCH * max(pathwise, score) or gap <= _TOUCH * nearby:
            name = lower_estimator(sign)
            return [Crossover(lowest, name, name, touch=True, kind="touch")]
        return []
