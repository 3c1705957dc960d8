"""Formulas compiled to straight-line Python over balls, for the hot loops over balls.

The contract: :func:`straight_line` turns formulas in some symbols into one function
``f(balls, analytic=False) -> [ball, ...]`` that performs, node for node, the operations
the closures of :func:`verify.exact.balls.compile_balls` perform (with the same
``analytic`` flag), in the same order and at the current flint precision, so each ball it
returns is *identical* to the one ``compile_balls(expr, symbols)(balls, analytic)``
returns (ball arithmetic is a deterministic function of its operands and the precision):
a subexpression the formulas share (:func:`verify.exact.balls.shared_subexpressions`) is
evaluated once, the same way.  Only the cost differs: a region search evaluates a
formula's value, gradient and Hessian over hundreds of thousands of boxes, and certified
quadrature (:mod:`verify.exact.quadrature`) an integrand at thousands of nodes per
integral; each closure call of the tree walk costs about as much as the ball operation
it wraps.  (A formula holding an ``Integral`` is not for straight-line code: its shared
subexpressions could hold the integration variable.  :func:`ball_function` is the entry
point that knows it: straight-line code where it can be, the closures elsewhere.)

Sums, products, whole and half powers, ``exp``/``log`` and the other one-argument
functions become one line each; every other node (``erfcx``, kinks, ``Piecewise``,
integrals...) calls the closure :func:`verify.exact.ball_closures.compile_closure`
makes of it, so its semantics are written once, and every constant is that closure's
ball, fetched once per call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import sympy
from flint import acb, ctx

from verify.exact.ball_closures import Closure, Slots, compile_closure
from verify.exact.balls import BallEvaluator, compile_balls, shared_subexpressions


class BallsFunction(Protocol):
    """The generated function: the formulas' balls (``analytic`` as the closures take it)."""

    def __call__(self, arguments: Sequence[acb], analytic: bool = False) -> list[acb]: ...


# One-argument functions: the acb method each closure calls, and whether it takes the
# analytic flag (verify.exact.ball_closures' table).
_METHODS = {
    "exp": ("exp", False),
    "sin": ("sin", False),
    "cos": ("cos", False),
    "tan": ("tan", False),
    "sinh": ("sinh", False),
    "cosh": ("cosh", False),
    "tanh": ("tanh", False),
    "erf": ("erf", False),
    "erfc": ("erfc", False),
    "erfi": ("erfi", False),
    "log": ("log", True),
    "Abs": ("real_abs", True),
    "sign": ("real_sgn", True),
}


class _Writer:
    """The lines of the generated function and the closures it calls."""

    def __init__(self, symbols: Sequence[sympy.Symbol]) -> None:
        # The arguments and the shared subexpressions live in ``v`` at their slots (as
        # compile_closure expects); every other node is a local ``t<n>``.
        self.slots: Slots = {symbol: i for i, symbol in enumerate(symbols)}
        self.lines: list[str] = []
        self.closures: dict[str, Closure] = {}
        # Constants: ``k[i]``, made once per precision by their closures.
        self.constants: dict[sympy.Basic, str] = {}
        self.constant_closures: list[Closure] = []

    def operand(self, expr: sympy.Basic) -> str:
        """A name holding ``expr``'s ball, writing the lines that compute it."""
        if expr in self.slots:
            return f"v[{self.slots[expr]}]"
        if expr.is_Number or expr.is_NumberSymbol or expr is sympy.I:
            if expr not in self.constants:
                self.constants[expr] = f"k[{len(self.constant_closures)}]"
                self.constant_closures.append(compile_closure(expr, {}))
            return self.constants[expr]
        name = type(expr).__name__
        if isinstance(expr, sympy.Add | sympy.Mul):
            operator = " + " if isinstance(expr, sympy.Add) else " * "
            return self._assign(operator.join(self.operand(a) for a in expr.args))
        if isinstance(expr, sympy.Pow) and not expr.is_Relational:
            return self._power(expr)
        if name in _METHODS and len(expr.args) == 1:
            method, takes_analytic = _METHODS[name]
            flag = "analytic=analytic" if takes_analytic else ""
            return self._assign(f"{self.operand(expr.args[0])}.{method}({flag})")
        return self._assign(f"{self._closure(expr)}(v, analytic)")

    def _power(self, expr: sympy.Pow) -> str:
        exponent = expr.exp
        if exponent.is_Integer:
            return self._assign(f"{self.operand(expr.base)} ** {int(exponent)}")
        if exponent == sympy.Rational(1, 2):
            return self._assign(f"{self.operand(expr.base)}.sqrt(analytic=analytic)")
        if exponent == sympy.Rational(-1, 2):
            return self._assign(f"{self.operand(expr.base)}.rsqrt(analytic=analytic)")
        base = self.operand(expr.base)
        return self._assign(f"{base}.pow({self.operand(exponent)}, analytic=analytic)")

    def _closure(self, expr: sympy.Basic) -> str:
        name = f"c{len(self.closures)}"
        self.closures[name] = compile_closure(expr, dict(self.slots))
        return name

    def _assign(self, value: str) -> str:
        name = f"t{len(self.lines)}"
        self.lines.append(f"    {name} = {value}")
        return name


def ball_function(expr: sympy.Expr, symbols: Sequence[sympy.Symbol]) -> BallEvaluator:
    """``compile_balls(expr, symbols)``, as straight-line code wherever it can be: the same
    balls, faster; a formula holding an ``Integral`` keeps the closures (its shared
    subexpressions could hold the integration variable, see compile_balls)."""
    if expr.has(sympy.Integral):
        return compile_balls(expr, symbols)
    return straight_line_value(expr, symbols)


def straight_line_value(expr: sympy.Expr, symbols: Sequence[sympy.Symbol]) -> BallEvaluator:
    """The ball of one formula (see the module docstring)."""
    return _generated([expr], symbols, "[0]")  # type: ignore[return-value]


def straight_line(exprs: Sequence[sympy.Expr], symbols: Sequence[sympy.Symbol]) -> BallsFunction:
    """The balls of ``exprs`` (see the module docstring)."""
    return _generated(exprs, symbols, "")


def _generated(
    exprs: Sequence[sympy.Expr], symbols: Sequence[sympy.Symbol], pick: str
) -> BallsFunction:
    writer = _Writer(symbols)
    for subexpression in shared_subexpressions(sympy.Tuple(*exprs)):
        writer.lines.append(f"    v.append({writer.operand(subexpression)})")
        writer.slots[subexpression] = len(writer.slots)
    outputs = [writer.operand(sympy.sympify(expr)) for expr in exprs]
    header = [
        "def evaluate(arguments, analytic=False):",
        "    v = list(arguments)",
        "    k = constants()",
    ]
    footer = f"    return [{', '.join(outputs)}]{pick}"
    source = "\n".join([*header, *writer.lines, footer])
    namespace: dict[str, object] = {
        **writer.closures,
        "constants": _per_precision(writer.constant_closures),
    }
    exec(compile(source, "<straight_line>", "exec"), namespace)  # noqa: S102  # our own lines
    evaluate: BallsFunction = namespace["evaluate"]  # type: ignore[assignment]
    return evaluate


def _per_precision(closures: list[Closure]) -> Callable[[], list[acb]]:
    """The constants' balls, made once per working precision (each closure's own ball)."""
    made: dict[int, list[acb]] = {}

    def constants() -> list[acb]:
        balls = made.get(ctx.prec)
        if balls is None:
            balls = made[ctx.prec] = [closure([], False) for closure in closures]
        return balls

    return constants
