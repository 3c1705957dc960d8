"""Closed forms at exact points, to a certified radius: the precision ladder of ball arithmetic.

The contract: :func:`closed_form_ball` returns an ``arb`` ball that contains the exact
value of a closed form at an exact (rational) point, with radius at most
:data:`RELATIVE_TARGET` times its magnitude, or at most :data:`ABSOLUTE_FLOOR` for
values at or near zero.  Closed forms can cancel catastrophically (``1 + erf(x)``
far in a tail, ``E[g**2] - E[g]**2`` for a nearly constant g); ball arithmetic
*measures* the cancellation instead of hiding it, and the ladder doubles the
working precision (:data:`PRECISION_LADDER`) until the radius meets the target.
What was a heuristic ("two precisions agree") is a proof.

Each formula is compiled once (:func:`verify.exact.balls.compile_balls`, after common
subexpression elimination) and kept, so evaluating it at many points costs no
SymPy work.

>>> import sympy
>>> from verify.cases.symbols import MU
>>> ball = closed_form_ball(1 + sympy.erf(MU), {MU: sympy.Integer(-7)})
>>> float(ball.mid()) > 0 and ball.rad() <= RELATIVE_TARGET * ball.mid()
True
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import sympy
from flint import acb, arb

from verify.exact.balls import BallEvaluator, number_ball, working_precision
from verify.exact.box_compile import ball_function

PRECISION_LADDER = (128, 256, 512, 1024)
# 2^-116 is about 1.2e-35: the 30 reported digits, and 5 more, are certified.
RELATIVE_TARGET = arb(2) ** -116
# A true zero is never relatively accurate; below this radius it is zero for every purpose.
ABSOLUTE_FLOOR = arb(2) ** -400
GIVEN_PRECISION = 256

_COMPILED: dict[sympy.Expr, tuple[tuple[sympy.Symbol, ...], BallEvaluator]] = {}


def compiled(expr: sympy.Expr) -> tuple[tuple[sympy.Symbol, ...], BallEvaluator]:
    """The ball function of ``expr`` and its symbols (sorted by name), compiled once
    (straight-line code where it can be: :func:`verify.exact.box_compile.ball_function`)."""
    if expr not in _COMPILED:
        symbols = tuple(sorted(expr.free_symbols, key=lambda s: s.name))
        _COMPILED[expr] = (symbols, ball_function(expr, symbols))
    return _COMPILED[expr]


def closed_form_ball(
    expr: sympy.Expr,
    point: Mapping[sympy.Symbol, sympy.Expr],
    given: Mapping[sympy.Symbol, arb] | None = None,
) -> arb:
    """The real part of ``expr`` at the exact ``point`` (and the balls ``given``), certified.

    ``given`` supplies symbols whose values are themselves balls (the parts of a
    compound quantity); their radii propagate into the result, so the ladder stops
    once the result is as tight as they allow.
    """
    if not given:
        return _at_exact_point(expr, tuple(point.items()))
    return _ladder(expr, point, given)


@lru_cache(maxsize=16384)
def _at_exact_point(expr: sympy.Expr, point: tuple[tuple[sympy.Symbol, sympy.Expr], ...]) -> arb:
    """:func:`closed_form_ball` without ball inputs, memoised (balls are immutable, and the
    ladder fixes its own precision): the checks' planning asks the same moments at the
    same point again and again (a mean recurs in every central moment, control variate
    and bisection step)."""
    return _ladder(expr, dict(point), {})


def _ladder(
    expr: sympy.Expr, point: Mapping[sympy.Symbol, sympy.Expr], given: Mapping[sympy.Symbol, arb]
) -> arb:
    symbols, function = compiled(expr)
    # With ball inputs the radius is theirs to set: one rung above their precision.
    ladder = (GIVEN_PRECISION,) if given else PRECISION_LADDER
    ball = arb.nan()
    for bits in ladder:
        with working_precision(bits):
            arguments = [acb(given[s]) if s in given else _exact_ball(point[s]) for s in symbols]
            ball = +function(arguments).real
        if meets_target(ball):
            break
    return ball


def meets_target(ball: arb) -> bool:
    """Whether the radius is within the relative target, or below the absolute floor."""
    if not ball.is_finite():
        return False
    return bool(ball.rad() <= RELATIVE_TARGET * abs(ball.mid()) or ball.rad() <= ABSOLUTE_FLOOR)


def _exact_ball(value: sympy.Expr) -> acb:
    """An exact coordinate (a rational, usually) as a ball at the working precision."""
    if isinstance(value, sympy.Rational):
        return acb(int(value.p)) / int(value.q)
    return number_ball(value)
