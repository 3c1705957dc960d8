"""The formulas of a :class:`~verify.exact.derivation.Derivation` evaluated at one point, certified.

The contract: every number is a :class:`~verify.exact.numbers.Number`
(:mod:`verify.exact.numbers`): the value (an mpmath number at
:data:`~verify.exact.numbers.WORKING_DIGITS` digits, reported to 30), the method that
produced it, ``"closed-form"`` or ``"quadrature"``, and the ``arb`` ball that provably
contains the exact value (its ``radius`` is its rigorous error bound).  A closed form
is exact, and its evaluation is certified by ball arithmetic
(:mod:`verify.exact.certified`); an integral is certified quadrature
(:mod:`verify.exact.quadrature`).  Divergence is decided exactly: the point's coordinates
are turned into exact rationals (0.3 means 3/10) and each divergence condition
``re(b) >= 1/2`` of the closed form is tested in rational arithmetic.  A divergent
expectation is ``+inf`` or ``-inf`` when the integrand has one sign in the divergent
tails, else ``nan`` (the expectation does not exist); such values have radius 0
when decided exactly and no radius (``None``) when decided numerically.

>>> from verify.exact.derivation import derive
>>> from verify.cases.symbols import Z
>>> point = exact_point({"mu": 0.0, "sigma": 1.0})
>>> evaluate_variance(derive(sympy.exp(Z**2 / 3)), "pathwise", "mu", point).value
mpf('+inf')
>>> number = evaluate_variance(derive(sympy.cos(Z)), "pathwise", "mu", point)
>>> number.as_text()
'0.432332358381693654053000252514'
>>> number.radius < 1e-35
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Any

import mpmath
import sympy
from flint import arb

from verify.cases.coordinates import scale_symbol, split_component
from verify.cases.estimators import MEASURE_VALUED_ESTIMATORS
from verify.cases.symbols import EPS, GRADIENT_PARAMETERS, MU, SIGMA, parameter_symbol
from verify.exact.balls import working_precision
from verify.exact.certified import closed_form_ball
from verify.exact.compound import Compound, Quantity
from verify.exact.derivation import Derivation
from verify.exact.gaussian import Method
from verify.exact.numbers import RADIUS_PRECISION, WORKING_DIGITS, Number
from verify.exact.quadrature import certified_expectation

ExactPoint = dict[sympy.Symbol, sympy.Expr]


def exact_point(values: Mapping[str, float | int | str]) -> ExactPoint:
    """Symbols to exact rationals; floats are read as the decimals they print as.

    >>> exact_point({"mu": 0.3})[MU]
    3/10
    """
    point: ExactPoint = {}
    for name, value in values.items():
        point[point_symbol(name)] = sympy.Rational(
            str(Fraction(repr(value) if isinstance(value, float) else value))
        )
    return point


def point_symbol(name: str) -> sympy.Symbol:
    """The symbol of a point's coordinate by name: MU, SIGMA, a coordinate scale sigma2
    (positive, verify.cases.coordinates), or a real parameter (mu2 included: a coordinate
    mean is real, as a parameter is)."""
    if name in ("mu", "sigma"):
        return MU if name == "mu" else SIGMA
    try:
        kind, index = split_component(name)
    except ValueError:
        return parameter_symbol(name)
    return scale_symbol(index) if kind == "sigma" else parameter_symbol(name)


def evaluate_expectation(expectation: Quantity, point: ExactPoint) -> Number:
    """E[integrand] at the point: closed form where there is one, else certified quadrature.

    A :class:`~verify.exact.compound.Compound` is evaluated part by part, each by its own
    method, and then its formula in ball arithmetic.
    """
    closed = expectation.value is not None
    if closed and not diverges(expectation.divergence, point):
        return Number.of(closed_form_ball(expectation.value, point), "closed-form")
    if isinstance(expectation, Compound):
        return _evaluate_compound(expectation, point)
    if not closed:
        return Number.of(certified_expectation(expectation.integrand, point), "quadrature")
    return Number.exact(divergent_value(expectation.integrand, point), "closed-form")


def _evaluate_compound(compound: Compound, point: ExactPoint) -> Number:
    numbers = [(symbol, evaluate_expectation(part, point)) for symbol, part in compound.parts]
    method = combined_method(*(number.method for _, number in numbers))
    if all(n.ball is not None and mpmath.isfinite(n.value) for _, n in numbers):
        given = {symbol: n.ball for symbol, n in numbers if n.ball is not None}
        return Number.of(closed_form_ball(compound.formula, point, given), method)
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
    return Number.of(closed_form_ball(value, point), "closed-form").value


def diverges(conditions: tuple[sympy.Expr, ...], point: ExactPoint) -> bool:
    """Whether some condition ``re(b) >= 1/2`` holds, decided in exact arithmetic.

    Memoised on the conditions and the point: the planning of the Monte Carlo checks asks
    the same few dozen conditions thousands of times per case (every moment of a cost
    shares its exponents), and each answer is a SymPy substitution.
    """
    return _diverges(tuple(conditions), tuple(point.items()))


@lru_cache(maxsize=4096)
def _diverges(
    conditions: tuple[sympy.Expr, ...], point: tuple[tuple[sympy.Symbol, sympy.Expr], ...]
) -> bool:
    half = sympy.Rational(1, 2)
    values = dict(point)
    return any(sympy.re(b.subs(values)) >= half for b in conditions)


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
        return non_negative(Number.of(closed_form_ball(difference, point), "closed-form"))
    first = evaluate_expectation(first_moment, point)
    second = evaluate_expectation(second_moment, point)
    method = combined_method(first.method, second.method)
    if mpmath.isinf(second.value) or mpmath.isnan(second.value):
        value = mpmath.inf if second.value > 0 else mpmath.nan
        return Number(value, method, second.ball and arb(0))
    return non_negative(difference_of(second, first, method, lambda a, b: a - b**2))


def non_negative(number: Number) -> Number:
    """A variance: a negative midpoint whose ball reaches 0 is cancellation, reported as 0."""
    if number.value >= 0 or number.ball is None:
        return number
    upper = number.ball.mid() + number.ball.rad()
    if upper < 0:
        return number  # provably negative: only a wrong formula gives this; keep it visible
    return Number(mpmath.mpf(0), number.method, arb(0, upper.mid() + upper.rad()))


def difference_of(
    first: Number, second: Number, method: Method, combine: Callable[[Any, Any], Any]
) -> Number:
    """``combine(first, second)`` in balls when both are certified, else in mpmath."""
    if first.ball is not None and second.ball is not None:
        with working_precision(RADIUS_PRECISION):
            return Number.of(combine(first.ball, second.ball), method)
    with mpmath.workdps(WORKING_DIGITS):
        return Number(combine(first.value, second.value), method)


def evaluate_covariance(derivation: Derivation, estimator: str, point: ExactPoint) -> Number:
    """Cov[g_mu, g_sigma] = E[g_mu g_sigma] - E[g_mu] E[g_sigma], one expression when closed."""
    if estimator in MEASURE_VALUED_ESTIMATORS and derivation.measure_valued_components_independent:
        # The two components are sampled independently (see verify.exact.measure_valued): the
        # covariance is exactly 0 wherever both means exist.
        numbers = [evaluate_mean(derivation, estimator, p, point) for p in GRADIENT_PARAMETERS]
        method = combined_method(*(n.method for n in numbers))
        finite = all(mpmath.isfinite(n.value) for n in numbers)
        return Number.exact(mpmath.mpf(0) if finite else mpmath.nan, method)
    means = [derivation.raw_moment(estimator, p, 1) for p in GRADIENT_PARAMETERS]
    return covariance_of(derivation.cross_moment(estimator), means[0], means[1], point)


def covariance_of(cross: Quantity, first: Quantity, second: Quantity, point: ExactPoint) -> Number:
    """E[g_a g_b] - E[g_a] E[g_b] from the three expectations, one expression when closed."""
    conditions = tuple(b for q in (cross, first, second) for b in q.divergence)
    values = [q.value for q in (cross, first, second)]
    if all(v is not None for v in values) and not diverges(conditions, point):
        covariance = values[0] - values[1] * values[2]  # type: ignore[operator]
        return Number.of(closed_form_ball(covariance, point), "closed-form")
    numbers = [evaluate_expectation(q, point) for q in (cross, first, second)]
    method = combined_method(*(n.method for n in numbers))
    product = difference_of(numbers[1], numbers[2], method, lambda a, b: a * b)
    return difference_of(numbers[0], product, method, lambda a, b: a - b)


def evaluate_gradient(derivation: Derivation, parameter: str, point: ExactPoint) -> Number:
    """dJ/dtheta: the derivative of the closed form, or the score identity by quadrature."""
    formula = derivation.gradient[parameter]
    if formula.value is None:
        assert formula.via is not None
        return evaluate_expectation(formula.via, point)
    if diverges(formula.divergence, point):
        return Number.exact(mpmath.nan, formula.method)
    return Number.of(closed_form_ball(formula.value, point), formula.method)


def raw_moments(
    derivation: Derivation, estimator: str, parameter: str, point: ExactPoint, orders: range
) -> list[Number]:
    """E[g**k] for k in ``orders``, each evaluated by :func:`evaluate_expectation`."""
    return [
        evaluate_expectation(derivation.raw_moment(estimator, parameter, order), point)
        for order in orders
    ]


def central_moments(raw: Sequence[Number]) -> tuple[Number, ...]:
    """(mean, variance, third, fourth central moment) from E[g**k], k = 1..4 (as the
    Monte Carlo checks need them)."""
    method = combined_method(*(number.method for number in raw))
    with mpmath.workdps(WORKING_DIGITS):
        m1 = raw[0].value
        central = central_of(*(number.value for number in raw))
    return tuple(Number(value, method) for value in (m1, *central))


def central_of(m1: Any, m2: Any, m3: Any, m4: Any) -> tuple[Any, Any, Any]:
    """(variance, third, fourth central moment) from the raw moments, in any arithmetic
    (mpmath numbers, or ``arb`` balls to bound the error of the same formula)."""
    variance = m2 - m1**2
    third = m3 - 3 * m1 * m2 + 2 * m1**3
    fourth = m4 - 4 * m1 * m3 + 6 * m1**2 * m2 - 3 * m1**4
    return variance, third, fourth


def combined_method(*methods: Method) -> Method:
    """Quadrature if any input came from quadrature."""
    return "quadrature" if "quadrature" in methods else "closed-form"
