"""Rigorous growth bounds ``|f(x)| <= A exp(B |x| + C x**2)`` for all real x, by structural rules.

The contract: :func:`growth_bound` returns a :class:`Growth` ``(A, B, C)`` of exact
SymPy numbers (``B >= 0``) such that the bound holds for every real ``x``, or ``None``
when the rules cannot prove one.  Certified quadrature integrates over ``|x| <= L``
and bounds what lies beyond by the Gaussian integral of this bound (closed form,
:func:`tail_bound`), so a truncated tail is accounted for, not assumed away.

The rules are deliberately coarse where coarseness is free: beyond ``L = 10`` the
Gaussian weight is below 1e-22, so ``|x| <= exp(|x|)`` and ``x**2 <= 2 exp(|x|)``
cost nothing that matters.

- numbers: ``(|c|, 0, 0)``; the variable: ``(1, 1, 0)``; a variable known to lie in
  ``[0, 1]`` (the inner variable of a nested integral): ``(1, 0, 0)``;
- sums: ``(sum A, max B, max C)``; products and positive powers multiply out;
- ``exp(p)`` with ``p`` a real polynomial of degree <= 2: ``(exp |p0|, |p1|, p2)``;
  ``exp``, ``sinh``, ``cosh`` of anything with a polynomial bound: ``(exp a0, a1, a2)``;
- bounded functions of real arguments: ``sin``, ``cos``, ``tanh``, ``erf``, ``sign``,
  ``Heaviside`` (1), ``atan`` (pi/2), ``erfc`` (2); ``Abs`` keeps its argument's bound,
  ``Max`` and ``Min`` the sum of their arguments' bounds;
- ``polylog(2, -exp(u))`` (softplus's antiderivative): ``(pi**2/4 + 1) exp(|u|)``;
- ``1 / q**n`` and ``log q`` where ``q >= c > 0`` is provable (a positive constant plus
  nonnegative terms: real exponentials, ``Abs``, even powers, ``cosh``; or ``cosh``):
  ``q**-n <= c**-n`` and ``|log q| <= |log c| + log A_q + B_q|x| + C_q x**2``;
- ``erfi(y)`` and ``erf(i y)`` for real ``y`` linear in x: ``2/sqrt(pi) exp(|y| + y**2)``;
- ``Piecewise``: the sum of its branches' bounds; ``int_0^x g(e) de``: ``exp(|x|)`` times
  ``g``'s bound with ``C`` raised to 0 (the bound is increasing in ``|e|``).

>>> x = sympy.Symbol("x", real=True)
>>> growth_bound(sympy.log(1 + sympy.exp(2 * x)) ** 2 * x**2, x)
Growth(scale=(log(2) + 2)**2, linear=4, quadratic=0)
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
from flint import arb

from verify.exact.balls import number_ball

_ONE_BOUNDED = {"sin": 1, "cos": 1, "tanh": 1, "erf": 1, "sign": 1, "Heaviside": 1, "erfc": 2}


@dataclass(frozen=True)
class Growth:
    """``|f(x)| <= scale * exp(linear * |x| + quadratic * x**2)`` for all real x."""

    scale: sympy.Expr
    linear: sympy.Expr
    quadratic: sympy.Expr

    def __add__(self, other: Growth) -> Growth:
        return Growth(
            self.scale + other.scale,
            sympy.Max(self.linear, other.linear),
            sympy.Max(self.quadratic, other.quadratic),
        )

    def __mul__(self, other: Growth) -> Growth:
        return Growth(
            self.scale * other.scale,
            self.linear + other.linear,
            self.quadratic + other.quadratic,
        )

    def __pow__(self, power: int) -> Growth:
        return Growth(self.scale**power, self.linear * power, self.quadratic * power)


_BOUNDED = Growth(sympy.Integer(1), sympy.Integer(0), sympy.Integer(0))


def growth_bound(
    expr: sympy.Expr, x: sympy.Symbol, unit: frozenset[sympy.Symbol] = frozenset()
) -> Growth | None:
    """A growth bound of ``expr`` in ``x`` (other symbols in ``unit`` lie in [0, 1])."""
    try:
        return _bound(sympy.sympify(expr), x, unit)
    except _NoBound:
        return None


class _NoBound(Exception):
    pass


def _bound(expr: sympy.Expr, x: sympy.Symbol, unit: frozenset[sympy.Symbol]) -> Growth:
    if expr == x:
        return Growth(sympy.Integer(1), sympy.Integer(1), sympy.Integer(0))
    if expr in unit:
        return _BOUNDED
    if not expr.free_symbols - unit:
        if expr.is_number:
            return Growth(sympy.Abs(expr), sympy.Integer(0), sympy.Integer(0))
        raise _NoBound
    name = expr.func.__name__
    if expr.is_Add or name in ("Max", "Min"):
        return _sum(_bound(a, x, unit) for a in expr.args)
    if expr.is_Mul:
        return _product(_bound(a, x, unit) for a in expr.args)
    if expr.is_Pow:
        return _power(expr, x, unit)
    if name in ("exp", "sinh", "cosh"):
        return _exponential(expr.args[0], x, unit, signed=name == "exp")
    if name in _ONE_BOUNDED and _is_real(expr.args[0]):
        return Growth(sympy.Integer(_ONE_BOUNDED[name]), sympy.Integer(0), sympy.Integer(0))
    if name == "atan" and _is_real(expr.args[0]):
        return Growth(sympy.pi / 2, sympy.Integer(0), sympy.Integer(0))
    if name == "Abs":
        return _bound(expr.args[0], x, unit)
    if name == "log" and (floor := _positive_floor(expr.args[0])) is not None:
        inner = _bound(expr.args[0], x, unit)
        # floor <= q <= A exp(B|x| + C x^2), so |log q| <= |log floor| + |log A| + B|x| + C x^2
        # <= (|log floor| + |log A| + B + 2|C|) exp(|x|).
        scale = (
            sympy.Abs(sympy.log(floor))
            + sympy.Abs(sympy.log(inner.scale))
            + inner.linear
            + 2 * sympy.Abs(inner.quadratic)
        )
        return Growth(scale, sympy.Integer(1), sympy.Integer(0))
    if name == "erfi" and _is_real(expr.args[0]):
        return _erfi(expr.args[0], x, unit)
    if name == "erf" and _is_real(sympy.I * expr.args[0]):
        return _erfi(sympy.I * expr.args[0], x, unit)  # erf(i y) = i erfi(y)
    if name == "Piecewise":
        return _sum(_bound(branch, x, unit) for branch, _ in expr.args)
    if name == "polylog" and expr.args[0] == 2 and _is_real(expr.args[1]):
        # |Li2(-exp(u))| <= pi^2/4 + u^2/2 <= (pi^2/4 + 1) exp(|u|) for real u.
        argument = -expr.args[1]
        if argument.func == sympy.exp:
            a0, a1, a2 = _polynomial_bound(argument.args[0], x, unit)
            return Growth((sympy.pi**2 / 4 + 1) * sympy.exp(a0), a1, a2)
    if name == "Integral" and len(expr.limits) == 1 and len(expr.limits[0]) == 3:
        variable, lower, upper = expr.limits[0]
        if lower == 0 and upper == x:
            # |int_0^x g| <= |x| sup_{|e| <= |x|} |g(e)| <= exp(|x|) A exp(B|x| + max(C, 0) x**2).
            inner = _bound(expr.function, variable, unit)
            return Growth(inner.scale, inner.linear + 1, sympy.Max(inner.quadratic, 0))
    raise _NoBound


def _sum(bounds: object) -> Growth:
    total: Growth | None = None
    for bound in bounds:  # type: ignore[attr-defined]
        total = bound if total is None else total + bound
    assert total is not None
    return total


def _product(bounds: object) -> Growth:
    total = _BOUNDED
    for bound in bounds:  # type: ignore[attr-defined]
        total = total * bound
    return total


def _power(expr: sympy.Expr, x: sympy.Symbol, unit: frozenset[sympy.Symbol]) -> Growth:
    base, exponent = expr.base, expr.exp
    if exponent.is_Integer and exponent > 0:
        return _bound(base, x, unit) ** int(exponent)
    floor = _positive_floor(base) if exponent.is_Integer and exponent < 0 else None
    if floor is not None:
        return Growth(floor**exponent, sympy.Integer(0), sympy.Integer(0))  # 0 < q**-n <= floor**-n
    if exponent.is_Integer and exponent < 0 and base.func == sympy.exp:
        return _bound(sympy.exp(-base.args[0] * -exponent), x, unit)
    if exponent == sympy.Rational(1, 2):
        inner = _bound(base, x, unit)
        return Growth(sympy.sqrt(inner.scale), inner.linear / 2, inner.quadratic / 2)
    raise _NoBound


def _exponential(
    argument: sympy.Expr, x: sympy.Symbol, unit: frozenset[sympy.Symbol], signed: bool
) -> Growth:
    """exp(p) (signed: only the real part's upper side matters), sinh(p) or cosh(p)."""
    if signed and not argument.free_symbols & unit and argument.is_polynomial(x):
        coefficients = sympy.Poly(argument, x).all_coeffs()[::-1]
        if len(coefficients) <= 3 and all(_is_real(c) for c in coefficients):
            p0, p1, p2 = (*coefficients, 0, 0)[:3]
            return Growth(sympy.exp(sympy.Abs(p0)), sympy.Abs(p1), p2)
    polynomial = _polynomial_bound(argument, x, unit)
    return Growth(sympy.exp(polynomial[0]), polynomial[1], polynomial[2])


def _polynomial_bound(
    expr: sympy.Expr, x: sympy.Symbol, unit: frozenset[sympy.Symbol]
) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr]:
    """(a0, a1, a2) with |expr| <= a0 + a1|x| + a2 x**2, for arguments of exponentials."""
    if expr == x:
        return (sympy.Integer(0), sympy.Integer(1), sympy.Integer(0))
    if expr in unit:
        return (sympy.Integer(1), sympy.Integer(0), sympy.Integer(0))
    if not expr.free_symbols - unit and expr.is_number:
        return (sympy.Abs(expr), sympy.Integer(0), sympy.Integer(0))
    name = expr.func.__name__
    # |a + b|, |Max(a, b)| and |Min(a, b)| are at most |a| + |b|, and ||a|| = |a| (the ELU's
    # exp(Min(z, 0))): the columns of the arguments' bounds add.
    if expr.is_Add or name in ("Max", "Min") or (name == "Abs" and _is_real(expr.args[0])):
        parts = [_polynomial_bound(a, x, unit) for a in expr.args]
        return tuple(sympy.Add(*column) for column in zip(*parts, strict=True))
    if expr.is_Mul:
        total = (sympy.Integer(1), sympy.Integer(0), sympy.Integer(0))
        for factor in expr.args:
            a, b = total, _polynomial_bound(factor, x, unit)
            degree = max(i for i in range(3) if a[i] != 0) + max(i for i in range(3) if b[i] != 0)
            if degree > 2:
                raise _NoBound
            total = (
                a[0] * b[0],
                a[0] * b[1] + a[1] * b[0],
                a[0] * b[2] + a[1] * b[1] + a[2] * b[0],
            )
        return total
    if name in _ONE_BOUNDED and _is_real(expr.args[0]):
        return (sympy.Integer(_ONE_BOUNDED[name]), sympy.Integer(0), sympy.Integer(0))
    raise _NoBound


