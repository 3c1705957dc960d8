"""Quantities that are functions of several Gaussian expectations, kept exact.

The contract: a :class:`Compound` is a SymPy ``formula`` in placeholder symbols,
each standing for one :class:`~verify.exact.gaussian.Expectation` in ``parts``.  It has a
closed form exactly when every part has one (substitute them), and otherwise is
evaluated by evaluating each part -- by its own method -- and then the formula, in
mpmath at the working precision.  Infinite parts propagate by mpmath's arithmetic
(``inf - inf`` is ``nan``: undefined).  Baselines (a ratio of expectations) and
the measure-valued estimator without coupling (products of expectations over
independent draws) are compounds.

>>> from verify.exact.gaussian import gaussian_expectation
>>> from verify.cases.symbols import EPS
>>> second = Compound.of(lambda a, b: a - b**2, gaussian_expectation(EPS**4),
...                      gaussian_expectation(EPS**2))
>>> second.value
2
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import sympy

from verify.exact.gaussian import Expectation, Method


@dataclass(frozen=True)
class Compound:
    """``formula`` with each placeholder in ``parts`` standing for that expectation."""

    formula: sympy.Expr
    parts: tuple[tuple[sympy.Symbol, Expectation], ...]

    @staticmethod
    def of(build: Callable[..., sympy.Expr], *quantities: Expectation | Compound) -> Compound:
        """``build(Q_1, ..., Q_n)`` over expectations or compounds (which are flattened)."""
        parts: list[tuple[sympy.Symbol, Expectation]] = []
        arguments: list[sympy.Expr] = []
        for quantity in quantities:
            if isinstance(quantity, Expectation):
                symbol = _placeholder(len(parts))
                parts.append((symbol, quantity))
                arguments.append(symbol)
                continue
            offset = len(parts)
            renamed = {old: _placeholder(offset + i) for i, (old, _) in enumerate(quantity.parts)}
            parts.extend((renamed[old], part) for old, part in quantity.parts)
            arguments.append(quantity.formula.xreplace(renamed))
        return Compound(sympy.sympify(build(*arguments)), tuple(parts))

    @cached_property
    def value(self) -> sympy.Expr | None:
        """The closed form, when every part has one (built once: it can be large, and the
        same object then hits the compiled-formula cache at every point)."""
        if any(part.value is None for _, part in self.parts):
            return None
        return self.formula.xreplace({symbol: part.value for symbol, part in self.parts})

    @property
    def method(self) -> Method:
        """Quadrature if any part needs it."""
        closed = all(part.method == "closed-form" for _, part in self.parts)
        return "closed-form" if closed else "quadrature"

    @property
    def reason(self) -> str:
        """Why parts need quadrature ("" when every part has a closed form)."""
        reasons = {part.reason for _, part in self.parts if part.reason}
        return "; ".join(sorted(reasons))

    @cached_property
    def divergence(self) -> tuple[sympy.Expr, ...]:
        """Every part's divergence conditions."""
        conditions = {b for _, part in self.parts for b in part.divergence}
        return tuple(sorted(conditions, key=sympy.default_sort_key))


Quantity = Expectation | Compound


def _placeholder(index: int) -> sympy.Symbol:
    return sympy.Symbol(f"_E{index}", real=True)
