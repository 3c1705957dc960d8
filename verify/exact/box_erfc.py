"""Error functions rewritten by the sign of their argument, chosen box by box.

The contract: :class:`erfcx` is the scaled complementary error function
``exp(x**2) erfc(x)`` as a SymPy function, and :class:`erfcx_derivative` its n-th
derivative (the ball compiler, :mod:`verify.exact.ball_closures`, encloses both
tightly).  :func:`erf_scaled` rewrites each ``erf(a)`` of a formula by the exact
identities

    erf(a) = 1 - erfcx(a) exp(-a**2)       (for a >= 0 on the box)
    erf(a) = erfcx(-a) exp(-a**2) - 1      (for a <= 0)

and :class:`ScaledBoxFunction` picks, for each box, the rewrite that matches the signs
its ``erf`` arguments have on the box (ball arithmetic), compiled when first met.
Where ``(mu - c)/sigma`` is very negative, ``1 + erf(u)`` in a variance of a hinge
(relu) is a difference of nearly equal numbers, beside ``exp(-u**2)`` that varies by
orders of magnitude over a box: the rewrite makes both one factor ``exp(-u**2)`` that
the same-sign rewrite (:mod:`verify.exact.box_normal`) divides out, leaving
``erfcx``, which varies slowly.  Every rewrite is exact at every point: the signs
only choose the tighter one; the sign of the original formula is what is proven.

>>> from verify.cases.symbols import MU
>>> erf_scaled(sympy.erf(MU) + 1, (-1,))
erfcx(-mu)*exp(-mu**2)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sympy
from flint import acb

from verify.exact.balls import working_precision
from verify.exact.box_compile import ball_function
from verify.exact.box_enclosure import (
    BOX_PRECISION,
    Box,
    BoxFunction,
    Sign,
    box_function,
    certified_sign,
    interval_ball,
)
from verify.exact.box_normal import sign_equivalent

# Each sign pattern's rewrite costs SymPy work (a same-sign rewrite and a compile,
# seconds for clip's two arguments, measured): one argument, two rewrites at most.
_MAX_ARGUMENTS = 1


class erfcx(sympy.Function):  # type: ignore[misc]  # SymPy is untyped; named as SymPy names erf
    """``exp(x**2) erfc(x)``, the scaled complementary error function."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return erfcx_derivative(1, self.args[0])


class erfcx_derivative(sympy.Function):  # type: ignore[misc]
    """``d^n/dx^n erfcx(x)``, kept whole: written ``2 x erfcx(x) - 2/sqrt(pi)`` (n = 1)
    it is a difference of nearly equal terms for large x, which a ball of x widens."""

    nargs = 2

    @classmethod
    def eval(cls, order: sympy.Expr, x: sympy.Expr) -> sympy.Expr | None:
        return erfcx(x) if order == 0 else None

    def fdiff(self, argindex: int = 2) -> sympy.Expr:
        order, x = self.args
        return erfcx_derivative(order + 1, x)


def erf_arguments(expr: sympy.Expr) -> tuple[sympy.Expr, ...]:
    """The distinct arguments of ``erf`` in ``expr``, in a fixed order."""
    found = {e.args[0] for e in expr.atoms(sympy.erf)}
    return tuple(sorted(found, key=sympy.default_sort_key))


def erf_scaled(expr: sympy.Expr, signs: tuple[int, ...]) -> sympy.Expr:
    """``expr`` with ``erf(a_i)`` rewritten for ``a_i`` of sign ``signs[i]`` (0: kept)."""
    replacements = {}
    for argument, sign in zip(erf_arguments(expr), signs, strict=True):
        scale = sympy.exp(-(argument**2))
        if sign > 0:
            replacements[sympy.erf(argument)] = 1 - erfcx(argument) * scale
        elif sign < 0:
            replacements[sympy.erf(argument)] = erfcx(-argument) * scale - 1
    return sympy.expand(expr.xreplace(replacements)) if replacements else expr


@dataclass(frozen=True)
class ScaledBoxFunction:
    """A formula's sign over boxes, from the erf rewrite that fits each box.

    ``plain`` encloses the formula as given (boxes where some argument changes sign);
    the rewrites are made of ``expr`` (the difference before the same-sign rewrite) and
    rewritten for their sign on ``domain`` too.
    """

    plain: BoxFunction
    expr: sympy.Expr
    variables: tuple[sympy.Symbol, ...]
    domain: Box
    arguments: tuple[Callable[[Sequence[acb]], acb], ...]
    _scaled: dict[tuple[int, ...], BoxFunction] = field(default_factory=dict, compare=False)
    # The last box's choice: the search asks for a box's sign, then for its smear.
    _last: dict[Box, BoxFunction] = field(default_factory=dict, compare=False)

    def sign(self, box: Box) -> Sign:
        return self._for(box).sign(box)

    def smear(self, box: Box) -> list[float] | None:
        return self._for(box).smear(box)

    def straddles(self, box: Box) -> bool:
        # Every rewrite is the same function: its values at points are the plain one's.
        return self.plain.straddles(box)

    def _for(self, box: Box) -> BoxFunction:
        if box in self._last:
            return self._last[box]
        chosen = self._chosen(box)
        self._last.clear()
        self._last[box] = chosen
        return chosen

    def _chosen(self, box: Box) -> BoxFunction:
        with working_precision(BOX_PRECISION):
            whole = [interval_ball(low, high) for low, high in box]
            signs = tuple(certified_sign(a(whole).real) or 0 for a in self.arguments)
        if not all(signs):
            return self.plain
        if signs not in self._scaled:
            rewritten = erf_scaled(self.expr, signs)
            same_sign = sign_equivalent(rewritten, self.variables, self.domain)
            self._scaled[signs] = box_function(same_sign, self.variables)
        return self._scaled[signs]


def scaled_where_useful(
    plain: BoxFunction, expr: sympy.Expr, variables: tuple[sympy.Symbol, ...], domain: Box
) -> BoxFunction | ScaledBoxFunction:
    """``plain``, or a :class:`ScaledBoxFunction` when ``expr`` has a few erf arguments."""
    arguments = erf_arguments(expr)
    if not arguments or len(arguments) > _MAX_ARGUMENTS:
        return plain
    compiled = tuple(ball_function(a, variables) for a in arguments)
    return ScaledBoxFunction(plain, expr, variables, domain, compiled)