def _is_real(expr: sympy.Expr) -> bool:
    return bool(expr.is_extended_real) and not expr.has(sympy.I)


def _positive_floor(expr: sympy.Expr) -> sympy.Expr | None:
    """A constant ``c > 0`` with ``expr >= c`` for all real x, provable term by term, or None.

    ``expr`` must be a positive constant plus terms that are nonnegative for real
    arguments: real exponentials, ``Abs``, even powers, ``cosh`` (counted as 0, though it
    is >= 1), and positive multiples and products of those; or ``cosh`` itself (>= 1).
    """
    if expr.func == sympy.cosh and _is_real(expr.args[0]):
        return sympy.Integer(1)
    # Numeric terms count as the constant, not only a rational one: SymPy's antiderivative
    # of sigmoid(2 z - 1) is log(exp(-1) + exp(-2 z))/2.
    terms = sympy.Add.make_args(expr)
    constant = sympy.Add(*(t for t in terms if t.is_number))
    rest = [t for t in terms if not t.is_number]
    if not (constant.is_positive and all(_nonnegative(t) for t in rest)):
        return None
    return constant


def _nonnegative(term: sympy.Expr) -> bool:
    if term == 0:
        return True
    if term.is_Mul:
        return all(_nonnegative(factor) for factor in term.args)
    if term.is_number:
        return bool(term.is_nonnegative)
    if term.is_Pow and term.exp.is_Integer:
        return _is_real(term.base) and (int(term.exp) % 2 == 0 or _nonnegative(term.base))
    if term.func in (sympy.exp, sympy.Abs, sympy.cosh):
        return _is_real(term.args[0])
    return False


