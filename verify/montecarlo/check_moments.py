"""The exact moments behind one Monte Carlo check: :class:`ExactMoments`.

The contract: :func:`exact_moments` returns the mean, variance and third and fourth
central moments of one estimator component at one exact point, from the same engine
as every reported number (:func:`verify.exact.evaluation.central_moments`: closed form at
50 digits, or labelled quadrature), plus the standardised sixth central moment,
which only sizes the skewness correction of the variance check (see
:mod:`verify.montecarlo.significance`) and is therefore taken in float64 from the product
quadrature rule of the component's noise (:func:`verify.montecarlo.noise.tensor_rule`:
:data:`~verify.montecarlo.noise.HERMITE_NODES`-node Gauss-Hermite for one normal eps, and the
Rayleigh and Maxwell rules for the measure-valued samplers) -- a guard
needs a digit or two, not thirty.  Whether that sixth moment is infinite is decided
exactly where the closed form exists: the Gaussian exponents of ``E[g^6]`` are three
times those of ``E[g^2]`` (for every estimator here: ``g^6`` is a sum of products of
sixth powers of ``r`` at Gaussian or Gaussian-tailed arguments, ``g^2`` of squares),
so it diverges where some ``3*b`` reaches 1/2; under quadrature, from the growth of
``g^6`` times the noise density far out in each noise variable's tails.

The mean and variance are the reported numbers.  The raw moments beyond them only size
the check, so their quadrature aims at :data:`SIZING_TARGET` (:func:`for_sizing`, also used
by :mod:`.covariance_moments` and :mod:`.loo_check`): still certified balls, used where their
radii pin what they size (:func:`central_pinned`, :func:`sixth_pinned`), else computed
again at the reported values' target.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import mpmath
import numpy as np
from flint import arb

from verify.cases.estimators import MEASURE_VALUED_ESTIMATORS
from verify.exact.balls import working_precision
from verify.exact.compound import Compound, Quantity
from verify.exact.derivation import Derivation
from verify.exact.dimension import DimensionDerivation
from verify.exact.evaluation import (
    ExactPoint,
    central_moments,
    central_of,
    diverges,
    raw_moments,
)
from verify.exact.gaussian import Method
from verify.exact.numbers import RADIUS_PRECISION, WORKING_DIGITS, Number
from verify.exact.quadrature import quadrature_target
from verify.montecarlo.control_variates import HermiteMoments
from verify.montecarlo.engine import Component, SampleFunction
from verify.montecarlo.noise import FloatArray, Noise, rule, tensor_rule

# A variance this small relative to E[g^2] is 50-digit cancellation of an exact zero.
_ZERO_VARIANCE = mpmath.mpf(10) ** -30
# Where the tails of g^6 times the noise density are probed, and the other noise values.
# (inner, outer) pairs: the tail grows when the outer value outweighs the inner one.
_TAILS: dict[str, tuple[tuple[float, float], ...]] = {
    "normal": ((-30.0, -60.0), (30.0, 60.0)),
    "maxwell": ((-30.0, -60.0), (30.0, 60.0)),
    "rayleigh": ((30.0, 60.0),),
    "uniform": (),
}
MAX_RULE_NODES = 10**6  # a product rule beyond this is too large to build per check
_TYPICAL = {"normal": 0.5, "maxwell": 1.5, "rayleigh": 1.0, "uniform": 0.5}
# The quadrature target of the moments that only size and guard a check (never reported):
# radius 2^-40 relative or 2^-60 absolute, at 64 bits first (verify.exact.quadrature).
SIZING_TARGET = (40, 60, (64, 128))
# A sizing moment is used when its error is below 2^-bits of its scale (the
# standardised moment's error, at most ~1e-10, is far below anything a check resolves),
# else it is computed again at the reported values' target.
SIZING_GUARD_BITS = 32
_T = TypeVar("_T")


@dataclass(frozen=True)
class ExactMoments:
    """The exact central moments of one estimator component at one point.

    ``sixth`` is the standardised sixth central moment ``mu6/sigma^6`` from float64
    quadrature, only used to size the variance check's skewness correction; ``inf``
    where the exact rules say it diverges.
    """

    mean: mpmath.mpf
    variance: mpmath.mpf
    third: mpmath.mpf
    fourth: mpmath.mpf
    sixth: float
    method: Method
    hermite: HermiteMoments | None = None  # control variates, where used (:mod:`.control_variates`)

    @functools.cached_property
    def is_degenerate(self) -> bool:
        """Whether g is constant (zero variance, up to 50-digit cancellation); asked at every
        step of the sizing, so kept (the fields are frozen)."""
        second = self.variance + self.mean**2
        return bool(abs(self.variance) <= _ZERO_VARIANCE * abs(second))


def as_component(sampler: Component | SampleFunction) -> Component:
    """A bare function is a component of one standard normal eps."""
    return sampler if isinstance(sampler, Component) else Component(("normal",), sampler)


def exact_moments(
    derivation: Derivation,
    estimator: str,
    parameter: str,
    point: ExactPoint,
    sampler: Component | SampleFunction,
) -> ExactMoments:
    """Exact mean, variance, third and fourth central moments, and the sixth for sizing.

    The mean and variance are checked, and reported with the check: they are computed
    at the reported values' target.  The third and fourth moments only size the check
    and its thresholds: at :data:`SIZING_TARGET`, where that pins them (:func:`for_sizing`).
    """
    first = raw_moments(derivation, estimator, parameter, point, range(1, 3))

    def higher() -> list[Number]:
        return raw_moments(derivation, estimator, parameter, point, range(3, 5))

    raw = [*first, *for_sizing(higher, lambda found: central_pinned([*first, *found]))]
    mean, variance, third, fourth = central_moments(raw)
    second = derivation.raw_moment(estimator, parameter, 2)
    component = as_component(sampler)
    if _lifted(derivation, estimator, component) and not sixth_diverges(second, point, component):
        sixth = exact_sixth(derivation, estimator, parameter, point, mean, variance)
    else:
        sixth = standardised_sixth(second, point, component, mean, variance)
    return ExactMoments(
        mean.value, variance.value, third.value, fourth.value, sixth, variance.method
    )


def for_sizing(evaluate: Callable[[], _T], pinned: Callable[[_T], bool]) -> _T:
    """``evaluate()`` at :data:`SIZING_TARGET`, or again at the reported values' target
    where ``pinned`` says the looser balls leave what they size too uncertain.

    Every ball is still certified; only the midpoints move, by less than the radius."""
    with quadrature_target(*SIZING_TARGET):
        found = evaluate()
    return found if pinned(found) else evaluate()


def central_pinned(raw: Sequence[Number]) -> bool:
    """Whether the balls of E[g**k], k = 1..4, pin the third central moment to
    :data:`SIZING_GUARD_BITS` of ``sigma**3`` and the fourth to that of ``mu4 - sigma**4`` (which
    is 0 only for a two-point distribution): the skewness and the kurtosis' distance from
    1, which decide the check's tests and thresholds.  Closed forms always pin them."""
    if all(number.method == "closed-form" for number in raw):
        return True
    if not all(number.ball is not None and mpmath.isfinite(number.value) for number in raw):
        return False
    with working_precision(RADIUS_PRECISION):
        variance, third, fourth = central_of(*(number.ball for number in raw))
        excess = fourth - variance**2
        guard = arb(2) ** -SIZING_GUARD_BITS
        if not (variance > 0 and excess > 0):
            return False
        return bool(
            third.rad() <= guard * variance.mid() ** 1.5 and fourth.rad() <= guard * excess.mid()
        )


