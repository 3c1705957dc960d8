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
  coupled, ``R2 = R1`` and ``E = M U`` with U uniform on (0, 1).  The coupled pair is
  drawn from two variables, not three: ``E = e`` standard normal and
  ``M = sign(e) sqrt(e**2 + R**2)`` with R Rayleigh, independent of e.  Same law: the
  density of (M, M U) is ``m**2 phi(m) / |m| = |m| phi(m)`` where ``|e| < |m|`` with the
  sign of e, and so is ``phi(e) |m| exp(-(m**2 - e**2)/2)``, the density of e times that
  of ``sqrt(e**2 + R**2)`` given e.

Every component is one compiled kernel (:mod:`verify.montecarlo.kernels`): both
components of a product or baseline estimator share one evaluation of ``f(eps)`` per
draw, and a measure-valued kernel evaluates ``r(mu + sigma x)`` simplified at the point.

Both components of the product and baseline estimators are functions of the same eps
(:class:`~verify.montecarlo.engine.Pair` with ``shared``); the measure-valued components draw
independent noise, so their covariance is 0 by construction.  Overflow and invalid
operations give inf or nan samples, which the engine counts; they never raise.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import sympy

from verify.cases.estimators import BASELINE_ESTIMATORS, ESTIMATORS, MEASURE_VALUED_ESTIMATORS
from verify.cases.symbols import EPS, GRADIENT_PARAMETERS, SIGMA
from verify.exact.baselines import baseline_value, score_weight
from verify.exact.derivation import Derivation
from verify.exact.evaluation import ExactPoint, evaluate_expectation
from verify.montecarlo.chunk_memo import ChunkMemo
from verify.montecarlo.engine import Component, Pair, SampleFunction
from verify.montecarlo.kernels import FusedFunction, fused_function, numpy_function
from verify.montecarlo.noise import FloatArray

# Bound at call time to the exact baselines rounded to float64 (0 for product estimators).
OFFSETS = {"mu": sympy.Dummy("b_mu"), "sigma": sympy.Dummy("b_sigma")}
# f(eps) in a product or baseline kernel, its values computed once per chunk and point.
_SAMPLE = sympy.Dummy("f")
# The noise variables of the measure-valued kernels.
_FIRST, _SECOND = sympy.Dummy("x1"), sympy.Dummy("x2")


