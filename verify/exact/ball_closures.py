"""One SymPy expression as a closure over ``acb`` balls: a handler per supported function.

The contract: :func:`compile_closure` turns an expression into a :data:`Closure`,
``closure(values, analytic)``, where ``values`` holds one ``acb`` ball per entry of
``slots`` (the symbols, then the common subexpressions already computed) and the
result is a ball that contains the exact value at every point of the argument balls.
Anything outside the supported functions (the table at the end) raises
:class:`NotCompilable`.  :mod:`verify.exact.balls` builds whole formulas from these.

Kink functions (``Abs``, ``sign``, ``Heaviside``, ``Max``, ``Min``, ``Piecewise``) on a ball that
straddles their kink return a ball covering both sides.  With ``analytic=True``
(the mode :func:`flint.acb.integral` uses to certify its error bounds) they, and
the branch cuts of ``log``, ``sqrt``, ``atan`` and non-integer powers, return a non-finite
ball instead, as the integrator requires of a function that is not holomorphic there.

>>> import sympy
>>> from flint import acb
>>> x = sympy.Symbol("x")
>>> closure = compile_closure(sympy.Max(x, 0), {x: 0})
>>> closure([acb(-2)], False), closure([acb(3)], False)
(0, 3.00000000000000)
"""

from __future__ import annotations

from collections.abc import Callable

import sympy
from flint import acb, arb, ctx

Closure = Callable[[list[acb], bool], acb]
Slots = dict[sympy.Basic, int]


class NotCompilable(Exception):
    """The formula uses a function that has no ball-arithmetic evaluation here."""


def compile_closure(expr: sympy.Basic, slots: Slots) -> Closure:
    """The closure of ``expr``; ``slots`` maps each known subexpression to its index."""
    if expr in slots:
        index = slots[expr]
        return lambda values, analytic: values[index]
    if expr.is_Number or expr.is_NumberSymbol or expr is sympy.I:
        return _constant(expr)
    if expr.is_Relational:
        # cse may lift a Piecewise condition into a step of its own: a decision, not a ball.
        return _condition(expr, slots)  # type: ignore[return-value]
    handler = _HANDLERS.get(type(expr).__name__) or _HANDLERS.get(expr.func.__name__)
    if handler is None:
        raise NotCompilable(f"no ball evaluation of {expr.func.__name__}")
    return handler(expr, slots)


def _constant(number: sympy.Basic) -> Closure:
    if number is sympy.I:
        return _per_precision(lambda: acb(0, 1))
    if number is sympy.pi:
        return _per_precision(lambda: acb(arb.pi()))
    if number is sympy.E:
        return _per_precision(lambda: acb(arb.const_e()))
    if isinstance(number, sympy.Rational):
        numerator, denominator = int(number.p), int(number.q)
        if denominator == 1:
            return _per_precision(lambda: acb(numerator))
        return _per_precision(lambda: acb(numerator) / denominator)
    if isinstance(number, sympy.Float):
        sign, mantissa, exponent, _ = number._mpf_
        exact = arb((-int(mantissa) if sign else int(mantissa), int(exponent)))  # exact
        return _per_precision(lambda: acb(exact))
    if number.is_infinite or number is sympy.nan:
        return lambda values, analytic: acb(arb.nan())
    raise NotCompilable(f"no ball evaluation of the constant {number}")


def _per_precision(make: Callable[[], acb]) -> Closure:
    """A constant's ball, made once per working precision (balls are immutable): a
    formula evaluated over many boxes would otherwise divide or round it each time."""
    made: dict[int, acb] = {}

    def constant(values: list[acb], analytic: bool) -> acb:
        ball = made.get(ctx.prec)
        if ball is None:
            ball = made[ctx.prec] = make()
        return ball

    return constant


def _arguments(expr: sympy.Basic, slots: Slots) -> list[Closure]:
    return [compile_closure(argument, slots) for argument in expr.args]


def _add(expr: sympy.Basic, slots: Slots) -> Closure:
    parts = _arguments(expr, slots)

    def add(values: list[acb], analytic: bool) -> acb:
        total = parts[0](values, analytic)
        for part in parts[1:]:
            total = total + part(values, analytic)
        return total

    return add


def _mul(expr: sympy.Basic, slots: Slots) -> Closure:
    parts = _arguments(expr, slots)

    def mul(values: list[acb], analytic: bool) -> acb:
        product = parts[0](values, analytic)
        for part in parts[1:]:
            product = product * part(values, analytic)
        return product

    return mul


