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

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import sympy
from flint import acb, ctx

from verify.exact.ball_closures import Closure, Slots, compile_closure


@contextmanager
def working_precision(bits: int) -> Iterator[None]:
    """Run the block with flint's working precision set to ``bits``."""
    saved = ctx.prec
    ctx.prec = bits
    try:
        yield
    finally:
        ctx.prec = saved


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
    if expr.has(sympy.Integral):
        # cse could lift a subexpression of the integration variable out of its integral.
        replacements, reduced = [], expr
    else:
        replacements, (reduced,) = sympy.cse(expr, optimizations=None)
    slots: Slots = {s: i for i, s in enumerate(symbols)}
    steps: list[Closure] = []
    for name, definition in replacements:
        steps.append(compile_closure(definition, slots))
        slots[name] = len(symbols) + len(steps) - 1
    return BallFunction(len(symbols), tuple(steps), compile_closure(reduced, slots))


def number_ball(number: sympy.Expr) -> acb:
    """A tight ball around an exact constant, at the working precision."""
    return compile_balls(number, ())([])