def estimator_function(
    derivation: Derivation, estimator: str, parameter: str, point: ExactPoint
) -> SampleFunction:
    """``g(eps) = (f(eps) - b) w(eps)`` of a product or baseline estimator, in float64."""
    expression, offsets = _centred(derivation, estimator, parameter, point)
    fused = fused_function((expression,), (EPS,), offsets)

    def centred(eps: FloatArray) -> FloatArray:
        return fused(eps)[0]

    return centred


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

    For a product or baseline estimator, ``joint`` computes ``f(eps)`` (r or r') once per
    draw for both components, and once per chunk for every estimator at the point with
    the same ``f`` (:func:`shared_sample`: the score function and its baselines).
    """
    if estimator in MEASURE_VALUED_ESTIMATORS:
        mu, sigma = (component(derivation, estimator, p, point) for p in GRADIENT_PARAMETERS)
        return Pair(mu, sigma, shared=False)
    sample = shared_sample(derivation, sample_uses(estimator), tuple(point.items()))
    expressions, offsets = zip(
        *(_centred(derivation, estimator, p, point, _SAMPLE) for p in GRADIENT_PARAMETERS),
        strict=True,
    )
    constants = {k: v for o in offsets for k, v in o.items()}
    fused = fused_function(expressions, (EPS, _SAMPLE), constants)

    def both(eps: FloatArray) -> tuple[FloatArray, FloatArray]:
        mu, sigma = fused(eps, sample(eps))
        return mu, sigma

    return Pair.joint_of(("normal",), both)


@lru_cache(maxsize=64)
def shared_sample(
    derivation: Derivation, uses: str, point: tuple[tuple[sympy.Symbol, sympy.Expr], ...]
) -> SampleFunction:
    """``f(eps)`` at the point (``uses``: r or r'), kept for the last chunk it saw: the
    estimators of one point read the same eps array in turn
    (:func:`verify.montecarlo.engine.sample_pairs`; :mod:`verify.montecarlo.chunk_memo`)."""
    f = numpy_function(derivation.sample_function(uses).subs(dict(point)), EPS)
    kept: ChunkMemo[FloatArray] = ChunkMemo(slots=1)

    def sample(eps: FloatArray) -> FloatArray:
        known = kept.get([eps])
        if known is not None:
            return known
        return kept.put([eps], np.asarray(f(eps), dtype=np.float64))

    return sample


def _centred(
    derivation: Derivation,
    estimator: str,
    parameter: str,
    point: ExactPoint,
    sample: sympy.Expr | None = None,
) -> tuple[sympy.Expr, dict[sympy.Symbol, float]]:
    """``(f - b) w`` in eps at the point, with ``b`` a symbol bound to its float64 value
    (and ``f`` the symbol ``sample`` when given, its values computed elsewhere)."""
    if sample is None:
        sample = derivation.sample_function(sample_uses(estimator)).subs(point)
    weight = sympy.sympify(sample_weight(estimator, parameter)).subs(point)
    if estimator not in BASELINE_ESTIMATORS:
        return sample * weight, {}
    offset = OFFSETS[parameter]
    value = exact_baseline(derivation, estimator, parameter, point)
    return (sample - offset) * weight, {offset: value}


def sample_weight(estimator: str, parameter: str) -> sympy.Expr:
    """``w`` of ``g = (f - b) w``: the score for a baseline estimator, else the estimator's."""
    if estimator in BASELINE_ESTIMATORS:
        return score_weight(parameter)
    return ESTIMATORS[estimator].weights[parameter]


def sample_uses(estimator: str) -> str:
    """What ``f`` of ``g = (f - b) w`` is: ``"r"`` (score and baselines) or ``"dr"``."""
    return "r" if estimator in BASELINE_ESTIMATORS else ESTIMATORS[estimator].uses


def weight_and_offset(
    derivation: Derivation, estimator: str, parameter: str, point: ExactPoint
) -> tuple[SampleFunction, float]:
    """``w`` and the exact baseline ``b`` of ``g = (f - b) w`` (``b = 0`` without one)."""
    offset = 0.0
    if estimator in BASELINE_ESTIMATORS:
        offset = exact_baseline(derivation, estimator, parameter, point)
    return numpy_function(
        sympy.sympify(sample_weight(estimator, parameter)).subs(point), EPS
    ), offset


def measure_valued_component(
    derivation: Derivation, estimator: str, parameter: str, point: ExactPoint
) -> Component:
    """One measure-valued component: one compiled kernel of its noise (module docstring)."""
    at = derivation.sample_function("r").subs(point)  # r(mu + sigma x) as a function of x

    def cost(x: sympy.Expr) -> sympy.Expr:
        return at.subs(EPS, x)

    coupled = estimator == "measure_valued_coupled"
    sigma = point[SIGMA]
    if parameter == "mu":
        # c as one float64 factor: SymPy would print (1/2)*sqrt(2)*(...)/sqrt(pi), two passes.
        scale = float(1 / (sigma * sympy.sqrt(2 * sympy.pi)))
        difference = _kernel(cost(_FIRST) - cost(-(_FIRST if coupled else _SECOND)), coupled)

        def mu_component(*rayleigh: FloatArray) -> FloatArray:
            return scale * difference(*rayleigh)

        return Component(("rayleigh",) if coupled else ("rayleigh", "rayleigh"), mu_component)
    kernel = _kernel((cost(_FIRST) - cost(_SECOND)) / sigma, False)
    if not coupled:
        return Component(("maxwell", "normal"), kernel)

    def coupled_sigma(normal: FloatArray, rayleigh: FloatArray) -> FloatArray:
        return kernel(coupled_maxwell(normal, rayleigh), normal)

    return Component(("normal", "rayleigh"), coupled_sigma)


def coupled_maxwell(normal: FloatArray, rayleigh: FloatArray) -> FloatArray:
    """M with ``(M, e)`` distributed as ``(M, M U)``: ``sign(e) sqrt(e**2 + R**2)``.

    See the module docstring for why; ``tests/test_noise.py`` checks the joint law.
    The noise arrays are read, not written; one new array holds M.
    """
    magnitude = np.square(rayleigh)
    magnitude += np.square(normal)
    np.sqrt(magnitude, out=magnitude)
    return np.copysign(magnitude, normal, out=magnitude)


def _kernel(expression: sympy.Expr, single: bool) -> Callable[..., FloatArray]:
    """The compiled kernel of one noise variable (``single``) or of two."""
    fused: FusedFunction = fused_function((expression,), (_FIRST,) if single else (_FIRST, _SECOND))

    def kernel(*noise: FloatArray) -> FloatArray:
        return fused(*noise)[0]

    return kernel
