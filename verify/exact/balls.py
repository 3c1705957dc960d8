"""SymPy formulas evaluated in ball arithmetic (FLINT's arb/acb through python-flint).

The contract: :func:`compile_balls` turns a formula into a :class:`BallFunction`;
called with one ``acb`` ball per symbol, at the current flint precision, it returns
an ``acb`` ball that contains the exact value of the formula at *every* point of the
argument balls.  The radius is a rigorous error bound, not an estimate: rounding,
cancellation and the error of each special function are all accounted for by arb.

Formulas are compiled once (after common-subexpression elimination) into a list of
closures (:mod:`verify.exact.ball_closures`, which also says how kinks, branch cuts and
``analytic=True`` are handled), so that evaluating one formula at many points costs no
SymPy work.  Anything outside the supported functions raises
:class:`~verify.exact.ball_closures.NotCompilable`.

>>> import sympy
>>> from flint import acb
>>> x = sympy.Symbol("x")
>>> f = compile_balls(1 + sympy.erf(x), (x,))
>>> with working_precision(256):
...     value = f([acb(-7)])
>>> 4.1e-23 < float(value.real.mid()) < 4.2e-23 and value.real.rad() < 1e-60
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import sympy
from flint import acb, ctx

from verify.exact.ball_closures import Closure, Slots, compile_closure


class working_precision:  # lower case: used as a function, ``with working_precision(96):``
    """Run the block with flint's working precision set to ``bits``.

    A class rather than a generator-based context manager: the region searches enter
    it several times per box, and a generator's set-up costs more than the ball
    operations it wraps."""

    __slots__ = ("bits", "saved")

    def __init__(self, bits: int) -> None:
        self.bits = bits
        self.saved = 0

    def __enter__(self) -> None:
        self.saved = ctx.prec
        ctx.prec = self.bits

    def __exit__(self, *exc: object) -> None:
        ctx.prec = self.saved


class BallEvaluator(Protocol):
    """Anything evaluated like a :class:`BallFunction`: a compiled formula, or its
    straight-line code (:mod:`verify.exact.box_compile`), which gives the same balls."""

    def __call__(self, arguments: Sequence[acb], analytic: bool = False) -> acb: ...


@dataclass(frozen=True)
class BallFunction:
    """A compiled formula: ``self(arguments, analytic)`` is its enclosing ball."""

    arity: int
    steps: tuple[Closure, ...]
    result: Closure

    def __call__(self, arguments: Sequence[acb], analytic: bool = False) -> acb:
        values = list(arguments)
        for step in self.steps:
            values.append(step(values, analytic))
        return self.result(values, analytic)


def compile_balls(expr: sympy.Expr, symbols: Sequence[sympy.Symbol]) -> BallFunction:
    """The ball function of ``expr`` in ``symbols`` (in that order)."""
    expr = sympy.sympify(expr)
    # A subexpression lifted out of an integral could hold its integration variable.
    shared = [] if expr.has(sympy.Integral) else shared_subexpressions(expr)
    slots: Slots = {s: i for i, s in enumerate(symbols)}
    steps: list[Closure] = []
    for subexpression in shared:
        steps.append(compile_closure(subexpression, slots))
        slots[subexpression] = len(symbols) + len(steps) - 1
    return BallFunction(len(symbols), tuple(steps), compile_closure(expr, slots))


def shared_subexpressions(expr: sympy.Basic) -> list[sympy.Basic]:
    """Every compound subexpression that occurs more than once, each after its own parts.

    This is common-subexpression elimination without rewriting: SymPy's equal
    subtrees are equal objects, so they are found by counting, and the compiler looks
    each one up in its slots as it meets it.  (``sympy.cse`` also regroups sums and
    products and rebuilds the formula, which was measured at most of the compile time.)

    >>> x, y = sympy.symbols("x y")
    >>> shared_subexpressions(sympy.exp(x + y) + sympy.sin(x + y) * sympy.exp(x + y))
    [x + y, exp(x + y)]
    """
    seen: set[sympy.Basic] = set()
    repeated: set[sympy.Basic] = set()
    order: list[sympy.Basic] = []

    def visit(node: sympy.Basic) -> None:
        if not node.args:
            return
        if node in seen:
            repeated.add(node)
            return
        seen.add(node)
        for argument in node.args:
            visit(argument)
        order.append(node)  # post-order: parts first

    visit(expr)
    # Only values get slots: a Piecewise's (expression, condition) pairs are not one.
    return [node for node in order if node in repeated and isinstance(node, sympy.Expr)]


def number_ball(number: sympy.Expr) -> acb:
    """A tight ball around an exact constant, at the working precision."""
    return compile_balls(number, ())([])
