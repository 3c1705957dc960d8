"""A point of a phi-form case: exact (mu, sigma) from the phi values, and the certified Jacobian.

The contract: :func:`phi_point` takes the phi values and the data (every case
parameter) of a :class:`~verify.cases.phi.PhiParameterization` case and returns a
:class:`PhiPoint` whose ``exact`` point holds mu and sigma as *exact* SymPy numbers,
``mu(phi, x)`` and ``sigma(phi, x)`` at the rationals the inputs print as (0.3 is
3/10; ``exp(3/10)`` stays ``exp(3/10)``), so every closed form downstream is
evaluated in ball arithmetic at the exact point the phi values define, with no
rounding of mu or sigma.  ``jacobian[theta][name]`` is d theta / d name there, an
:class:`~verify.exact.numbers.Number` certified by ball arithmetic
(:func:`~verify.exact.certified.closed_form_ball`).  A point where sigma is not
provably > 0, mu or sigma is not a finite real number, or the map has no finite
derivative raises :class:`~verify.cases.parameterization.ParameterizationError`
with field ``at`` (the one-line bad-input error of ``verify evaluate``).

>>> from verify.cases.phi import parse_phi_parameterization
>>> form = parse_phi_parameterization(
...     {"phi": ["w", "b", "v", "c"], "mu": "w*x + b", "sigma": "exp(v*x + c)"}, ("x",))
>>> point = phi_point(form, {"w": 0.5, "b": 0.1, "v": 0.0, "c": 0.3}, {"x": 0.5})
>>> point.exact[point_symbol("mu")], point.exact[point_symbol("sigma")], point.at
(7/20, exp(3/10), {'mu': 0.35, 'sigma': 1.3498588075760032, 'x': 0.5})
>>> float(point.jacobian["sigma"]["v"].value)  # x * sigma
0.6749294037880016
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mpmath
import sympy

from verify.cases.parameterization import ParameterizationError
from verify.cases.phi import PhiParameterization
from verify.exact.certified import closed_form_ball
from verify.exact.evaluation import ExactPoint, exact_point, point_symbol
from verify.exact.numbers import Number

_CHECK_DIGITS = 30


@dataclass(frozen=True)
class PhiPoint:
    """One point given in phi (see the module docstring)."""

    form: PhiParameterization
    phi: dict[str, float]
    at: dict[str, float]  # mu and sigma (or mu1..sigmad), rounded, and every case parameter
    exact: ExactPoint  # MU and SIGMA (or mu_i, sigma_i) exact, every case parameter rational
    jacobian: dict[str, dict[str, Number]]  # component -> phi name -> d component / d name


def phi_point(
    form: PhiParameterization, phi: Mapping[str, float], data: Mapping[str, float]
) -> PhiPoint:
    """The point ``phi`` with the case parameters ``data`` (all of them, by name)."""
    rationals = exact_point({**phi, **data})
    components = form.components
    theta = {t: _theta(form, t, rationals) for t in components}
    for scale in (t for t in components if t.startswith("sigma")):
        if not closed_form_ball(form.expressions[scale], rationals) > 0:  # the whole ball > 0
            value = f"{float(sympy.N(theta[scale], _CHECK_DIGITS)):.6g}"
            raise ParameterizationError(
                "at",
                f"{scale}: {scale} = {form.texts[scale]} is {value} here, not provably > 0; "
                f"{scale} must be > 0",
            )
    jacobian = {
        t: {name: _derivative(form, t, name, rationals) for name in form.phi} for t in components
    }
    exact: ExactPoint = {point_symbol(t): theta[t] for t in components}
    exact |= exact_point(dict(data))
    at = {t: float(sympy.N(theta[t], _CHECK_DIGITS)) for t in components}
    at |= {name: float(value) for name, value in data.items()}
    return PhiPoint(form, {n: float(phi[n]) for n in form.phi}, at, exact, jacobian)


def _theta(form: PhiParameterization, theta: str, rationals: ExactPoint) -> sympy.Expr:
    """mu or sigma at the point, exactly; an error unless it is a finite real number."""
    value = form.expressions[theta].xreplace(rationals)
    bad = value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo) or value.free_symbols
    if not bad:
        # is_real may be None for an intricate constant: then its 30 digits decide.
        numeric = complex(sympy.N(value, _CHECK_DIGITS))
        bad = value.is_real is False or (value.is_real is None and numeric.imag != 0)
    if bad:
        raise ParameterizationError(
            "at", f"{theta}: {theta} = {form.texts[theta]} is not a finite real number here"
        )
    return value


def _derivative(form: PhiParameterization, theta: str, name: str, point: ExactPoint) -> Number:
    number = Number.of(closed_form_ball(form.jacobian[theta][name], point), "closed-form")
    if number.ball is None or not mpmath.isfinite(number.value):
        raise ParameterizationError(
            "at",
            f"{theta} = {form.texts[theta]} has no finite derivative in {name} here; "
            "the chain rule needs one",
        )
    return number
