"""The formulas of a :class:`~verify.derivation.Derivation` evaluated at one point, exactly.

The contract: every number is a :class:`Number`, an mpmath value computed at
:data:`WORKING_DIGITS` digits (reported to 30) together with the method that
produced it, ``"closed-form"`` or ``"quadrature"``.  Divergence is decided exactly:
the point's coordinates are turned into exact rationals (0.3 means 3/10) and each
divergence condition ``re(b) >= 1/2`` of the closed form is tested in rational
arithmetic.  A divergent expectation is ``+inf`` or ``-inf`` when the integrand has
one sign in the divergent tails, else ``nan`` (the expectation does not exist).

>>> from verify.derivation import derive
>>> from verify.symbols import Z
>>> point = exact_point({"mu": 0.0, "sigma": 1.0})
>>> evaluate_variance(derive(sympy.exp(Z**2 / 3)), "pathwise", "mu", point).value
mpf('+inf')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import sympy

from verify.compound import Compound, Quantity
from verify.derivation import Derivation
from verify.gaussian import Method
from verify.quadrature import quadrature_expectation
from verify.symbols import EPS, GRADIENT_PARAMETERS, MU, SIGMA, parameter_symbol

WORKING_DIGITS = 50
REPORTED_DIGITS = 30
PRECISION_LADDER = (50, 100, 200, 400)
AGREEMENT = mpmath.mpf(10) ** -(REPORTED_DIGITS + 5)

ExactPoint = dict[sympy.Symbol, sympy.Expr]


@dataclass(frozen=True)
class Number:
    """One reported value and how it was obtained."""

    value: mpmath.mpf
    method: Method

    def as_json(self) -> float | str:
        """A JSON number, or the strings "inf", "-inf", "nan" for non-finite values."""
        if mpmath.isnan(self.value):
            return "nan"
        if mpmath.isinf(self.value):
            return "inf" if self.value > 0 else "-inf"
        return float(self.value)

    def as_text(self) -> str:
        """The value to 30 significant digits (or inf / -inf / nan)."""
        json_value = self.as_json()
        if isinstance(json_value, str):
            return json_value
        return str(mpmath.nstr(self.value, REPORTED_DIGITS, strip_zeros=False))


def exact_point(values: Mapping[str, float | int | str]) -> ExactPoint:
    """Symbols to exact rationals; floats are read as the decimals they print as.

    >>> exact_point({"mu": 0.3})[MU]
    3/10
    """
    point: ExactPoint = {}
    for name, value in values.items():
        symbol = {"mu": MU, "sigma": SIGMA}.get(name) or parameter_symbol(name)
        point[symbol] = sympy.Rational(
            str(Fraction(repr(value) if isinstance(value, float) else value))
        )
    return point


def evaluate_expectation(expectation: Quantity, point: ExactPoint) -> Number:
    """E[integrand] at the point: closed form where there is one, else quadrature.

    A :class:`~verify.compound.Compound` is evaluated part by part, each by its own
    method, and then its formula at the working precision.
    """
    closed = expectation.value is not None
    if closed and not diverges(expectation.divergence, point):
        return Number(_evaluate_closed_form(expectation.value, point), "closed-form")
    if isinstance(expectation, Compound):
        return _evaluate_compound(expectation, point)
    if not closed:
        return Number(quadrature_expectation(expectation.integrand, point), "quadrature")
    return Number(divergent_value(expectation.integrand, point), "closed-form")


def _evaluate_compound(compound: Compound, point: ExactPoint) -> Number:
    numbers = [(symbol, evaluate_expectation(part, point)) for symbol, part in compound.parts]
    method = combined_method(*(number.method for _, number in numbers))
    values = {symbol: _to_sympy(number.value) for symbol, number in numbers}
    result = compound.formula.xreplace(values).xreplace(point)
    if result.has(sympy.nan) or result is sympy.zoo:
        return Number(mpmath.nan, method)
    if result.is_infinite:
        return Number(mpmath.inf if result.is_extended_positive else -mpmath.inf, method)
    with mpmath.workdps(WORKING_DIGITS):
        return Number(+mpmath.re(mpmath.mpmathify(result.evalf(WORKING_DIGITS))), method)


def _to_sympy(value: mpmath.mpf) -> sympy.Expr:
    if mpmath.isnan(value):
        return sympy.nan
    if mpmath.isinf(value):
        return sympy.oo if value > 0 else -sympy.oo
    return sympy.Float(value, WORKING_DIGITS)


def evaluate_formula(
    value: sympy.Expr, divergence: tuple[sympy.Expr, ...], point: ExactPoint
) -> mpmath.mpf:
    """A closed form that is valid where no divergence condition holds (nan where one does)."""
    if diverges(divergence, point):
        return mpmath.nan
    return _evaluate_closed_form(value, point)


def diverges(conditions: tuple[sympy.Expr, ...], point: ExactPoint) -> bool:
    """Whether some condition ``re(b) >= 1/2`` holds, decided in exact arithmetic."""
    half = sympy.Rational(1, 2)
    return any(sympy.re(b.subs(point)) >= half for b in conditions)


def divergent_value(integrand: sympy.Expr, point: ExactPoint) -> mpmath.mpf:
    """+inf / -inf when the integrand keeps one sign in the tails, else nan."""
    with mpmath.workdps(WORKING_DIGITS):
        function = sympy.lambdify(EPS, integrand.subs(point), modules="mpmath")
        signs = {int(mpmath.sign(mpmath.re(function(x)))) for x in (-60, 60)} - {0}
    if signs == {1}:
        return mpmath.inf
    if signs == {-1}:
        return -mpmath.inf
    return mpmath.nan


def evaluate_mean(
    derivation: Derivation, estimator: str, parameter: str, point: ExactPoint
) -> Number:
    """E[g] for the estimator's ``parameter`` component."""
    return evaluate_expectation(derivation.raw_moment(estimator, parameter, 1), point)