def _lifted(derivation: Derivation, estimator: str, component: Component) -> bool:
    """A product or baseline estimator over d coordinates: its raw moments of any order
    are closed forms in d (:mod:`verify.exact.dimension`), and no product rule fits."""
    return (
        isinstance(derivation, DimensionDerivation)
        and estimator not in MEASURE_VALUED_ESTIMATORS
        and rule_too_large(component.noise)
    )


def rule_too_large(noise: tuple[Noise, ...]) -> bool:
    """Whether the product rule of ``noise`` exceeds :data:`MAX_RULE_NODES` nodes."""
    return math.prod(rule(kind)[0].size for kind in noise) > MAX_RULE_NODES


def exact_sixth(
    derivation: Derivation,
    estimator: str,
    parameter: str,
    point: ExactPoint,
    mean: Number,
    variance: Number,
) -> float:
    """``mu6 / sigma^6`` from the exact raw moments E[g^k], k <= 6, at 50 digits: for a
    component over many noise variables (d coordinates), where no product rule fits.
    E[g^k] for k >= 3 only size: at :data:`SIZING_TARGET` where that pins ``mu6``."""
    if not (mpmath.isfinite(variance.value) and variance.value > 0):
        return math.inf
    first = raw_moments(derivation, estimator, parameter, point, range(1, 3))
    higher = for_sizing(
        lambda: raw_moments(derivation, estimator, parameter, point, range(3, 7)),
        lambda found: sixth_pinned([*first, *found], mean.value),
    )
    with mpmath.workdps(WORKING_DIGITS):
        sixth = _sixth_about([mpmath.mpf(1), *(n.value for n in (*first, *higher))], mean.value)
        value = float(sixth / variance.value**3)
    return value if math.isfinite(value) and value > 0 else math.inf


