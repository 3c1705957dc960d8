"""Kinks resolved on one piece: ``Abs``, ``sign``, ``Heaviside``, ``Max``, ``Min``, ``Piecewise``.

The contract: :func:`on_piece` returns the formula with every kink function replaced by
the branch it takes on the open interval ``(low, high)`` of ``variable`` -- but only
where that is *proved*: the sign of each deciding quantity ``A`` (the argument of
``Abs``, ``sign`` or ``Heaviside``; the difference of two ``Max``/``Min`` arguments; a
``Piecewise`` condition's ``lhs - rhs``) is certified constant on the interval by ball
arithmetic, either because ``A`` over the whole interval excludes 0, or because ``A'``
over the interval excludes 0 (``A`` is strictly monotone) and ``A`` at both ends has
the (non-strict) sign it has at the midpoint.  A kink that cannot be decided stays.

Why: on a piece between kinks the resolved formula is analytic across the piece's
ends, so certified quadrature (``acb.integral``) and the Chebyshev models of
:mod:`verify.exact.running_integral` see an analytic function on a whole Bernstein
ellipse instead of bisecting towards a kink at the piece's end.

>>> x = sympy.Symbol("x", real=True)
>>> on_piece(sympy.Abs(x) + sympy.Max(x, 0), x, sympy.Integer(-2), sympy.Integer(0))
-x
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import sympy
from flint import acb

from verify.exact.balls import compile_balls, number_ball

# The proved sign of a deciding quantity on the piece, or None.
Decide = Callable[[sympy.Expr], int | None]
_KINKS = (sympy.Abs, sympy.sign, sympy.Heaviside, sympy.Max, sympy.Min, sympy.Piecewise)
_RELATIONS = ("StrictGreaterThan", "GreaterThan", "StrictLessThan", "LessThan")


def on_piece(
    expr: sympy.Expr, variable: sympy.Symbol, low: sympy.Expr, high: sympy.Expr
) -> sympy.Expr:
    """``expr`` with each kink replaced by its proved branch on ``(low, high)``."""

    def sign(quantity: sympy.Expr) -> int | None:
        return _sign_on(quantity, variable, (low, high))

    def resolve(node: sympy.Basic) -> sympy.Basic:
        if not node.args or not node.has(variable) or not node.has(*_KINKS):
            return node  # rebuilding SymPy trees is costly: only paths to a kink
        node = node.func(*(resolve(a) for a in node.args))
        return _branch(node, sign)

    return resolve(expr)


def _branch(node: sympy.Basic, decide: Decide) -> sympy.Basic:
    name = type(node).__name__
    if name in ("Abs", "sign", "Heaviside"):
        s = decide(node.args[0])
        if s is None:
            return node
        if name == "Abs":
            return s * node.args[0]
        return sympy.Integer(s) if name == "sign" else sympy.Integer((1 + s) // 2)
    if name in ("Max", "Min"):
        wanted = 1 if name == "Max" else -1
        for candidate in node.args:
            signs = [decide(candidate - other) for other in node.args if other is not candidate]
            if all(s is not None and s * wanted >= 0 for s in signs):
                return candidate
        return node
    if name == "Piecewise":
        for branch, condition in node.args:
            if condition is sympy.true:
                return branch
            holds = _holds(condition, decide)
            if holds is None:
                return node
            if holds:
                return branch
        return node
    return node


def _holds(condition: sympy.Basic, decide: Decide) -> bool | None:
    name = type(condition).__name__
    if name not in _RELATIONS:
        return None
    s = decide(condition.lhs - condition.rhs)
    if s is None:
        return None
    return bool(s > 0) if name in ("StrictGreaterThan", "GreaterThan") else s < 0


@lru_cache(maxsize=4096)
def _sign_on(
    quantity: sympy.Expr, variable: sympy.Symbol, interval: tuple[sympy.Expr, sympy.Expr]
) -> int | None:
    """+1 or -1 when ``quantity`` has that sign on the whole open interval (proved), else None.

    An identically zero quantity (``Max(x, x)``) gives 0.
    """
    if not quantity.has(variable):
        value = number_ball(quantity).real
        return 1 if value > 0 else -1 if value < 0 else 0 if value == 0 else None
    exact_ends = interval
    low, high = (number_ball(end).real for end in exact_ends)
    function = compile_balls(quantity, (variable,))
    whole = function([acb(low.union(high))]).real
    if whole > 0 or whole < 0:
        return 1 if whole > 0 else -1
    middle = function([acb((low + high) / 2)]).real
    if not (middle > 0 or middle < 0):
        return None
    s = 1 if middle > 0 else -1
    slope = compile_balls(sympy.diff(quantity, variable), (variable,))([acb(low.union(high))]).real
    if (slope > 0 or slope < 0) and all(
        _not_opposite(quantity, variable, e, s) for e in exact_ends
    ):
        return s
    return None


def _not_opposite(quantity: sympy.Expr, variable: sympy.Symbol, end: sympy.Expr, s: int) -> bool:
    """Whether ``s * quantity(end) >= 0``: exactly 0 (a kink at the end), or by its ball."""
    value = quantity.subs(variable, end)
    if value == 0 or sympy.expand(value) == 0:
        return True
    return bool(number_ball(value).real * s >= 0)