def evaluate_variance(
    derivation: Derivation, estimator: str, parameter: str, point: ExactPoint
) -> Number:
    """Var[g] = E[g**2] - E[g]**2 (infinite when E[g**2] is)."""
    first_moment = derivation.raw_moment(estimator, parameter, 1)
    second_moment = derivation.raw_moment(estimator, parameter, 2)
    conditions = (*first_moment.divergence, *second_moment.divergence)
    closed = first_moment.value is not None and second_moment.value is not None
    if closed and not diverges(conditions, point):
        # One expression, so that the ladder sees the cancellation of E[g^2] - E[g]^2.
        difference = second_moment.value - first_moment.value**2  # type: ignore[operator]
        variance = _evaluate_closed_form(difference, point)
        return Number(max(variance, mpmath.mpf(0)), "closed-form")
    first = evaluate_expectation(first_moment, point)
    second = evaluate_expectation(second_moment, point)
    method = combined_method(first.method, second.method)
    if mpmath.isinf(second.value) or mpmath.isnan(second.value):
        return Number(mpmath.inf if second.value > 0 else mpmath.nan, method)
    with mpmath.workdps(WORKING_DIGITS):
        variance = second.value - first.value**2
    # A variance is non-negative; a tiny negative value is cancellation at 50 digits.
    return Number(max(variance, mpmath.mpf(0)), method)


