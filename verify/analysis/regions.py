"""Certified sign regions: boxes of the domain, each proven to belong to one estimator.

The contract: :func:`search_regions` covers a box ``domain`` (one closed interval per
free variable; a fixed value is an interval of width 0) by sub-boxes, each with a
label that a :data:`Labeller` *proved* for every point of it, or ``"undecided"``.  It is
branch and bound (Moore, Kearfott and Cloud, *Introduction to Interval Analysis*, SIAM
2009, Chapter 6; Kearfott, *Rigorous Global Search*, 1996): a box whose label is not
proven is bisected across its widest side relative to the domain (or of largest smear,
see :func:`_split_side`; or first cut at a divergence boundary), the largest boxes
first (among boxes of one size, those not proven to straddle a zero first), until every
side is below ``min_width`` times the domain's (then the box is reported
``"undecided"``, never guessed) or the budget -- seconds, or boxes examined -- is spent
(every box still waiting is reported ``"undecided"`` too).  A labeller may itself return
``"undecided"``: that box is final (a box one float wide around a divergence boundary).

:func:`closed_form_labeller` is the labeller of two estimators' closed-form variances
(:mod:`verify.exact.box_enclosure` decides each sign, :mod:`verify.exact.box_erfc`
picks the erfcx rewrite per box, :mod:`verify.exact.box_divergence` decides
divergence):

- both variances divergent on the whole box (their exact conditions, as the engine
  decides them, exactly against the roots where a condition is a polynomial in one
  variable): ``"infinite"``; only one: the other, finite, one is lower;
- otherwise the certified sign of ``Var[first] - Var[second]``: negative, ``first``;
  positive, ``second``;
- a difference that simplifies to 0 identically labels every box ``"equal"``.

:func:`shares` are fractions of the domain's volume (area, or length in one
dimension); :func:`crossings` are, in one dimension, the runs of undecided boxes
between boxes proven to belong to different estimators: each encloses a sign change.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import sympy

from verify.exact.box_divergence import (
    FinitePart,
    divergence_over,
    finite_part,
    varying_conditions,
)
from verify.exact.box_enclosure import Box, BoxFunction, Sign, box_function
from verify.exact.box_erfc import ScaledBoxFunction, scaled_where_useful
from verify.exact.box_normal import sign_equivalent
from verify.exact.box_quadrature import (
    BoxVariance,
    ClosedVariance,
    QuadratureDifference,
    box_variance,
)
from verify.exact.derivation import Derivation
from verify.exact.gaussian import Expectation

UNDECIDED, EQUAL, INFINITE = "undecided", "equal", "infinite"
Labeller = Callable[[Box], str | None]
# Seconds a component's search may take before what is left is reported undecided.
TIME_LIMIT = 60.0
# How much thinner than its widest side (relative to the domain) a box may become by
# splits of largest smear before it is split the wide way.
_ASPECT = 4.0
# Points (as fractions of each side) where a difference is tried for a nonzero value.
_PROBES = (0.5, 0.3141592653589793, 0.8462643383279502)


@dataclass(frozen=True)
class Region:
    """One box and its proven label (or ``"undecided"``)."""

    box: Box
    label: str


@dataclass(frozen=True)
class RegionSearch:
    """The boxes covering the domain, and how the search ended."""

    domain: Box
    regions: tuple[Region, ...]
    seconds: float
    boxes_examined: int
    budget_spent: bool


@dataclass(frozen=True)
class Crossing:
    """An undecided interval with different proven labels on either side."""

    interval: tuple[float, float]
    below: str
    above: str


def search_regions(
    labeller: Labeller,
    domain: Box,
    min_width: float,
    time_limit: float,
    max_boxes: int | None = None,
    enough: tuple[int, float] | None = None,
) -> RegionSearch:
    """Branch and bound over ``domain``; see the module docstring.

    ``max_boxes`` is a budget of boxes examined that, unlike ``time_limit``, gives the
    same regions on every machine (reports use it: they must be deterministic).
    ``enough = (boxes, share)`` ends the search earlier, once ``boxes`` are examined and
    at most ``share`` of the domain is still undecided (also machine-independent): a
    search that needs more boxes than most then gets them, up to ``max_boxes``.
    """
    start = time.perf_counter()
    widths = [high - low for low, high in domain]
    # (-volume, straddles, order, box): largest first; among boxes of one size, those
    # not proven to straddle a zero first (at the budget's end they are the ones that
    # can still be decided; a box with corners of both signs never can).
    waiting: list[tuple[float, bool, int, Box]] = [(-1.0, False, 0, domain)]
    regions: list[Region] = []
    examined, order, spent = 0, 1, False
    undecided = 1.0  # the share of the domain not (yet) proven to carry a label
    while waiting:
        negative_volume, _, _, box = heapq.heappop(waiting)
        out_of_boxes = (max_boxes is not None and examined >= max_boxes) or (
            enough is not None and examined >= enough[0] and undecided <= enough[1]
        )
        if out_of_boxes or time.perf_counter() - start > time_limit:
            spent = True
            regions.append(Region(box, UNDECIDED))
            regions.extend(Region(b, UNDECIDED) for *_, b in waiting)
            break
        examined += 1
        label = labeller(box)
        if label is not None:
            regions.append(Region(box, label))
            if label != UNDECIDED:
                undecided += negative_volume
            continue
        cut = labeller.cut(box) if isinstance(labeller, SmearLabeller) else None
        if cut is not None:
            pieces = _cut(box, *cut)
            fractions = [
                (p[cut[0]][1] - p[cut[0]][0]) / (box[cut[0]][1] - box[cut[0]][0]) for p in pieces
            ]
            for piece, fraction in zip(pieces, fractions, strict=True):
                heapq.heappush(
                    waiting, (negative_volume * fraction, _straddles(labeller, piece), order, piece)
                )
                order += 1
            continue
        side = _split_side(labeller, box, widths, min_width)
        if side is None:
            regions.append(Region(box, UNDECIDED))
            continue
        for half in _halves(box, side):
            heapq.heappush(waiting, (negative_volume / 2, _straddles(labeller, half), order, half))
            order += 1
    elapsed = time.perf_counter() - start
    return RegionSearch(domain, tuple(regions), elapsed, examined, spent)


def _straddles(labeller: Labeller, box: Box) -> bool:
    return isinstance(labeller, SmearLabeller) and labeller.function.straddles(box)


def _split_side(
    labeller: Labeller, box: Box, widths: Sequence[float], min_width: float
) -> int | None:
    """The side to bisect, or None when every side is down to ``min_width``.

    Among the sides still above the size limit: the one of largest smear when the
    labeller measures it (:class:`SmearLabeller`; splitting across a zero curve halves
    the undecided area at each step, splitting along it does not), else the widest
    relative to the domain.
    """
    open_sides = [
        i
        for i, ((low, high), w) in enumerate(zip(box, widths, strict=True))
        if w > 0 and high - low > min_width * w
    ]
    if not open_sides:
        return None
    relative = {i: (box[i][1] - box[i][0]) / widths[i] for i in open_sides}
    widest = max(open_sides, key=lambda i: relative[i])
    smear = labeller.smear(box) if isinstance(labeller, SmearLabeller) else None
    if smear is None or max(smear[i] for i in open_sides) <= 0:
        return widest
    chosen = max(open_sides, key=lambda i: smear[i])
    # A wide slope enclosure can point at one side again and again: boxes thinner than
    # 1/_ASPECT of their widest side (relative to the domain) are split the wide way.
    return chosen if relative[chosen] * _ASPECT >= relative[widest] else widest


def _halves(box: Box, side: int) -> tuple[Box, Box]:
    low, high = box[side]
    return _cut(box, side, (low + high) / 2)


def _cut(box: Box, side: int, point: float) -> tuple[Box, Box]:
    low, high = box[side]
    first = list(box)
    second = list(box)
    first[side] = (low, point)
    second[side] = (point, high)
    return tuple(first), tuple(second)


def relative_volume(box: Box, domain: Box) -> float:
    """The box's share of the domain's volume (free sides only)."""
    share = 1.0
    for (low, high), (domain_low, domain_high) in zip(box, domain, strict=True):
        if domain_high > domain_low:
            share *= (high - low) / (domain_high - domain_low)
    return share


def shares(search: RegionSearch, labels: Sequence[str]) -> dict[str, float]:
    """The fraction of the domain's volume proven for each label (``labels`` always listed)."""
    total = dict.fromkeys(labels, 0.0)
    for region in search.regions:
        total[region.label] = total.get(region.label, 0.0) + relative_volume(
            region.box, search.domain
        )
    return total


