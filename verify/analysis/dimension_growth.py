"""How each estimator's variance depends on the dimension d (symbolic-dimension cases).

The contract: :func:`dimension_growth` evaluates, at a case's reference point (other
parameters at their first listed values), every estimator's variance of coordinate 1
on the whole numbers from 1 to the largest listed d -- float64 from the exact
formulas, for the plot only -- and states exactly how it grows:

- **sum**: each variance is a polynomial in d (:mod:`verify.exact.dimension`); its
  degree, read off the closed form, is the growth ("d^2", "d", "constant").  Where a
  one-coordinate moment needs quadrature, the coefficients of the powers of d are
  polynomials in those moments, evaluated in ball arithmetic: the degree is the highest
  power whose coefficient is certified nonzero (powers absent from the formula are
  absent exactly);
- **product**: each second moment is its one-coordinate value times
  ``E[f**2]**(d - 1)``, so every variance grows (or decays) at the rate ``E[f**2]``
  per coordinate, evaluated exactly at the point.

Crossovers in d are the report's (:mod:`verify.analysis.crossover` along d).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy

from verify.analysis.sweep import VarianceFunction, symbol_of
from verify.cases.dimension import Dimension
from verify.cases.estimators import ESTIMATOR_NAMES
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.compound import Compound
from verify.exact.derivation import Derivation
from verify.exact.dimension import DimensionDerivation
from verify.exact.evaluation import ExactPoint, evaluate_expectation, exact_point

MAX_PLOTTED = 400  # d values on the plot's grid (log-spaced whole numbers beyond this)


@dataclass(frozen=True)
class DimensionGrowth:
    """Variances against d at ``fixed``, and how each grows."""

    dimension: Dimension
    fixed: dict[str, float]
    grid: np.ndarray
    curves: dict[str, dict[str, np.ndarray]]  # estimator -> component -> variances on grid
    growth: dict[str, dict[str, str]]  # estimator -> component -> "d^2", "constant", ...
    rate: float | None  # product: E[f^2] at the point, the per-coordinate factor


def dimension_growth(
    derivation: Derivation, dimension: Dimension, fixed: Mapping[str, float], largest: int
) -> DimensionGrowth:
    """The :class:`DimensionGrowth` of the module docstring, d from 1 to ``largest``."""
    assert isinstance(derivation, DimensionDerivation)
    point = {k: v for k, v in fixed.items() if k != dimension.parameter}
    grid = _grid(largest)
    curves: dict[str, dict[str, np.ndarray]] = {}
    growth: dict[str, dict[str, str]] = {}
    for estimator in ESTIMATOR_NAMES:
        functions = {
            p: VarianceFunction.compile(derivation, estimator, p, point, [dimension.parameter])
            for p in GRADIENT_PARAMETERS
        }
        curves[estimator] = {p: f.values([grid]) for p, f in functions.items()}
        growth[estimator] = {
            p: _growth(derivation, estimator, p, point, dimension) for p in GRADIENT_PARAMETERS
        }
    rate = None
    if dimension.combine == "product":
        second = derivation.base.product_expectation("r", 2, sympy.Integer(1))
        rate = float(evaluate_expectation(second, exact_point(point)).value)
    return DimensionGrowth(dimension, dict(fixed), grid, curves, growth, rate)


def _grid(largest: int) -> np.ndarray:
    if largest <= MAX_PLOTTED:
        return np.arange(1, largest + 1, dtype=float)
    return np.unique(np.round(np.geomspace(1, largest, MAX_PLOTTED)))


def _growth(
    derivation: Derivation,
    estimator: str,
    parameter: str,
    point: Mapping[str, float],
    dimension: Dimension,
) -> str:
    """The exact growth in d of one variance (see the module docstring)."""
    if dimension.combine == "product":
        return "rate^d"
    formula = derivation.variance_formula(estimator, parameter)
    d = symbol_of(dimension.parameter)
    at = exact_point(point)
    if formula is None:
        return _growth_of_parts(derivation, estimator, parameter, at, d)
    with mpmath.workdps(30):
        polynomial = sympy.Poly(sympy.expand(formula.subs(at)), d)
    return _power_name(polynomial.degree())


def _growth_of_parts(
    derivation: Derivation, estimator: str, parameter: str, at: ExactPoint, d: sympy.Symbol
) -> str:
    """The degree in d of E[g**2] - E[g]**2 when some one-coordinate moment has no closed
    form: the highest power of d whose coefficient's ball excludes zero."""
    variance = Compound.of(
        lambda second, first: second - first**2,
        derivation.raw_moment(estimator, parameter, 2),
        derivation.raw_moment(estimator, parameter, 1),
    )
    polynomial = sympy.Poly(sympy.expand(variance.formula.subs(at)), d)
    for (power,), coefficient in polynomial.terms():  # highest power first
        # A compound over the same parts: evaluated part by part, in ball arithmetic.
        ball = evaluate_expectation(Compound(coefficient, variance.parts), at).ball
        if ball is None or not ball.is_finite():
            return "unknown"
        if not ball.contains(0):
            return _power_name(power)
    return "constant"


def _power_name(degree: int) -> str:
    return {0: "constant", 1: "d"}.get(degree, f"d^{degree}")
