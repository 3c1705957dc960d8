"""The phi form of ``[parameterization]``: several trainable names shared by mu and sigma.

The contract: a case file may say

    [parameterization]
    phi = ["w", "b", "v", "c"]          # the trainable names, in the order every output uses
    mu = "w*x + b"                      # required: an expression in phi and case parameters
    sigma = "exp(v*x + c)"              # required, likewise
    reference = {w = 0, b = 1}          # optional: the phi point of the report (default 0)

which is the seed's q_phi(z | x) = N(mu_phi(x), sigma_phi(x)^2): the case parameters
(``x`` here, from ``[parameters]``) are data, held fixed, and only the phi names are
differentiated.  The rules, each broken one a one-line :class:`ParameterizationError`
naming the field (``parameterization.phi``, ``parameterization.mu`` ...):

- ``phi`` is a non-empty list of at most :data:`MAX_PHI` new names: ASCII identifiers
  (a letter, then letters, digits, ``_``; at most 32), none reserved (``z``, ``mu``,
  ``sigma``, ``eps``), a function, a constant, a keyword, a case parameter or repeated;
- ``mu`` and ``sigma`` are both required: the identity (``mu = "mu"``) cannot be meant,
  since mu and sigma are not names the map may use, so a missing one is an error rather
  than a guess.  They are parsed by the allow-list parser over the phi names and the case
  parameters only, and must be differentiable in every phi name (a jump, ``Heaviside(w)``,
  has no derivative to chain through);
- every phi name appears in mu or in sigma (after SymPy's simplification: ``w - w`` does
  not count), since a name that moves neither has a zero gradient by construction;
- ``reference`` gives some or all phi names a number (the rest are 0).  Whether sigma > 0
  there depends on the data, so it is checked where a point is evaluated.

With an explicit dimension (``dimension = d``, :mod:`verify.cases.coordinates`) the map
gives every component instead of ``mu`` and ``sigma``: ``mu1``..``mud`` and
``sigma1``..``sigmad`` are all required (``mu1 = "w*x + b"``, ``sigma2 = "exp(c)"``), and
these names, with ``z1``..``zd``, cannot be phi names.

The Jacobian ``J = d(mu, sigma) / d(phi)`` (2d x p with d coordinates) is kept symbolically
(:attr:`PhiParameterization.jacobian`); it is evaluated at a point in
:mod:`verify.exact.phi_point` and chained with the exact moments in
:mod:`verify.exact.phi_chain`.
A point of such a case may be given in phi (and the data); the one-name form of
:mod:`verify.cases.parameterization` is unchanged.

>>> phi = parse_phi_parameterization(
...     {"phi": ["w", "b", "v", "c"], "mu": "w*x + b", "sigma": "exp(v*x + c)"}, ("x",))
>>> phi.jacobian["mu"]["w"], phi.jacobian["sigma"]["c"], phi.data
(x, exp(c + v*x), ('x',))
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import sympy

from verify.cases.expressions import ExpressionError, parse_expression
from verify.cases.grammar import ALLOWED_FUNCTIONS, CONSTANTS
from verify.cases.parameterization import ParameterizationError
from verify.cases.symbols import GRADIENT_PARAMETERS, RESERVED_NAMES, parameter_symbol

MAX_PHI = 16
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")


@dataclass(frozen=True)
class PhiParameterization:
    """mu and sigma as functions of the trainable ``phi`` names and the data.

    ``expressions`` and ``texts`` are keyed by the ``components`` (``"mu"`` and ``"sigma"``;
    ``"mu1"``..``"sigmad"`` with an explicit dimension); ``jacobian[theta][name]`` is
    d theta / d name; ``data`` are the case parameters the map uses (file order).
    """

    phi: tuple[str, ...]
    texts: dict[str, str]
    expressions: dict[str, sympy.Expr]
    jacobian: dict[str, dict[str, sympy.Expr]]
    data: tuple[str, ...]
    reference: dict[str, float]
    components: tuple[str, ...] = GRADIENT_PARAMETERS

    def describe(self) -> str:
        """``mu = w*x + b, sigma = exp(v*x + c)``, as the case file gives it."""
        return ", ".join(f"{theta} = {self.texts[theta]}" for theta in self.components)


def parse_phi_parameterization(
    table: Mapping[str, object],
    case_parameters: tuple[str, ...],
    components: tuple[str, ...] = GRADIENT_PARAMETERS,
) -> PhiParameterization:
    """Validate the phi form (see the module docstring); ParameterizationError names the field.

    ``components`` are the keys the map must give: ``("mu", "sigma")``, or with an
    explicit dimension ``mu1``..``sigmad`` (which, like ``z1``..``zd``, are then reserved).
    """
    allowed = ("phi", *components, "reference")
    unknown = [key for key in table if key not in allowed]
    if unknown:
        raise ParameterizationError(
            f"parameterization.{unknown[0]}",
            f"unknown key in the phi form; allowed keys: {', '.join(allowed)}",
        )
    taken = _taken_names(components)
    names = _phi_names(table.get("phi"), case_parameters, taken)
    symbols = {name: parameter_symbol(name) for name in (*names, *case_parameters)}
    texts: dict[str, str] = {}
    expressions: dict[str, sympy.Expr] = {}
    for theta in components:
        texts[theta], expressions[theta] = _component(table, theta, symbols, components)
    used = set().union(*(e.free_symbols for e in expressions.values()))
    unused = [name for name in names if parameter_symbol(name) not in used]
    if unused:
        raise ParameterizationError(
            "parameterization.phi",
            f"{unused[0]!r} appears in neither mu nor sigma; every phi name must move one of them",
        )
    jacobian = {
        theta: {name: sympy.diff(expressions[theta], parameter_symbol(name)) for name in names}
        for theta in components
    }
    for theta in components:
        for name, derivative in jacobian[theta].items():
            if derivative.has(sympy.DiracDelta):
                raise ParameterizationError(
                    f"parameterization.{theta}",
                    f"jumps in {name!r} (sign or Heaviside of a phi name): the chain rule needs "
                    "a derivative; use a continuous map",
                )
    data = tuple(p for p in case_parameters if parameter_symbol(p) in used)
    reference = _reference(table.get("reference"), names)
    return PhiParameterization(names, texts, expressions, jacobian, data, reference, components)


def _taken_names(components: tuple[str, ...]) -> frozenset[str]:
    """Names an explicit dimension uses besides the reserved ones: its components and z_i."""
    if components == GRADIENT_PARAMETERS:
        return frozenset()
    samples = {f"z{theta.removeprefix('mu')}" for theta in components if theta.startswith("mu")}
    return frozenset(components) | samples


def _phi_names(
    value: object, case_parameters: tuple[str, ...], taken: frozenset[str] = frozenset()
) -> tuple[str, ...]:
    field = "parameterization.phi"
    if not isinstance(value, list) or not value:
        raise ParameterizationError(field, 'must be a non-empty list of names, e.g. ["w", "b"]')
    if len(value) > MAX_PHI:
        raise ParameterizationError(field, f"{len(value)} names; at most {MAX_PHI} are allowed")
    names: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ParameterizationError(field, f"{item!r} is not a string; list names as strings")
        problem = _name_problem(item, case_parameters, names)
        if problem is None and item in taken:
            problem = "is a coordinate's name in this dimension (z_i, mu_i and sigma_i are taken)"
        if problem:
            raise ParameterizationError(field, f"{item[:40]!r} {problem}")
        names.append(item)
    return tuple(names)


def _name_problem(name: str, case_parameters: tuple[str, ...], earlier: list[str]) -> str | None:
    """Why ``name`` cannot be a phi name, or None."""
    if name in RESERVED_NAMES:
        return f"is reserved ({', '.join(sorted(RESERVED_NAMES))} are taken)"
    if name in case_parameters:
        return "is a case parameter (data, held fixed); phi names must be new"
    if name in earlier:
        return "is listed twice"
    if name in ALLOWED_FUNCTIONS or name in CONSTANTS:
        return "is the name of an allowed function or constant"
    if keyword.iskeyword(name) or not _NAME.fullmatch(name):
        return "is not a valid name; use 1-32 ASCII letters, digits, '_', starting with a letter"
    return None


def _component(
    table: Mapping[str, object],
    theta: str,
    symbols: Mapping[str, sympy.Symbol],
    components: tuple[str, ...],
) -> tuple[str, sympy.Expr]:
    field = f"parameterization.{theta}"
    text = table.get(theta)
    if text is None:
        every = (
            "both mu and sigma"
            if components == GRADIENT_PARAMETERS
            else f"every one of {', '.join(components)}"
        )
        raise ParameterizationError(
            field,
            f"missing; the phi form needs {every} as expressions in the phi names "
            f'and data (use a constant, {theta} = "1", for one that is not trained)',
        )
    if not isinstance(text, str):
        raise ParameterizationError(field, "must be a string")
    try:
        return text, parse_expression(text, symbols, field=field)
    except ExpressionError as error:
        raise ParameterizationError(field, str(error)) from None


def _reference(value: object, names: tuple[str, ...]) -> dict[str, float]:
    field = "parameterization.reference"
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ParameterizationError(field, "must be a table of phi names to numbers")
    reference = dict.fromkeys(names, 0.0)
    for name, number in value.items():
        if name not in names:
            raise ParameterizationError(
                field, f"{str(name)[:40]!r} is not a phi name; phi is {', '.join(names)}"
            )
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise ParameterizationError(f"{field}.{name}", "must be a number")
        # TOML integers are unbounded: compare before float() can overflow.
        if (isinstance(number, int) and abs(number) > 10**300) or not math.isfinite(number):
            raise ParameterizationError(f"{field}.{name}", "must be a finite number")
        reference[name] = float(number)
    return reference
