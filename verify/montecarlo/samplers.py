"""Every estimator at one exact point as float64 numpy samplers of its noise.

The contract (the estimators are defined in :mod:`verify.cases.estimators`):

- **product** (score, pathwise): ``g = f(eps) * w(eps)``, one standard normal eps;
- **baseline**: ``g = (r(eps) - b) * w(eps)`` with ``b`` the exact baseline at the point
  (:func:`verify.exact.baselines.baseline_value`, evaluated at 50 digits and rounded to
  float64 once: an exact number, not a Monte Carlo estimate);
- **measure_valued**, as :mod:`verify.exact.measure_valued` defines it:
  ``g_mu = c (r(mu + sigma R1) - r(mu - sigma R2))`` with ``c = 1/(sigma sqrt(2 pi))``
  and R1, R2 Rayleigh, and ``g_sigma = (r(mu + sigma M) - r(mu + sigma E)) / sigma``
  with M double-sided Maxwell; uncoupled, R1, R2, M and E ~ N(0, 1) are independent;
  coupled, ``R2 = R1`` and ``E = M U`` with U uniform on (0, 1).

Both components of the product and baseline estimators are functions of the same eps
(:class:`~verify.montecarlo.engine.Pair` with ``shared``); the measure-valued components draw
independent noise, so their covariance is 0 by construction.  Overflow and invalid
operations give inf or nan samples, which the engine counts; they never raise.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import sympy
from sympy.printing.numpy import NumPyPrinter

from verify.cases.estimators import BASELINE_ESTIMATORS, ESTIMATORS, MEASURE_VALUED_ESTIMATORS
from verify.cases.symbols import EPS, GRADIENT_PARAMETERS, MU, SIGMA, Z
from verify.exact.baselines import baseline_value, score_weight
from verify.exact.derivation import Derivation
from verify.exact.evaluation import ExactPoint, evaluate_expectation
from verify.montecarlo.engine import Component, Pair, SampleFunction
from verify.montecarlo.noise import FloatArray


def _vectorised(function: Callable[[float], float]) -> Callable[[FloatArray], FloatArray]:
    """A scalar function applied elementwise (numpy has no erf; math.erf is exact to 1 ulp)."""
    universal = np.frompyfunc(function, 1, 1)

    def apply(values: FloatArray) -> FloatArray:
        return np.asarray(universal(values), dtype=np.float64)

    return apply


_NUMPY_EXTRAS = {"erf": _vectorised(math.erf), "erfc": _vectorised(math.erfc)}


class _MultiplyingPrinter(NumPyPrinter):  # type: ignore[misc]
    """NumPy code with small integer powers written as products.

    ``x**4`` goes through libm's ``pow`` element by element, about 45 times slower
    than ``x*x*x*x`` on float64 arrays (measured: 2.0 ms against 0.04 ms for 32,768
    values); the samplers evaluate such powers on every chunk of every stream.
    """

    def _print_Pow(self, expr: sympy.Expr, rational: bool = False) -> str:
        exponent = expr.exp
        if exponent.is_Integer and 2 <= abs(int(exponent)) <= MAX_MULTIPLIED_POWER:
            base = self.parenthesize(expr.base, sympy.printing.precedence.PRECEDENCE["Mul"])
            product = "*".join([base] * abs(int(exponent)))
            return f"({product})" if exponent > 0 else f"(1/({product}))"
        return str(super()._print_Pow(expr, rational=rational))


MAX_MULTIPLIED_POWER = 16


def numpy_function(expression: sympy.Expr, symbol: sympy.Symbol) -> SampleFunction:
    """``expression`` (in ``symbol`` only) as an elementwise float64 numpy function."""
    # The settings lambdify gives its own printer when none is passed.
    printer = _MultiplyingPrinter(
        {
            "fully_qualified_modules": False,
            "inline": True,
            "allow_unknown_functions": True,
            "user_functions": {name: name for name in _NUMPY_EXTRAS},
        }
    )
    compiled = sympy.lambdify(symbol, expression, modules=[_NUMPY_EXTRAS, "numpy"], printer=printer)

    def evaluate(values: FloatArray) -> FloatArray:
        with np.errstate(all="ignore"):
            result = np.asarray(compiled(values), dtype=np.float64)
        if result.shape != values.shape:  # a constant lambdifies to a scalar
            result = np.full(values.shape, result, dtype=np.float64)
        return result

    return evaluate


def estimator_function(
    derivation: Derivation, estimator: str, parameter: str, point: ExactPoint
) -> SampleFunction:
    """``g(eps) = (f(eps) - b) w(eps)`` of a product or baseline estimator, in float64."""
    return _centred(*_factors(derivation, estimator, parameter, point))


def exact_baseline(
    derivation: Derivation, estimator: str, parameter: str, point: ExactPoint
) -> float:
    """The baseline b at the point: exact (50 digits), then rounded to float64."""
    value = evaluate_expectation(baseline_value(estimator, derivation, parameter), point).value
    return float(value)


def component(
    derivation: Derivation, estimator: str, parameter: str, point: ExactPoint
) -> Component:
    """One component of any estimator as a sampler of its noise."""
    if estimator in MEASURE_VALUED_ESTIMATORS:
        return measure_valued_component(derivation, estimator, parameter, point)
    return Component(("normal",), estimator_function(derivation, estimator, parameter, point))


def estimator_pair(derivation: Derivation, estimator: str, point: ExactPoint) -> Pair:
    """Both components, for the joint stream of the mean, variance and covariance checks.

    For a product or baseline estimator, ``joint`` computes ``f(eps)`` once for both.
    """
    if estimator in MEASURE_VALUED_ESTIMATORS:
        mu, sigma = (component(derivation, estimator, p, point) for p in GRADIENT_PARAMETERS)
        return Pair(mu, sigma, shared=False)
    (sample, mu_weight, mu_offset), (_, sigma_weight, sigma_offset) = (
        _factors(derivation, estimator, p, point) for p in GRADIENT_PARAMETERS
    )

    def both(eps: FloatArray) -> tuple[FloatArray, FloatArray]:
        f = sample(eps)
        with np.errstate(all="ignore"):
            return (f - mu_offset) * mu_weight(eps), (f - sigma_offset) * sigma_weight(eps)

    return Pair(
        Component(("normal",), _centred(sample, mu_weight, mu_offset)),
        Component(("normal",), _centred(sample, sigma_weight, sigma_offset)),
        shared=True,
        joint=both,
    )


Factors = tuple[SampleFunction, SampleFunction, float]  # f, w and the baseline b


def _factors(derivation: Derivation, estimator: str, parameter: str, point: ExactPoint) -> Factors:
    """``f``, ``w`` and ``b`` of ``g = (f - b) w`` (``b = 0`` for a product estimator)."""
    sample = numpy_function(derivation.sample_function(sample_uses(estimator)).subs(point), EPS)
    return sample, *weight_and_offset(derivation, estimator, parameter, point)


def sample_uses(estimator: str) -> str:
    """What ``f`` of ``g = (f - b) w`` is: ``"r"`` (score and baselines) or ``"dr"``."""
    return "r" if estimator in BASELINE_ESTIMATORS else ESTIMATORS[estimator].uses


def weight_and_offset(
    derivation: Derivation, estimator: str, parameter: str, point: ExactPoint
) -> tuple[SampleFunction, float]:
    """``w`` and the exact baseline ``b`` of ``g = (f - b) w`` (``b = 0`` without one)."""
    if estimator in BASELINE_ESTIMATORS:
        weight = score_weight(parameter)
        offset = exact_baseline(derivation, estimator, parameter, point)
    else:
        weight, offset = ESTIMATORS[estimator].weights[parameter], 0.0
    return numpy_function(weight.subs(point), EPS), offset


def _centred(sample: SampleFunction, weight: SampleFunction, offset: float) -> SampleFunction:
    """``(f(eps) - b) w(eps)``."""

    def centred(eps: FloatArray) -> FloatArray:
        with np.errstate(all="ignore"):
            return (sample(eps) - offset) * weight(eps)

    return centred


def measure_valued_component(
    derivation: Derivation, estimator: str, parameter: str, point: ExactPoint
) -> Component:
    cost = numpy_function(derivation.r.subs(point), Z)
    mu, sigma = float(point[MU]), float(point[SIGMA])
    coupled = estimator == "measure_valued_coupled"
    if parameter == "mu":
        scale = 1 / (sigma * math.sqrt(2 * math.pi))

        def mu_component(plus: FloatArray, minus: FloatArray | None = None) -> FloatArray:
            other = plus if minus is None else minus
            with np.errstate(all="ignore"):
                return scale * (cost(mu + sigma * plus) - cost(mu - sigma * other))

        return Component(("rayleigh",) if coupled else ("rayleigh", "rayleigh"), mu_component)

    def sigma_component(maxwell: FloatArray, other: FloatArray) -> FloatArray:
        normal = maxwell * other if coupled else other  # E = M U is standard normal
        with np.errstate(all="ignore"):
            return (cost(mu + sigma * maxwell) - cost(mu + sigma * normal)) / sigma

    return Component(("maxwell", "uniform") if coupled else ("maxwell", "normal"), sigma_component)
