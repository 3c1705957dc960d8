"""Closed forms enclosed over a whole box of (mu, sigma, parameters), and their certified sign.

The contract: :func:`box_function` compiles a SymPy closed form ``f`` in some free
symbols (the others already substituted by exact values) into a :class:`BoxFunction`;
``BoxFunction.sign(box)`` is ``-1`` when ``f < 0`` at *every* point of the box, ``+1``
when ``f > 0`` everywhere, and ``None`` when ball arithmetic cannot decide -- never a
guess.  ``BoxFunction.enclose(box)`` is an ``arb`` ball that contains ``f`` at every
point of the box.  A box is one closed interval ``(low, high)`` of floats per free
symbol; floats are exact binary numbers, so the box the proof covers is exactly the one
given.

The method is the validated-numerics one (Moore, Kearfott and Cloud, *Introduction to
Interval Analysis*, SIAM 2009, Sections 6.1-6.4; Neumaier, *Interval Methods for
Systems of Equations*, 1990, Section 2.3):

- the *natural interval extension* ``f(X)``: every operation of the formula on balls
  (:func:`verify.exact.balls.compile_balls`, FLINT's arb), which overestimates the range
  by the dependency effect, linearly in the box width;
- the *centred (mean-value) form* ``f(c) + sum_i f_i(X) (X_i - c_i)``, with ``c`` the
  centre and ``f_i = df/dx_i`` differentiated symbolically by SymPy and itself enclosed
  over ``X``: by the mean value theorem it contains the range, and its overestimation is
  quadratic in the width, so it decides boxes close to the zero set of ``f``;
- *monotonicity*: where ``f_i(X)`` has a certified sign, ``f`` is monotone in ``x_i``
  over the box, so its maximum lies on one face and its minimum on the opposite one;
  each bound is then the centred form over that face alone;
- the *second-order Taylor form* ``f(c) + grad f(c) . t + t^T H(X) t / 2`` (``t = X - c``,
  Lagrange remainder; Neumaier, Section 2.4): the gradient is taken at the centre, a
  point, and only the Hessian over the box, so where the partials' own interval
  extensions are wide (sums of large terms that nearly cancel, such as
  ``(4 mu^2 + 18 sigma^2) (erf(u+) - erf(u-))`` beside exponentials) its width shrinks
  like the cube of the box's.  Tried last, on smooth formulas only (no kink or jump
  anywhere in the formula: a Hessian across a kink is a Dirac mass), its second
  derivatives compiled on first use.

Before any of the last three, a box whose corners have certified values of both signs
(:meth:`BoxFunction.straddles`; point values are memoised, as neighbouring boxes and
halves share corners) is left undecided at once: no enclosure can decide it.

Every enclosure is intersected (the range lies in each), and the sign is read
three-valued by :func:`certified_sign`: python-flint's ``ball < 0`` is ``False`` both
when the ball is positive and when it straddles 0, so ``not (ball < 0)`` is never read
as ``ball >= 0`` here.

Divergence over a box is :mod:`verify.exact.box_divergence`'s.

Compiled functions are memoised per formula and free symbols (:func:`box_function`);
f, its partials (together), its Hessian and its jumps' arguments are evaluated by
straight-line code (:mod:`verify.exact.box_compile`), which gives the closures' very
balls, faster.

>>> from verify.cases.symbols import MU, SIGMA
>>> f = box_function(MU**2 - SIGMA, (MU, SIGMA))
>>> [f.sign(box) for box in (((1.5, 2.0), (0.5, 1.0)), ((0.0, 0.5), (0.5, 1.0)),
...                           ((0.0, 2.0), (0.5, 1.0)))]
[1, -1, None]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Literal

import sympy
from flint import acb, arb, ctx

from verify.exact.balls import BallFunction, compile_balls, working_precision
from verify.exact.box_compile import ball_function, straight_line

Box = tuple[tuple[float, float], ...]
Sign = Literal[-1, 0, 1] | None

# Enough bits that rounding never decides a sign the formula does not; the box widths,
# not the precision, set the radii here.
BOX_PRECISION = 96


def certified_sign(ball: arb) -> Sign:
    """-1, 0 or +1 when the ball proves the sign of every value in it, else None.

    ``0`` only for the exact zero ball.  A ball that straddles 0, or is not finite, is
    ``None``: undecided, never False.

    >>> [certified_sign(ball) for ball in (arb(-2, 1), arb(0, 1), arb(0), arb(3, 1))]
    [-1, None, 0, 1]
    """
    if not ball.is_finite():
        return None
    if ball.is_zero():
        return 0
    if bool(ball < 0):
        return -1
    if bool(ball > 0):
        return 1
    return None


def interval_ball(low: float, high: float) -> acb:
    """A real ball that contains every point of [low, high] (exactly: floats are binary)."""
    return _interval_ball(low, high, ctx.prec)


@lru_cache(maxsize=65536)
def _interval_ball(low: float, high: float, precision: int) -> acb:
    # Memoised per precision (the union is rounded at it; balls are immutable): a box's
    # sides recur in its halves, its neighbours and every enclosure tried on it.
    return acb(arb(low).union(arb(high)))


@dataclass(frozen=True)
class BoxFunction:
    """A closed form and its partial derivatives, compiled to balls (see the module docstring)."""

    # f (a BallFunction, or its straight-line compilation: the same balls, faster).
    value: Callable[[Sequence[acb]], acb]
    partials: tuple[BallFunction, ...]
    # Arguments of the jumps of f (Heaviside steps): where one may vanish in a box, f
    # may be discontinuous there and only the natural extension is valid.
    jumps: tuple[Callable[[Sequence[acb]], acb], ...] = ()
    # f's formula, from which the second-order form compiles its Hessian when first
    # needed (None: no second-order form).
    formula: sympy.Expr | None = None
    variables: tuple[sympy.Symbol, ...] = ()
    # The partial derivatives as formulas (differentiated once more for the Hessian).
    first: tuple[sympy.Expr, ...] = ()
    # The partials compiled together (their shared erf and exp factors evaluated once;
    # each ball is the one its own BallFunction gives), or None: one by one.
    gradient: Callable[[Sequence[acb]], list[acb]] | None = None
    _hessian: dict[tuple[int, ...], Callable[[Sequence[acb]], list[acb]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _slopes: dict[Box, list[float]] = field(default_factory=dict, compare=False, repr=False)
    _first_collected: dict[int, sympy.Expr] = field(default_factory=dict, compare=False, repr=False)
    _points: dict[tuple[float, ...], arb] = field(default_factory=dict, compare=False, repr=False)
    # The certified sign at each corner met (the search asks whether every box it makes
    # straddles a zero).
    _signs: dict[tuple[float, ...], Sign] = field(default_factory=dict, compare=False, repr=False)

    def enclose(self, box: Box) -> arb:
        """A ball containing f at every point of ``box`` (the tightest of the forms above)."""
        with working_precision(BOX_PRECISION):
            return self._enclose(box)[0]

    def sign(self, box: Box) -> Sign:
        """The certified sign of f over ``box``, or None (three-valued; see certified_sign)."""
        with working_precision(BOX_PRECISION):
            whole = [interval_ball(low, high) for low, high in box]
            # The natural extension costs one evaluation and decides the boxes far from
            # the zero set; the centred form (three or more) is tried only after it.
            natural = self.value(whole).real
            decided = certified_sign(natural)
            if decided is not None or not self._smooth(whole):
                return decided
            # Corners of opposite signs: no enclosure can decide the box, so none is
            # tried (most boxes the search examines along a zero curve are such).
            # Corners are shared by neighbouring boxes and halves: their values are kept.
            self._slopes.clear()
            if self.straddles(box):
                self._slopes[box] = _corner_smear(box, self._corner_values(box))
                return None
            gradient = self._slopes_at(whole)
            # The search asks for the smear of the box it could not decide: keep it.
            self._slopes[box] = _slope_smear(box, gradient)
            centre = self._point_value(_centre(box))
            centred = self._centred(box, gradient, centre)
            if not centred.is_finite():
                return None
            ball = intersection(natural, centred) if natural.is_finite() else centred
            decided = certified_sign(ball)
            if decided is not None:
                return decided
            # The second-order form contains f(c) +- sum_i |f_i(c)| r_i, and |f_i(c)| is at
            # least the smallest |f_i| over the box: where that already reaches 0 the
            # form cannot decide, and its Hessian is not evaluated.
            reach = sum(
                float(slope.abs_lower()) * (high - low) / 2
                for slope, (low, high) in zip(gradient, box, strict=True)
            )
            hopeless = float(centre.abs_upper()) <= reach
            second = None if hopeless else self.second_order(box, centre)
            if second is not None and second.is_finite():
                decided = certified_sign(intersection(ball, second))
                if decided is not None:
                    return decided
            return self._monotone_sign(box, gradient)

    def second_order(self, box: Box, at_centre: arb | None = None) -> arb | None:
        """The second-order Taylor form over ``box`` (a ball containing f at every point
        of it), or None where f is not known to be twice differentiable.  ``at_centre``:
        f at the box's centre, when already enclosed."""
        if not self._twice_differentiable:
            return None
        centre = [(low + high) / 2 for low, high in box]
        at_centre_balls = [acb(c) for c in centre]
        whole = [interval_ball(low, high) for low, high in box]
        free = [i for i, (low, high) in enumerate(box) if high > low]
        steps = {i: arb(box[i][0]).union(arb(box[i][1])) - arb(centre[i]) for i in free}
        total = self.value(at_centre_balls).real if at_centre is None else at_centre
        slopes = self._slopes_at(at_centre_balls)
        for i in free:
            total += slopes[i] * steps[i]
        hessian = self._hessian_over(tuple(free))(whole)
        for (i, j), second in zip(_pairs(free), hessian, strict=True):
            if i == j:
                # t_i**2 lies in [0, r_i**2]: tighter than the square of the ball t_i.
                radius = arb(box[i][1] - box[i][0]) / 2
                total += second.real * arb(0).union(radius * radius) / 2
            else:
                total += second.real * steps[i] * steps[j]
        return total

    def _hessian_over(self, free: tuple[int, ...]) -> Callable[[Sequence[acb]], list[acb]]:
        """d^2 f / dx_i dx_j for i <= j among ``free``, compiled together (memoised): the
        entries share their erf and exp factors, each evaluated once."""
        if free not in self._hessian:
            assert self.formula is not None
            entries = [
                # The partial collected first (an exact rewrite): tighter, as for f itself.
                sympy.diff(self._collected(i), self.variables[j])
                for i, j in _pairs(list(free))
            ]
            self._hessian[free] = straight_line(entries, self.variables)
        return self._hessian[free]

    def _collected(self, i: int) -> sympy.Expr:
        if i not in self._first_collected:
            self._first_collected[i] = compact(self.first[i])
        return self._first_collected[i]

    @cached_property
    def _twice_differentiable(self) -> bool:
        smooth = self.formula is not None and not self.formula.has(*_NOT_SMOOTH)
        return smooth and len(self.first) == len(self.variables)

    def smear(self, box: Box) -> list[float] | None:
        """``|df/dx_i(X)| * width_i`` per side: how much each side's width widens the
        centred form (Kearfott, *Rigorous Global Search*, 1996, Sec. 5.2, "maximal
        smear"), or None where f may jump in the box or a slope is not finite."""
        if box in self._slopes:
            return self._slopes[box] or None
        with working_precision(BOX_PRECISION):
            whole = [interval_ball(low, high) for low, high in box]
            if not self._smooth(whole):
                return None
            return _slope_smear(box, self._slopes_at(whole)) or None

    def straddles(self, box: Box) -> bool:
        """Whether f has certified values of both signs at corners of the box (so no
        enclosure can decide it; memoised point values make this cheap)."""
        known = self._signs
        if len(known) > _MAX_POINTS:
            known.clear()
        negative = positive = False
        # The distinct corners (a side of width 0 has one end), until both signs are met.
        ends = (side if side[0] != side[1] else side[:1] for side in box)
        for corner in itertools.product(*ends):
            sign = known.get(corner, _UNKNOWN)
            if sign is _UNKNOWN:
                with working_precision(BOX_PRECISION):
                    sign = known[corner] = certified_sign(self._point_value(corner))
            if sign == -1:
                negative = True
            elif sign == 1:
                positive = True
            else:
                continue
            if negative and positive:
                return True
        return False

    def _corner_values(self, box: Box) -> dict[tuple[float, ...], arb]:
        """f at each corner of the box (point balls)."""
        if len(self._points) > _MAX_POINTS:
            self._points.clear()
        return {
            corner: self._point_value(corner)
            for corner in itertools.product(*({low, high} for low, high in box))
        }

    def _point_value(self, point: tuple[float, ...]) -> arb:
        """f at a point (memoised: corners and centres recur among neighbouring boxes)."""
        if point not in self._points:
            self._points[point] = self.value([acb(x) for x in point]).real
        return self._points[point]

    def _enclose(self, box: Box, gradient: Sequence[arb] | None = None) -> tuple[arb, list[arb]]:
        """The enclosure of f over the box, and of its gradient (which it used)."""
        whole = [interval_ball(low, high) for low, high in box]
        natural = self.value(whole).real
        if not self._smooth(whole):
            return natural, []
        if gradient is None:
            gradient = self._slopes_at(whole)
        centred = self._centred(box, gradient)
        if not centred.is_finite():
            return natural, list(gradient)
        if not natural.is_finite():
            return centred, list(gradient)
        return intersection(natural, centred), list(gradient)

    def _slopes_at(self, balls: Sequence[acb]) -> list[arb]:
        """Each partial derivative's ball over ``balls``."""
        if self.gradient is not None:
            return [slope.real for slope in self.gradient(balls)]
        return [partial(balls).real for partial in self.partials]

    def _smooth(self, whole: Sequence[acb]) -> bool:
        """Whether no jump argument can vanish in the box (so f is differentiable there)."""
        return all(certified_sign(jump(whole).real) in (-1, 1) for jump in self.jumps)

    def _centred(self, box: Box, gradient: Sequence[arb], at_centre: arb | None = None) -> arb:
        """f(c) + sum_i f_i(X) (X_i - c_i), with the gradient enclosed over the box X
        (``at_centre``: f(c), when already enclosed)."""
        centre = [(low + high) / 2 for low, high in box]
        total = self.value([acb(c) for c in centre]).real if at_centre is None else at_centre
        for (low, high), c, slope in zip(box, centre, gradient, strict=True):
            if low != high:
                total += slope * (arb(low).union(arb(high)) - arb(c))
        return total

    def _monotone_sign(self, box: Box, gradient: Sequence[arb]) -> Sign:
        """The sign from the faces where f is monotone in some coordinates, or None."""
        slopes = [certified_sign(slope) for slope in gradient]
        if all(s is None or s == 0 for s in slopes):
            return None
        # f's largest value is on the face where each monotone coordinate is at the end it
        # increases towards; its smallest, on the opposite face.
        upper_face = _face(box, slopes, towards=1)
        lower_face = _face(box, slopes, towards=-1)
        upper = self._centred(upper_face, gradient, self._point_value(_centre(upper_face)))
        if upper.is_finite() and bool(upper < 0):
            return -1
        lower = self._centred(lower_face, gradient, self._point_value(_centre(lower_face)))
        if lower.is_finite() and bool(lower > 0):
            return 1
        return None