def _pow(expr: sympy.Basic, slots: Slots) -> Closure:
    base = compile_closure(expr.base, slots)
    exponent = expr.exp
    if exponent.is_Integer:
        power = int(exponent)
        return lambda values, analytic: base(values, analytic) ** power
    if exponent == sympy.Rational(1, 2):
        return lambda values, analytic: base(values, analytic).sqrt(analytic=analytic)
    if exponent == sympy.Rational(-1, 2):
        return lambda values, analytic: base(values, analytic).rsqrt(analytic=analytic)
    general = compile_closure(exponent, slots)
    return lambda values, analytic: base(values, analytic).pow(
        general(values, analytic), analytic=analytic
    )


def _unary(method: str, *, takes_analytic: bool = False) -> Callable[..., Closure]:
    def build(expr: sympy.Basic, slots: Slots) -> Closure:
        (argument,) = _arguments(expr, slots)
        if takes_analytic:
            return lambda values, analytic: getattr(argument(values, analytic), method)(
                analytic=analytic
            )
        return lambda values, analytic: getattr(argument(values, analytic), method)()

    return build


def _heaviside(expr: sympy.Basic, slots: Slots) -> Closure:
    argument = compile_closure(expr.args[0], slots)
    # SymPy's Heaviside(0) is 1/2 unless a second argument says otherwise; arb's too.
    at_zero = expr.args[1] if len(expr.args) > 1 else sympy.Rational(1, 2)
    zero_value = _constant(at_zero)

    def heaviside(values: list[acb], analytic: bool) -> acb:
        x = argument(values, analytic)
        if x == 0:
            return zero_value(values, analytic)
        return x.real_heaviside(analytic=analytic)

    return heaviside


def _extremum(method: str) -> Callable[..., Closure]:
    def build(expr: sympy.Basic, slots: Slots) -> Closure:
        parts = _arguments(expr, slots)

        def extremum(values: list[acb], analytic: bool) -> acb:
            best = parts[0](values, analytic)
            for part in parts[1:]:
                best = getattr(best, method)(part(values, analytic), analytic=analytic)
            return best

        return extremum

    return build


def _part(attribute: str) -> Callable[..., Closure]:
    """``re`` or ``im``: not holomorphic, so no ball passes through them in analytic mode."""

    def build(expr: sympy.Basic, slots: Slots) -> Closure:
        (argument,) = _arguments(expr, slots)

        def part(values: list[acb], analytic: bool) -> acb:
            if analytic:
                return acb(arb.nan())
            return acb(getattr(argument(values, analytic), attribute))

        return part

    return build


def _integral(expr: sympy.Basic, slots: Slots) -> Closure:
    """A definite integral over fixed finite limits, by acb.integral (nested quadrature)."""
    if len(expr.limits) != 1 or len(expr.limits[0]) != 3:
        raise NotCompilable("only one-variable definite integrals have a ball evaluation")
    variable, lower, upper = expr.limits[0]
    if not (lower.is_number and upper.is_number):
        raise NotCompilable("integral limits must be numbers")
    inner_slots = dict(slots)
    inner_slots[variable] = -1  # the integration variable rides at the end of the values
    integrand = compile_closure(expr.function, inner_slots)
    low, high = _constant(lower), _constant(upper)

    def integral(values: list[acb], analytic: bool) -> acb:
        def at(u: acb, inner_analytic: bool) -> acb:
            return integrand([*values, u], analytic or inner_analytic)

        return acb.integral(at, low(values, analytic), high(values, analytic))

    return integral


_RELATIONS = {
    "StrictGreaterThan": lambda d: (d > 0, d <= 0),
    "GreaterThan": lambda d: (d >= 0, d < 0),
    "StrictLessThan": lambda d: (d < 0, d >= 0),
    "LessThan": lambda d: (d <= 0, d > 0),
}


def _condition(condition: sympy.Basic, slots: Slots) -> Callable[..., bool | None]:
    """A relation between real quantities on balls: True, False, or None (undecided)."""
    if condition is sympy.true:
        return lambda values, analytic: True
    if condition in slots:
        index = slots[condition]
        return lambda values, analytic: values[index]
    decide = _RELATIONS.get(type(condition).__name__)
    if decide is None:
        raise NotCompilable(f"no ball evaluation of the condition {condition}")
    difference = compile_closure(condition.lhs - condition.rhs, slots)

    def holds(values: list[acb], analytic: bool) -> bool | None:
        real = difference(values, analytic).real
        certainly, certainly_not = decide(real)
        return True if certainly else False if certainly_not else None

    return holds