def crossings(search: RegionSearch, side: int, winners: Sequence[str]) -> list[Crossing]:
    """In one dimension (``side`` the free one), every undecided run between two winners."""
    ordered = sorted(search.regions, key=lambda r: r.box[side][0])
    runs: list[Crossing] = []
    previous: str | None = None
    run: list[float] | None = None
    for region in ordered:
        low, high = region.box[side]
        if region.label == UNDECIDED:
            run = [low, high] if run is None else [run[0], high]
            continue
        changed = previous is not None and previous != region.label
        if run is not None and changed and {previous, region.label} <= set(winners):
            runs.append(Crossing((run[0], run[1]), str(previous), region.label))
        previous, run = region.label, None
    return runs


@dataclass(frozen=True)
class SmearLabeller:
    """A labeller that also measures, per side, how much a box's width costs the
    centred form of its function (:meth:`BoxFunction.smear`): the search splits there."""

    label: Labeller
    function: BoxFunction | ScaledBoxFunction
    # Where the variances start to diverge: the search splits a box there first.
    part: FinitePart | None = None

    def __call__(self, box: Box) -> str | None:
        return self.label(box)

    def smear(self, box: Box) -> list[float] | None:
        return self.function.smear(box)

    def cut(self, box: Box) -> tuple[int, float] | None:
        """A side and a point of it where the box straddles a divergence boundary."""
        if self.part is None or not self.part.cuts:
            return None
        for side, points in sorted(self.part.cuts.items()):
            low, high = box[side]
            for point in points:
                if low < point < high:
                    return side, point
        return None