# Functions whose derivatives jump or carry Dirac masses: no second-order form.
_NOT_SMOOTH = (
    sympy.Heaviside,
    sympy.DiracDelta,
    sympy.Abs,
    sympy.sign,
    sympy.Max,
    sympy.Min,
    sympy.Piecewise,
    sympy.Integral,
)


def _pairs(free: list[int]) -> list[tuple[int, int]]:
    return [(i, j) for position, i in enumerate(free) for j in free[position:]]


# A corner whose sign is not yet known (None is a known answer: undecided).
_UNKNOWN = object()
# Corner values kept for reuse; beyond this many the memo starts afresh.
_MAX_POINTS = 200_000


def _slope_smear(box: Box, slopes: Sequence[arb]) -> list[float]:
    """``|df/dx_i(X)| * width_i`` per side, or [] where a slope is not finite."""
    if not all(slope.is_finite() for slope in slopes):
        return []
    return [
        float(abs(slope).upper()) * (high - low)
        for slope, (low, high) in zip(slopes, box, strict=True)
    ]


def _corner_smear(box: Box, corners: dict[tuple[float, ...], arb]) -> list[float]:
    """Per side, the mean change of f between corners across it (a box that straddles
    a zero curve is best cut where f changes most), or [] where a value is not finite."""
    if not all(value.is_finite() for value in corners.values()):
        return []
    smear = []
    for side, (low, high) in enumerate(box):
        changes = [
            abs(float((corners[(*c[:side], high, *c[side + 1 :])] - value).mid()))
            for c, value in corners.items()
            if c[side] == low and high > low
        ]
        smear.append(sum(changes) / len(changes) if changes else 0.0)
    return smear