def _piecewise(expr: sympy.Basic, slots: Slots) -> Closure:
    """The first branch whose condition holds; the union of candidates where undecided."""
    branches = [(compile_closure(e, slots), _condition(c, slots)) for e, c in expr.args]

    def piecewise(values: list[acb], analytic: bool) -> acb:
        candidates: list[acb] = []
        for branch, condition in branches:
            holds = condition(values, analytic)
            if holds is False:
                continue
            candidates.append(branch(values, analytic))
            if holds:
                break
            if analytic:
                return acb(arb.nan())  # the ball straddles a branch boundary
        if not candidates:
            return acb(arb.nan())
        result = candidates[0]
        for candidate in candidates[1:]:
            result = result.union(candidate)
        return result

    return piecewise


def _atan(expr: sympy.Basic, slots: Slots) -> Closure:
    """atan, whose branch cuts are the imaginary half-lines beyond +-i."""
    (argument,) = _arguments(expr, slots)

    def atan(values: list[acb], analytic: bool) -> acb:
        z = argument(values, analytic)
        if analytic and 0 in z.real and not abs(z.imag) < 1:
            return acb(arb.nan())  # the ball may touch a branch cut: not holomorphic
        return z.atan()

    return atan


def _erfcx(expr: sympy.Basic, slots: Slots) -> Closure:
    """The scaled complementary error function ``exp(x**2) erfc(x)`` (``erfcx``), or its
    n-th derivative (``erfcx_derivative(n, x)``).

    On a real ball each is enclosed from its values at the two ends: erfcx is completely
    monotone on the whole real line (``erfcx(x) = 2/sqrt(pi) int_0^oo exp(-t**2 - 2 x t)
    dt``, so its n-th derivative has the sign of ``(-1)**n`` and is monotone), and each
    end's value, by the recurrence ``y_n = 2 x y_(n-1) + 2 (n - 1) y_(n-2)`` at a
    point, has only rounding error.  ``exp(x**2) erfc(x)`` over a ball would instead
    multiply two ranges that move in opposite directions (``exp(2 x w)`` too wide at
    width ``w``).  A complex ball, or the analytic mode, takes the recurrence on the
    ball itself (holomorphic).
    """
    *order_argument, argument_expr = expr.args
    order = int(order_argument[0]) if order_argument else 0
    argument = compile_closure(argument_expr, slots)

    def erfcx(values: list[acb], analytic: bool) -> acb:
        z = argument(values, analytic)
        if analytic or not z.imag.is_zero() or not z.real.is_finite():
            return _erfcx_at(z, order)
        upper, lower = _erfcx_at(acb(z.real.upper()), order), _erfcx_at(acb(z.real.lower()), order)
        return acb(upper.real.union(lower.real))

    return erfcx


def _erfcx_at(z: acb, order: int) -> acb:
    """erfcx's ``order``-th derivative at ``z`` by the recurrence above."""
    previous, current = acb(0), (z * z).exp() * z.erfc()
    if order >= 1:
        previous, current = current, 2 * z * current - 2 / acb(arb.pi()).sqrt()
    for n in range(2, order + 1):
        previous, current = current, 2 * z * current + 2 * (n - 1) * previous
    return current


def _polylog(expr: sympy.Basic, slots: Slots) -> Closure:
    order, argument = _arguments(expr, slots)

    def polylog(values: list[acb], analytic: bool) -> acb:
        z = argument(values, analytic)
        if analytic and not z.real < 1:
            return acb(arb.nan())  # the branch cut [1, oo) may be near: not holomorphic
        return z.polylog(order(values, analytic))

    return polylog


_HANDLERS: dict[str, Callable[[sympy.Basic, Slots], Closure]] = {
    "Add": _add,
    "Mul": _mul,
    "Pow": _pow,
    "exp": _unary("exp"),
    "log": _unary("log", takes_analytic=True),
    "sin": _unary("sin"),
    "cos": _unary("cos"),
    "tan": _unary("tan"),
    "sinh": _unary("sinh"),
    "cosh": _unary("cosh"),
    "tanh": _unary("tanh"),
    "atan": _atan,
    "erf": _unary("erf"),
    "erfc": _unary("erfc"),
    "erfi": _unary("erfi"),
    "erfcx": _erfcx,
    "erfcx_derivative": _erfcx,
    "Abs": _unary("real_abs", takes_analytic=True),
    "sign": _unary("real_sgn", takes_analytic=True),
    "Heaviside": _heaviside,
    "Max": _extremum("real_max"),
    "Min": _extremum("real_min"),
    "re": _part("real"),
    "im": _part("imag"),
    "Integral": _integral,
    "polylog": _polylog,
    "Piecewise": _piecewise,
}
