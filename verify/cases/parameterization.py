"""Gradients and estimator variances with respect to other parameters (chain rule).

The contract: a case file may say how mu and sigma are parameterised,

    [parameterization]
    mu = "m"                      # optional; identity when absent
    sigma = "log(1 + exp(s))"     # softplus; or "exp(s)" for log-sigma

Each right-hand side is an expression (the safe grammar of :mod:`verify.cases.expressions`)
in exactly one new name, its own.  The Jacobian is then diagonal, so every
single-sample estimator transforms componentwise:

    g_phi = (d theta / d phi) g_theta,   Var[g_phi] = (d theta / d phi)**2 Var[g_theta],
    Cov[g_m, g_s] = (d mu / d m)(d sigma / d s) Cov[g_mu, g_sigma].

Every estimator's variance for a component is scaled by the same positive factor,
so which estimator has the lower variance is the same in the new parameters as in
(mu, sigma): the reports state the transformed numbers and this invariance.  At a
point given as (mu, sigma), the new parameters are found by solving theta(phi) =
value to 50 digits (bracketing, then a root finder); a value the map cannot reach
(sigma = exp(s) = -1) is an error.

A table with a ``phi`` key is the other form, several trainable names shared by mu
and sigma with data held fixed (a full Jacobian): :mod:`verify.cases.phi`.

>>> component = parse_component("sigma", "exp(s)", reserved=frozenset())
>>> component.name, component.jacobian
('s', exp(s))
>>> round(float(component.inverse(2.0)), 12)  # log 2
0.69314718056
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import mpmath
import sympy

from verify.cases.expressions import ExpressionError, parse_expression
from verify.cases.grammar import ALLOWED_FUNCTIONS, CONSTANTS, MAX_TEXT_LENGTH
from verify.cases.symbols import GRADIENT_PARAMETERS, RESERVED_NAMES, parameter_symbol

_BRACKET_STEPS = 60
Jacobians = dict[str, mpmath.mpf]


class ParameterizationError(ValueError):
    """A bad ``[parameterization]`` entry: ``field`` names it, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Component:
    """``theta = expression(name)`` for one of mu, sigma."""

    theta: str
    name: str
    text: str
    expression: sympy.Expr

    @property
    def symbol(self) -> sympy.Symbol:
        """The new parameter's symbol."""
        return parameter_symbol(self.name)

    @property
    def jacobian(self) -> sympy.Expr:
        """d theta / d phi, as a function of the new parameter."""
        return sympy.diff(self.expression, self.symbol)

    def inverse(self, theta_value: float) -> mpmath.mpf:
        """The new parameter's value where theta(phi) = theta_value."""
        function = sympy.lambdify(self.symbol, self.expression - theta_value, modules="mpmath")
        with mpmath.workdps(50):
            low, high = _bracket(function)
            if low is None or high is None:
                raise ParameterizationError(
                    f"parameterization.{self.theta}",
                    f"{self.theta} = {self.text} never equals {theta_value:g}",
                )
            root = mpmath.findroot(function, (low, high), solver="anderson")
            return +mpmath.re(root)


def _bracket(function: object) -> tuple[mpmath.mpf | None, mpmath.mpf | None]:
    """An interval where the function changes sign, widening from [-1, 1]."""
    low, high = mpmath.mpf(-1), mpmath.mpf(1)
    for _ in range(_BRACKET_STEPS):
        try:
            f_low, f_high = function(low), function(high)  # type: ignore[operator]
        except (ValueError, ZeroDivisionError, OverflowError):
            return None, None
        if mpmath.sign(mpmath.re(f_low)) != mpmath.sign(mpmath.re(f_high)):
            return low, high
        low, high = 2 * low, 2 * high
    return None, None


@dataclass(frozen=True)
class Parameterization:
    """The components given in the case file (absent ones are the identity)."""

    components: dict[str, Component]

    def jacobians_at(
        self, point: dict[str, float]
    ) -> tuple[dict[str, float], dict[str, mpmath.mpf]]:
        """(new parameter values, d theta / d phi) at a (mu, sigma) point."""
        values: dict[str, float] = {}
        jacobians: dict[str, mpmath.mpf] = {}
        for theta in GRADIENT_PARAMETERS:
            component = self.components.get(theta)
            if component is None:
                values[theta] = point[theta]
                jacobians[theta] = mpmath.mpf(1)
                continue
            phi = component.inverse(point[theta])
            values[component.name] = float(phi)
            derivative = sympy.lambdify(component.symbol, component.jacobian, modules="mpmath")
            with mpmath.workdps(50):
                jacobians[theta] = +mpmath.re(derivative(phi))
        return values, jacobians

    def name(self, theta: str) -> str:
        """The new name of mu or sigma (itself when not reparameterised)."""
        component = self.components.get(theta)
        return theta if component is None else component.name


def parse_parameterization(
    table: dict[str, object], case_parameters: tuple[str, ...]
) -> Parameterization:
    """Validate a ``[parameterization]`` table; ParameterizationError names the bad field."""
    unknown = sorted(set(table) - set(GRADIENT_PARAMETERS))
    if unknown:
        raise ParameterizationError(
            f"parameterization.{unknown[0]}", "only mu and sigma can be reparameterised"
        )
    taken = RESERVED_NAMES | set(case_parameters)
    components: dict[str, Component] = {}
    for theta, text in table.items():
        if not isinstance(text, str):
            raise ParameterizationError(f"parameterization.{theta}", "must be a string")
        component = parse_component(theta, text, reserved=frozenset(taken))
        taken = taken | {component.name}
        components[theta] = component
    return Parameterization(components)


def parse_component(theta: str, text: str, *, reserved: frozenset[str]) -> Component:
    """``theta = text`` with exactly one new name in ``text``."""
    field = f"parameterization.{theta}"
    names = _free_names(text, field)
    if len(names) != 1:
        raise ParameterizationError(
            field, f"must use exactly one new parameter name, found {sorted(names) or 'none'}"
        )
    (name,) = names
    if name in reserved or not name.isascii() or not name.isidentifier() or name.startswith("_"):
        raise ParameterizationError(
            field, f"the new name {name!r} is taken or invalid; use a fresh ASCII name"
        )
    try:
        expression = parse_expression(text, {name: parameter_symbol(name)}, field=field)
    except ExpressionError as error:
        raise ParameterizationError(field, str(error)) from None
    return Component(theta, name, text, expression)


def _free_names(text: str, field: str) -> set[str]:
    """Names in ``text`` that are not functions or constants (the AST is only read)."""
    if len(text) > MAX_TEXT_LENGTH:
        raise ParameterizationError(field, f"longer than {MAX_TEXT_LENGTH} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ParameterizationError(field, "is not an expression") from None
    return {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name)
        and node.id not in ALLOWED_FUNCTIONS
        and node.id not in CONSTANTS
    }