@dataclass(frozen=True)
class VarianceForm:
    """One estimator's closed-form variance and the conditions under which it diverges."""

    value: sympy.Expr
    divergence: tuple[sympy.Expr, ...]


def closed_form_labeller(
    names: tuple[str, str],
    forms: tuple[VarianceForm, VarianceForm],
    variables: tuple[sympy.Symbol, ...],
    domain: Box,
) -> Labeller:
    """The labeller of Var[names[0]] against Var[names[1]] (see the module docstring)."""
    difference = sympy.sympify(forms[0].value - forms[1].value)
    # Where the variances are finite (known exactly for conditions in one variable): the
    # rewrite below may multiply out factors such as 1 - 2 a sigma^2 that change sign only
    # at the divergence boundary.
    part = finite_part((*forms[0].divergence, *forms[1].divergence), variables, domain)
    # The sign is all a label needs: a tighter formula of the same sign decides more.
    same_sign = sign_equivalent(difference, variables, part.box)
    plain = box_function(same_sign, variables)
    if same_sign == 0 or identically_zero(difference, plain, part.box):
        return lambda box: EQUAL
    # Where every erf argument keeps one sign on a box, erfcx encloses it tighter.
    function = scaled_where_useful(plain, difference, variables, part.box)

    # Each variance's conditions, reduced once (most are exact: 0 for a cost of bounded
    # growth), and decided once per box when both variances have the same.
    reduced = [varying_conditions(f.divergence, variables) for f in forms]

    # A box's divergence depends only on its sides in the conditions' variables, which
    # halves and neighbours share: decided once per such projection (the same answers).
    sides = _sides_used(reduced, variables)
    decided: dict[tuple[int, Box], str | None] = {}

    def over(index: int, box: Box) -> str | None:
        conditions = reduced[index]
        if conditions is None:
            return "divergent"
        key = (index, tuple(box[i] for i in sides))
        if key not in decided:
            decided[key] = divergence_over(conditions, variables, box, part)
        return decided[key]

    def label(box: Box) -> str | None:
        first = over(0, box)
        divergent = [first, first if reduced[1] == reduced[0] else over(1, box)]
        if None in divergent:
            # A box one float wide around the boundary: splitting it would only cut it
            # into a staircase of such boxes.  Reported undecided, as it is.
            return UNDECIDED if part.in_a_bracket(box) else None
        if divergent == ["divergent", "divergent"]:
            return INFINITE
        if "divergent" in divergent:
            return names[divergent.index("finite")]
        if not _inside(box, part.box):
            return None  # not reached: a box proven finite lies in the crop
        return _sign_label(names, function.sign(box))

    return SmearLabeller(label, function, part)


def _sides_used(
    reduced: Sequence[tuple[sympy.Expr, ...] | None], variables: tuple[sympy.Symbol, ...]
) -> tuple[int, ...]:
    """The sides of a box that some of the conditions depend on."""
    free = {s for conditions in reduced for c in conditions or () for s in c.free_symbols}
    return tuple(i for i, v in enumerate(variables) if v in free)


