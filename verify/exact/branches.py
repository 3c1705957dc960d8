"""Kinks resolved on one piece: ``Abs``, ``sign``, ``Heaviside``, ``Max``, ``Min``, ``Piecewise``.

The contract: :func:`breakpoints` finds where kinks switch branch (in eps), and
:func:`on_piece` returns the formula with every kink function replaced by
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
from flint import acb, arb

from verify.cases.symbols import EPS
from verify.exact.ball_closures import NotCompilable
from verify.exact.balls import BallFunction, compile_balls, number_ball

SIGN_PARTS = 16
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
        arguments = tuple(resolve(a) for a in node.args)
        if arguments != node.args:
            node = _rebuild(node, arguments)
        return _branch(node, sign)

    return resolve(expr)


def _rebuild(node: sympy.Basic, arguments: tuple[sympy.Basic, ...]) -> sympy.Basic:
    """``node`` with new arguments; ``Max``/``Min`` unevaluated (their constructors compare
    the arguments, measured at most of the time here; they are resolved next anyway)."""
    if isinstance(node, sympy.Max | sympy.Min):
        return node.func(*arguments, evaluate=False)
    return node.func(*arguments)


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
    whole = _sign_over(function, low, high)
    if whole is not None:
        return whole
    middle = function([acb((low + high) / 2)]).real
    if not (middle > 0 or middle < 0):
        return None
    s = 1 if middle > 0 else -1
    slope = compile_balls(sympy.diff(quantity, variable), (variable,))
    if _sign_over(slope, low, high) is not None and all(
        _not_opposite(quantity, variable, e, s) for e in exact_ends
    ):
        return s
    return None


def _sign_over(function: BallFunction, low: arb, high: arb) -> int | None:
    """The sign of ``function`` on [low, high] from :data:`SIGN_PARTS` sub-balls, or None.

    One ball over a wide interval is too loose (``exp`` over [-24, -1] contains 0)."""
    signs = set()
    for k in range(SIGN_PARTS):
        part = low + (high - low) * k / SIGN_PARTS
        value = function([acb(part.union(low + (high - low) * (k + 1) / SIGN_PARTS))]).real
        if not (value > 0 or value < 0):
            return None
        signs.add(1 if value > 0 else -1)
    return signs.pop() if len(signs) == 1 else None


def _not_opposite(quantity: sympy.Expr, variable: sympy.Symbol, end: sympy.Expr, s: int) -> bool:
    """Whether ``s * quantity(end) >= 0``: exactly 0 (a kink at the end), or by its ball."""
    value = quantity.subs(variable, end)
    if value == 0 or sympy.expand(value) == 0:
        return True
    return bool(number_ball(value).real * s >= 0)


def breakpoints(integrand: sympy.Expr) -> list[sympy.Expr]:
    """The sorted real roots in eps of the quantities that decide a kink, where found.

    The quantities: the arguments of ``Abs``, ``sign`` and ``Heaviside``, the pairwise
    differences of ``Max`` and ``Min`` arguments, and ``lhs - rhs`` of ``Piecewise``
    conditions.  Roots are exact numbers when the integrand's coefficients are, so that
    certified quadrature splits exactly at each kink: all real roots of a polynomial,
    and SymPy's roots of a quantity in which eps occurs once (``exp(eps + 1) - 1``).
    A root not found costs speed, never correctness: the kink then stays unresolved
    (:mod:`verify.exact.branches`) and ``acb.integral`` bisects towards it.
    """
    roots: set[sympy.Expr] = set()
    for quantity in _deciding_quantities(integrand):
        roots.update(_real_roots(quantity))
    return sorted(roots, key=float)


def _deciding_quantities(integrand: sympy.Expr) -> set[sympy.Expr]:
    quantities: set[sympy.Expr] = set()
    for kink in integrand.atoms(*_KINKS):
        if isinstance(kink, sympy.Piecewise):
            conditions = [
                c for _, c in kink.args if isinstance(c, sympy.core.relational.Relational)
            ]
            quantities.update(c.lhs - c.rhs for c in conditions)
            continue
        arguments = kink.args if isinstance(kink, sympy.Max | sympy.Min) else kink.args[:1]
        quantities.update([a - b for a in arguments for b in arguments if a != b] or arguments)
    return quantities


@lru_cache(maxsize=1024)
def _real_roots(argument: sympy.Expr) -> tuple[sympy.Expr, ...]:
    """The roots found, kept only where ball arithmetic can place them (not CRootOf, atanh)."""
    return tuple(root for root in _candidate_roots(argument) if _placeable(root))


def _placeable(root: sympy.Expr) -> bool:
    try:
        return bool(number_ball(root).is_finite())
    except NotCompilable:
        return False


def _candidate_roots(argument: sympy.Expr) -> tuple[sympy.Expr, ...]:
    if not argument.free_symbols <= {EPS} or not argument.has(EPS):
        return ()  # a kink inside an inner integral (its variable is not eps)
    if argument.is_polynomial(EPS):
        poly = sympy.Poly(argument, EPS)
        if poly.degree() == 1:
            slope, intercept = (sympy.re(c) for c in poly.all_coeffs())
            return (-intercept / slope,)
        if all(c.is_Rational for c in poly.all_coeffs()):
            return tuple(sympy.real_roots(poly))
        return ()
    if argument.count(EPS) != 1:
        return ()
    root = _invert(argument, sympy.Integer(0))
    return () if root is None or not (root.is_number and root.is_real) else (root,)


# Inverses of the strictly monotone functions of the grammar, with their ranges.
_INVERSES = {
    "exp": (sympy.log, lambda c: c.is_positive),
    "log": (sympy.exp, lambda c: True),
    "sinh": (sympy.asinh, lambda c: True),
    "tanh": (sympy.atanh, lambda c: bool(abs(c) < 1)),
    "atan": (sympy.tan, lambda c: bool(abs(c) < sympy.pi / 2)),
    "erf": (sympy.erfinv, lambda c: bool(abs(c) < 1)),
}


def _invert(expr: sympy.Expr, target: sympy.Expr) -> sympy.Expr | None:
    """The real eps with ``expr(eps) = target``, where eps occurs once in ``expr`` through
    sums, products, powers and strictly monotone functions (the root is then unique
    along that chain); None when the chain has another link or the target is out of range."""
    while expr != EPS:
        if expr.is_Add or expr.is_Mul:
            constant, rest = expr.as_independent(EPS, as_Add=expr.is_Add)
            target = target - constant if expr.is_Add else target / constant
            expr = rest
        elif expr.is_Pow and not expr.exp.has(EPS) and expr.exp.is_Integer and expr.exp % 2:
            target, expr = sympy.real_root(target, int(expr.exp)), expr.base
        elif type(expr).__name__ in _INVERSES and len(expr.args) == 1:
            inverse, in_range = _INVERSES[type(expr).__name__]
            if not target.is_real or not in_range(target):
                return None
            target, expr = inverse(target), expr.args[0]
        else:
            return None
    return target