def _centre(box: Box) -> tuple[float, ...]:
    return tuple((low + high) / 2 for low, high in box)


def _face(box: Box, slopes: Sequence[Sign], towards: int) -> Box:
    """The box with each coordinate of known slope fixed at the end where f moves ``towards``."""
    face = []
    for (low, high), slope in zip(box, slopes, strict=True):
        if slope is None or slope == 0:
            face.append((low, high))
            continue
        end = high if slope * towards > 0 else low
        face.append((end, end))
    return tuple(face)


def intersection(first: arb, second: arb) -> arb:
    """A ball containing the intersection of two balls that both contain the range."""
    low = max(first.lower(), second.lower())
    high = min(first.upper(), second.upper())
    if low > high:  # only rounding can make enclosures of one range disjoint
        return first.union(second)
    return arb(low).union(arb(high))


@lru_cache(maxsize=256)
def box_function(expr: sympy.Expr, variables: tuple[sympy.Symbol, ...]) -> BoxFunction:
    """The compiled f and df/dx_i for each variable, memoised per formula and variables."""
    expr = compact(expr)
    derivatives = [sympy.diff(expr, v) for v in variables]
    # A Heaviside step of f differentiates to a Dirac delta: zero wherever its argument
    # keeps one sign, which the box function checks before it uses the partials.
    jumps = {d.args[0] for derivative in derivatives for d in derivative.atoms(sympy.DiracDelta)}
    without_deltas = [
        d.replace(lambda e: isinstance(e, sympy.DiracDelta), lambda e: 0) for d in derivatives
    ]
    partials = tuple(compile_balls(d, variables) for d in without_deltas)
    compiled_jumps = tuple(ball_function(j, variables) for j in sorted(jumps, key=str))
    smooth = tuple(derivatives) if not expr.has(*_NOT_SMOOTH) else ()
    # The partials together as straight-line code too, except across an integral's
    # variable (see verify.exact.box_compile.ball_function).
    gradient = None if expr.has(sympy.Integral) else straight_line(without_deltas, variables)
    return BoxFunction(
        ball_function(expr, variables),
        partials,
        compiled_jumps,
        expr,
        variables,
        smooth,
        gradient,
    )