def _inside(box: Box, outer: Box) -> bool:
    return all(
        low >= outer_low and high <= outer_high
        for (low, high), (outer_low, outer_high) in zip(box, outer, strict=True)
    )


def identically_zero(difference: sympy.Expr, function: BoxFunction, domain: Box) -> bool:
    """Whether the difference of two variances simplifies to 0 (two equal formulas).

    A certified nonzero value at one of a few points of the domain settles "no" without
    SymPy's simplification, which can take long on a large formula.
    """
    if difference == 0:
        return True
    for fraction in _PROBES:
        point = tuple((low + fraction * (high - low),) * 2 for low, high in domain)
        if function.sign(point) in (-1, 1):
            return False
    return bool(sympy.simplify(difference) == 0)


@lru_cache(maxsize=1024)
def variance_form(derivation: Derivation, estimator: str, component: str) -> VarianceForm | None:
    """Var[g] in closed form with its divergence conditions, or None (no closed form).

    Memoised (derivations are cached, one per cost, and hashed by identity): every
    parameter combination of a case and each check of it ask again."""
    value = derivation.variance_formula(estimator, component)
    if value is None:
        return None
    moments = [derivation.raw_moment(estimator, component, order) for order in (1, 2)]
    return VarianceForm(value, tuple(b for m in moments for b in m.divergence))


def component_labeller(
    derivation: Derivation,
    names: tuple[str, str],
    component: str,
    fixed: Mapping[sympy.Symbol, sympy.Expr],
    variables: tuple[sympy.Symbol, ...],
    domain: Box,
    costs: tuple[float, float] = (1.0, 1.0),
) -> Labeller | None:
    """The labeller for one gradient component with ``fixed`` values substituted exactly:
    closed forms where both variances have one, else box quadrature
    (:mod:`verify.exact.box_quadrature`); None where neither can be certified (an
    estimator whose moments are not single expectations, or no growth bound).

    ``costs`` (evaluations of r per estimate) compare ``c Var`` instead of ``Var``: the
    efficiency regions (work-normalised variance)."""
    substitution = dict(fixed)
    forms = [variance_form(derivation, name, component) for name in names]
    if forms[0] is not None and forms[1] is not None:
        substituted = tuple(
            scaled(
                VarianceForm(
                    sympy.sympify(f.value).xreplace(substitution),
                    tuple(sympy.sympify(b).xreplace(substitution) for b in f.divergence),
                ),
                cost,
            )
            for f, cost in zip((forms[0], forms[1]), costs, strict=True)
        )
        return closed_form_labeller(names, (substituted[0], substituted[1]), variables, domain)
    variances: list[BoxVariance | ClosedVariance] = []
    conditions: tuple[sympy.Expr, ...] = ()
    for name, form in zip(names, forms, strict=True):
        if form is not None:
            # A closed form beside a quadrature: enclosed by its box function (no jumps),
            # on the boxes where it provably converges.
            function = box_function(sympy.sympify(form.value).xreplace(substitution), variables)
            if function.jumps:
                return None
            variances.append(ClosedVariance(function))
            conditions = tuple(sympy.sympify(b).xreplace(substitution) for b in form.divergence)
            continue
        moments = [derivation.raw_moment(name, component, order) for order in (1, 2)]
        integrands = [
            sympy.sympify(m.integrand).xreplace(substitution)
            for m in moments
            if isinstance(m, Expectation)
        ]
        variance = (
            box_variance(integrands[0], integrands[1], variables, domain)
            if len(integrands) == 2
            else None
        )
        if variance is None:
            return None
        variances.append(variance)
    difference = QuadratureDifference((variances[0], variances[1]), costs)

    def label(box: Box) -> str | None:
        # A growth bound with C < 1/2 proves the quadrature side finite on the whole domain.
        if divergence_over(conditions, variables, box) != "finite":
            return None
        return _sign_label(names, difference.sign(box))

    return label


def scaled(form: VarianceForm, cost: float) -> VarianceForm:
    """``cost`` x the variance (the float's exact binary value), diverging where it does."""
    if cost == 1:
        return form
    return VarianceForm(sympy.Rational(cost) * form.value, form.divergence)


def _sign_label(names: tuple[str, str], sign: Sign) -> str | None:
    """The label a certified sign of Var[first] - Var[second] proves (None: undecided)."""
    if sign is None:
        return None
    return EQUAL if sign == 0 else names[0] if sign < 0 else names[1]
