"""Where a variance diverges, decided over boxes, and the boundary in closed form.

The contract: :func:`divergence_over` says whether some divergence condition
``re(b) >= 1/2`` (the engine's, :func:`verify.exact.evaluation.diverges` decides it at a
point) holds on the whole box (``"divergent"``), on none of it (``"finite"``), or
neither is proven (None).  :func:`finite_part` gives, for the conditions in one variable
that are polynomials (``a sigma^2`` in ``exp(a z^2)``), their boundary roots exactly and

- ``box``: the domain cropped, side by side, to the part where no such condition
  holds, its ends moved inside by one float at a root: every box proven finite lies in
  it, so a formula rewritten for its sign on it (:mod:`verify.exact.box_normal`, whose
  exact steps need the factors ``1 - 2 a sigma^2`` of one sign) holds there;
- ``cuts``: per side, the floats next to each root (the two floats around it, or
  the float before it and itself when it is one, since the boundary itself diverges).
  A search that splits at them leaves the boundary in a box one float wide, never in a
  staircase of boxes along it: everything else is proven finite or divergent.

Conditions in several variables, or not polynomial, are left to :func:`divergence_over`
alone (no crop, no cut).

>>> from verify.cases.symbols import MU, SIGMA
>>> part = finite_part((SIGMA**2 / 2,), (MU, SIGMA), ((-2.0, 2.0), (0.1, 1.4)))
>>> part.box[1][1] < 1.0, part.cuts[1]
(True, (0.9999999999999999, 1.0))
>>> [divergence_over((SIGMA**2 / 2,), (MU, SIGMA), ((-2.0, 2.0), s), part)
...  for s in ((0.1, 0.9999999999999999), (1.0, 1.4), (0.9999999999999999, 1.0))]
['finite', 'divergent', None]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import sympy
from flint import arb

from verify.exact.balls import BallFunction, compile_balls, working_precision
from verify.exact.box_enclosure import BOX_PRECISION, Box, certified_sign, interval_ball

Divergence = Literal["finite", "divergent"] | None
_HALF = arb(1) / 2


@lru_cache(maxsize=256)
def _condition_function(condition: sympy.Expr, variables: tuple[sympy.Symbol, ...]) -> BallFunction:
    return compile_balls(condition, variables)


def divergence_over(
    conditions: tuple[sympy.Expr, ...],
    variables: tuple[sympy.Symbol, ...],
    box: Box,
    part: FinitePart | None = None,
) -> Divergence:
    """Whether some condition ``re(b) >= 1/2`` holds: on the whole box, on none of it, or None.

    Exact conditions (no free variable left) are decided in rational arithmetic, as
    :func:`verify.exact.evaluation.diverges` does at a point; the conditions whose roots
    ``part`` knows, by where the box lies against those roots (exact: a box that ends on
    the boundary is decided, which the ball of the condition, its radius rounded
    outward, cannot do); the others by ball arithmetic.
    """
    undecided = False
    for condition in conditions:
        decided = _condition_over(condition, variables, box, part)
        if decided == "divergent":
            return decided
        undecided = undecided or decided is None
    return None if undecided else "finite"


def varying_conditions(
    conditions: tuple[sympy.Expr, ...], variables: tuple[sympy.Symbol, ...]
) -> tuple[sympy.Expr, ...] | None:
    """The conditions that depend on the variables, each once (``divergence_over`` of
    them is its answer for all of ``conditions``: "divergent" when one holds, else None
    when one is undecided, else "finite"), or None when a condition without variables
    already holds (every box diverges).  Made once per search, not per box."""
    varying = tuple(dict.fromkeys(c for c in conditions if _depends_on(c, variables)))
    exact = [_exact_divergence(c) for c in conditions if not _depends_on(c, variables)]
    return None if "divergent" in exact else varying


def _condition_over(
    condition: sympy.Expr,
    variables: tuple[sympy.Symbol, ...],
    box: Box,
    part: FinitePart | None,
) -> Divergence:
    if not _depends_on(condition, variables):
        return _exact_divergence(condition)
    with working_precision(BOX_PRECISION):
        function = _condition_function(condition, variables)
        known = None if part is None else part.roots.get(condition)
        if known is not None and box[known[0]][0] < box[known[0]][1]:
            side, brackets = known
            centre = [interval_ball((lo + hi) / 2, (lo + hi) / 2) for lo, hi in box]
            middle = certified_sign(function(centre).real - _HALF)
            low, high = box[side]
            # A root lies strictly inside (low, high) / in [low, high] unless excluded here.
            inside = any(not (high <= b_low or low >= b_high) for b_low, b_high in brackets)
            touching = any(not (high <= b_low or low > b_high) for b_low, b_high in brackets)
            if not touching and middle in (-1, 1):
                return "finite" if middle < 0 else "divergent"
            if not inside and middle == 1:
                return "divergent"  # a root at an end: there the condition holds too
            return None
        whole = [interval_ball(low, high) for low, high in box]
        decided = certified_sign(function(whole).real - _HALF)
    if decided is None:
        return None
    return "finite" if decided < 0 else "divergent"


@lru_cache(maxsize=1024)
def _depends_on(condition: sympy.Expr, variables: tuple[sympy.Symbol, ...]) -> bool:
    """Whether a condition has a free variable (asked for every box: SymPy recomputes
    ``free_symbols`` on each call)."""
    return bool(condition.free_symbols & set(variables))


@lru_cache(maxsize=1024)
def _exact_divergence(condition: sympy.Expr) -> Divergence:
    """A condition without free variables, decided once (SymPy's comparison is slow)."""
    return "divergent" if bool(sympy.re(condition) >= sympy.Rational(1, 2)) else "finite"


@dataclass(frozen=True)
class FinitePart:
    """The domain cropped to where no one-variable condition diverges, the cuts, and
    each such condition's side and root brackets."""

    box: Box
    cuts: dict[int, tuple[float, ...]] = field(default_factory=dict)
    roots: dict[sympy.Expr, tuple[int, tuple[tuple[float, float], ...]]] = field(
        default_factory=dict
    )

    def in_a_bracket(self, box: Box) -> bool:
        """Whether some side of ``box`` lies within one of that side's root brackets."""
        return any(
            low <= box[side][0] and box[side][1] <= high
            for side, brackets in self.roots.values()
            for low, high in brackets
        )


def finite_part(
    conditions: tuple[sympy.Expr, ...], variables: tuple[sympy.Symbol, ...], domain: Box
) -> FinitePart:
    """The crop, the cuts and the roots of the module docstring."""
    box = list(domain)
    cuts: dict[int, list[float]] = {}
    known: dict[sympy.Expr, tuple[int, tuple[tuple[float, float], ...]]] = {}
    for condition in conditions:
        free = condition.free_symbols & set(variables)
        if len(free) != 1:
            continue
        symbol = free.pop()
        side = variables.index(symbol)
        excess = sympy.re(condition) - sympy.Rational(1, 2)
        if domain[side][0] == domain[side][1] or excess.has(sympy.re):
            continue
        if not excess.is_polynomial(symbol):
            continue
        roots = _roots_inside(excess, symbol, domain[side])
        brackets = tuple(_floats_around(root) for root in roots)
        known[condition] = (side, brackets)
        cuts.setdefault(side, []).extend(p for bracket in brackets for p in bracket)
        ends = [sympy.Rational(domain[side][0]), *roots, sympy.Rational(domain[side][1])]
        finite = [
            (ends[i], ends[i + 1])
            for i in range(len(ends) - 1)
            if excess.xreplace({symbol: (ends[i] + ends[i + 1]) / 2}) < 0
        ]
        if len(finite) != 1:
            continue  # divergent everywhere, or finite on pieces apart: no one box
        start, stop = finite[0]
        start_float = _above(start) if start in roots else float(start)
        stop_float = _below(stop) if stop in roots else float(stop)
        low, high = box[side]
        box[side] = (max(low, start_float), min(high, stop_float))
    cropped = tuple(box) if all(low <= high for low, high in box) else domain
    return FinitePart(cropped, {s: tuple(sorted(set(p))) for s, p in cuts.items()}, known)


def _roots_inside(
    excess: sympy.Expr, symbol: sympy.Symbol, side: tuple[float, float]
) -> list[sympy.Expr]:
    """The real roots of a polynomial strictly inside the side, exact and in order."""
    low, high = sympy.Rational(side[0]), sympy.Rational(side[1])
    polynomial = sympy.Poly(excess, symbol)
    return sorted({r for r in polynomial.real_roots() if low < r < high}, key=lambda r: float(r))


def _below(root: sympy.Expr) -> float:
    """The largest float strictly below ``root`` (an exact real number)."""
    guess = float(root)
    while sympy.Rational(guess) >= root:
        guess = math.nextafter(guess, -math.inf)
    return guess


def _above(root: sympy.Expr) -> float:
    """The smallest float strictly above ``root``."""
    guess = float(root)
    while sympy.Rational(guess) <= root:
        guess = math.nextafter(guess, math.inf)
    return guess


def _floats_around(root: sympy.Expr) -> tuple[float, float]:
    """The bracket of ``root``: the float below it and the float at or above it."""
    below = _below(root)
    return below, math.nextafter(below, math.inf)