def _erfi(argument: sympy.Expr, x: sympy.Symbol, unit: frozenset[sympy.Symbol]) -> Growth:
    """|erfi(y)| = 2/sqrt(pi) |int_0^y exp(t^2) dt| <= 2/sqrt(pi) |y| exp(y^2)
    <= 2/sqrt(pi) exp(|y| + y^2), for real y linear in x."""
    a0, a1, a2 = _polynomial_bound(argument, x, unit)
    if a2 != 0:
        raise _NoBound  # y quadratic: exp(y^2) is not of this form
    # |y| + y^2 <= (a0 + a0^2) + (a1 + 2 a0 a1)|x| + a1^2 x^2.
    return Growth(2 / sympy.sqrt(sympy.pi) * sympy.exp(a0 + a0**2), a1 + 2 * a0 * a1, a1**2)


def tail_bound(growth: Growth, reach: arb) -> arb:
    """An upper bound of ``int_{|x| > reach} A exp(B|x| + C x**2) phi(x) dx`` (both tails).

    With ``c = 1/2 - C > 0``: ``exp(Bx - c x**2) = exp(B**2/(4c)) exp(-c (x - B/(2c))**2)``,
    so one tail is ``A exp(B**2/(4c)) / sqrt(2 pi) * sqrt(pi/c)/2 * erfc(sqrt(c)(L - B/(2c)))``.
    Infinite (``arb`` +inf) when ``C >= 1/2``: then the bound proves nothing.
    """
    scale, linear, quadratic = (
        _upper(value) for value in (growth.scale, growth.linear, growth.quadratic)
    )
    c = arb(1) / 2 - quadratic
    if not c > 0:
        return arb("inf")
    shift = linear / (2 * c)
    one_tail = (
        scale
        * (linear**2 / (4 * c)).exp()
        / (2 * arb.pi()).sqrt()
        * (arb.pi() / c).sqrt()
        / 2
        * (c.sqrt() * (reach - shift)).erfc()
    )
    total = 2 * one_tail
    return total.mid() + total.rad()


def _upper(value: sympy.Expr) -> arb:
    """An upper bound of the exact real number ``value``, from its enclosing ball."""
    ball = number_ball(value).real
    return ball.mid() + ball.rad()