def compact(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` as a sum of polynomials times its distinct exp and erf factors, when shorter.

    Interval evaluation overestimates by the dependency effect, which grows with the
    number of times a variable occurs: a difference of two variances written as many
    terms that cancel (``mu**2 erf(u) - ...``) is enclosed far more tightly once the
    terms sharing a transcendental factor are collected (an exact rewrite).
    Exponentials are kept whole (``exp(-(mu - c)**2/(2 sigma**2))``, not split into
    ``exp(mu/sigma**2) exp(-mu**2/...)``, whose factors would each be huge).
    """
    if any(_large_power(p) for p in expr.atoms(sympy.Pow)):
        return expr  # expanding (a + b)**63 would take forever and help nothing
    expanded = sympy.expand(expr, power_exp=False)
    expanded = expanded.replace(
        lambda e: isinstance(e, sympy.exp), lambda e: sympy.exp(_factored_exponent(e.args[0]))
    )
    factors = sorted(expanded.atoms(sympy.Function), key=sympy.default_sort_key)
    collected = sympy.collect(expanded, factors)
    return collected if sympy.count_ops(collected) < sympy.count_ops(expr) else expr


@lru_cache(maxsize=4096)
def _factored_exponent(exponent: sympy.Expr) -> sympy.Expr:
    """``factor(exponent)``, memoised: a formula, its partials and the Hessian's repeat
    a few Gaussian exponents many times (factor is a function of the formula alone)."""
    return sympy.factor(exponent)


def _large_power(power: sympy.Pow) -> bool:
    """A sum raised to a whole power above 4 (or a symbolic one): not worth expanding."""
    if not isinstance(power.base, sympy.Add):
        return False
    return not (power.exp.is_Integer and abs(int(power.exp)) <= 4)