def _sixth_about(moments: Sequence[mpmath.mpf], centre: mpmath.mpf) -> mpmath.mpf:
    """``sum_k C(6, k) (-centre)**(6-k) moments[k]`` for k = 0..6."""
    with mpmath.workdps(WORKING_DIGITS):
        return mpmath.fsum(math.comb(6, k) * (-centre) ** (6 - k) * moments[k] for k in range(7))


def sixth_pinned(raw: Sequence[Number], centre: mpmath.mpf) -> bool:
    """Whether the radii of E[g**k], k = 1..6, pin ``mu6`` to 2^-:data:`SIZING_GUARD_BITS` of
    itself (the error is at most :func:`_sixth_about` of the radii at ``-|centre|``)."""
    if all(number.method == "closed-form" for number in raw):
        return True
    if not all(number.radius is not None and mpmath.isfinite(number.value) for number in raw):
        return False
    with mpmath.workdps(WORKING_DIGITS):
        sixth = _sixth_about([mpmath.mpf(1), *(number.value for number in raw)], centre)
        radii = [mpmath.mpf(number.radius) for number in raw]
        error = _sixth_about([mpmath.mpf(0), *radii], -abs(centre))
        return bool(sixth > 0 and error <= mpmath.ldexp(sixth, -SIZING_GUARD_BITS))


def has_closed_form(quantity: Quantity) -> bool:
    """Whether every part has a closed form (without substituting a compound's parts)."""
    if isinstance(quantity, Compound):
        return all(part.value is not None for _, part in quantity.parts)
    return quantity.value is not None


def sixth_diverges(second: Quantity, point: ExactPoint, component: Component) -> bool:
    """Whether E[g^6] is infinite (see the module docstring)."""
    if has_closed_form(second):
        return diverges(tuple(3 * b for b in second.divergence), point)
    return tail_grows(component)


def standardised_sixth(
    second: Quantity, point: ExactPoint, component: Component, mean: Number, variance: Number
) -> float:
    """``mu6 / sigma^6`` by the noise's quadrature rule; inf where it diverges."""
    if not (mpmath.isfinite(variance.value) and variance.value > 0):
        return math.inf
    if sixth_diverges(second, point, component):
        return math.inf
    centre, scale = float(mean.value), math.sqrt(variance.value)
    value = rule_expectation(
        component.noise, lambda *noise: ((component.function(*noise) - centre) / scale) ** 6
    )
    return value if math.isfinite(value) else math.inf


def rule_expectation(noise: tuple[Noise, ...], integrand: Callable[..., FloatArray]) -> float:
    """``E[integrand(noise)]`` by the product quadrature rule, in float64.

    ``inf`` (unknown) when the rule would exceed :data:`MAX_RULE_NODES` nodes (several
    coordinates of noise): the sizing then assumes the worst, which sends the check to
    the median-of-means test (:mod:`verify.montecarlo.robust`) instead of the z-test.
    """
    if rule_too_large(noise):
        return math.inf
    nodes, weights = tensor_rule(noise)
    with np.errstate(all="ignore"):
        return float(np.sum(weights * integrand(*nodes)))


def tail_grows(component: Component) -> bool:
    """Whether g^6 times the noise density still grows far out in some noise variable.

    Every probe (a pair of far values of one variable, the others typical) in one call of
    the component's function: g is evaluated sample by sample, so a batch is the same."""
    probes = [
        (axis, kind, pair) for axis, kind in enumerate(component.noise) for pair in _TAILS[kind]
    ]
    if not probes:
        return False
    lanes = [np.full(2 * len(probes), _TYPICAL[kind]) for kind in component.noise]
    for index, (axis, _, pair) in enumerate(probes):
        lanes[axis][2 * index : 2 * index + 2] = pair
    with np.errstate(all="ignore"):
        values = np.broadcast_to(component.function(*lanes), (2 * len(probes),))
    for index, (_, kind, pair) in enumerate(probes):
        both = values[2 * index : 2 * index + 2]
        with np.errstate(all="ignore"):
            log_weighted = 6 * np.log(np.abs(both)) + _log_density(kind, np.array(pair))
        if not np.all(np.isfinite(both)) or log_weighted[1] > log_weighted[0]:
            return True
    return False


def _log_density(kind: str, values: FloatArray) -> FloatArray:
    """The log of the noise density up to a constant (the growth test needs no more)."""
    with np.errstate(all="ignore"):
        log = -(values**2) / 2
        if kind == "maxwell":
            log += 2 * np.log(np.abs(values))
        elif kind == "rayleigh":
            log += np.log(values)
    return log