def evaluate_covariance(derivation: Derivation, estimator: str, point: ExactPoint) -> Number:
    """Cov[g_mu, g_sigma] = E[g_mu g_sigma] - E[g_mu] E[g_sigma], one expression when closed."""
    cross = derivation.cross_moment(estimator)
    means = [derivation.raw_moment(estimator, p, 1) for p in GRADIENT_PARAMETERS]
    conditions = tuple(b for q in (cross, *means) for b in q.divergence)
    values = [q.value for q in (cross, *means)]
    if all(v is not None for v in values) and not diverges(conditions, point):
        covariance = values[0] - values[1] * values[2]  # type: ignore[operator]
        return Number(_evaluate_closed_form(covariance, point), "closed-form")
    numbers = [evaluate_expectation(q, point) for q in (cross, *means)]
    with mpmath.workdps(WORKING_DIGITS):
        value = numbers[0].value - numbers[1].value * numbers[2].value
    return Number(value, combined_method(*(n.method for n in numbers)))


def evaluate_gradient(derivation: Derivation, parameter: str, point: ExactPoint) -> Number:
    """dJ/dtheta: the derivative of the closed form, or the score identity by quadrature."""
    formula = derivation.gradient[parameter]
    if formula.value is None:
        assert formula.via is not None
        return evaluate_expectation(formula.via, point)
    return Number(evaluate_formula(formula.value, formula.divergence, point), formula.method)


def central_moments(
    derivation: Derivation, estimator: str, parameter: str, point: ExactPoint
) -> tuple[Number, ...]:
    """(mean, variance, third, fourth central moment), as the Monte Carlo checks need."""
    raw = [
        evaluate_expectation(derivation.raw_moment(estimator, parameter, order), point)
        for order in (1, 2, 3, 4)
    ]
    method = combined_method(*(number.method for number in raw))
    with mpmath.workdps(WORKING_DIGITS):
        m1, m2, m3, m4 = (number.value for number in raw)
        variance = m2 - m1**2
        third = m3 - 3 * m1 * m2 + 2 * m1**3
        fourth = m4 - 4 * m1 * m3 + 6 * m1**2 * m2 - 3 * m1**4
    return tuple(Number(value, method) for value in (m1, variance, third, fourth))


def combined_method(*methods: Method) -> Method:
    """Quadrature if any input came from quadrature."""
    return "quadrature" if "quadrature" in methods else "closed-form"


_COMPILED: dict[sympy.Expr, tuple[tuple[sympy.Symbol, ...], Callable[..., mpmath.mpc]]] = {}


def _to_mpmath(value: sympy.Expr) -> mpmath.mpf:
    """An exact SymPy number at the working precision (rationals exactly, p/q)."""
    if isinstance(value, sympy.Rational):
        return mpmath.mpf(value.p) / value.q
    return mpmath.mpf(value.evalf(mpmath.mp.dps + 10))


def _evaluate_closed_form(value: sympy.Expr, point: ExactPoint) -> mpmath.mpf:
    """The closed form at the point, to :data:`REPORTED_DIGITS` digits despite cancellation.

    Closed forms can cancel catastrophically (``1 + erf(x)`` far in a tail, or
    ``E[g**2] - E[g]**2`` for a nearly constant g): the value is recomputed up
    :data:`PRECISION_LADDER` until two rungs agree to 35 digits.  A true zero never
    agrees relatively; it ends at the top rung, within about 1e-380 of 0.
    """
    if value not in _COMPILED:
        symbols = tuple(sorted(value.free_symbols, key=lambda s: s.name))
        _COMPILED[value] = (symbols, sympy.lambdify(symbols, value, modules="mpmath"))
    symbols, function = _COMPILED[value]
    previous: mpmath.mpf | None = None
    for digits in PRECISION_LADDER:
        with mpmath.workdps(digits):
            current = +mpmath.re(function(*(_to_mpmath(point[s]) for s in symbols)))
        if previous is not None and _agree(previous, current):
            break
        previous = current
    with mpmath.workdps(WORKING_DIGITS):
        return +current


def _agree(first: mpmath.mpf, second: mpmath.mpf) -> bool:
    if mpmath.isnan(first) or mpmath.isnan(second):
        return bool(mpmath.isnan(first) and mpmath.isnan(second))
    if first == second:
        return True
    return bool(abs(first - second) <= AGREEMENT * max(abs(first), abs(second)))
