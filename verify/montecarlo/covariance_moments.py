"""The exact covariance behind the covariance check: :class:`ExactCovariance`.

The contract: :func:`exact_covariance` returns, for one estimator at one exact point,
the covariance ``c = E[g_mu g_sigma] - E[g_mu] E[g_sigma]`` of its two components,
``mu22 = E[W**2]`` for ``W = (g_mu - m_mu)(g_sigma - m_sigma)``, and the skewness of W,
together with each component's :class:`~verify.montecarlo.check_moments.ExactMoments`;
the check itself is :mod:`verify.montecarlo.covariance`'s.

- For the product and baseline estimators both components are functions of the same
  eps, and ``E[g_mu g_sigma]`` is :meth:`~verify.exact.derivation.Derivation.cross_moment`.
  ``mu22`` expands into ``E[f**k w_mu**p w_sigma**q]`` (:meth:`~verify.exact.derivation.
  Derivation.product_expectation`); for the baselines, with ``f = r - b``, into
  ``E[r**k w_mu**p w_sigma**q]`` and the exact baselines.  Each part is evaluated by
  the engine (closed form at 50 digits, or labelled quadrature) and combined at 50
  digits.  The skewness of W only sizes the check, so it is taken in float64 from the
  quadrature rule of eps.
- The measure-valued estimators draw their components independently: ``c = 0``
  exactly, ``mu22 = var_mu var_sigma`` and the skewness is
  ``mu3_mu mu3_sigma / (sigma_mu sigma_sigma)**3``, all exact.
- A degenerate component (zero variance: then ``c = 0`` exactly), or an infinite
  variance or fourth moment, stops there: ``mu22`` and the skewness are ``nan``, and
  the check compares exactly or is skipped.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import sympy

from verify.cases.estimators import BASELINE_ESTIMATORS, ESTIMATORS, MEASURE_VALUED_ESTIMATORS
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.baselines import baseline_value, score_weight
from verify.exact.compound import Quantity
from verify.exact.derivation import Derivation
from verify.exact.dimension import DimensionDerivation
from verify.exact.evaluation import ExactPoint, combined_method, evaluate_expectation
from verify.exact.explicit import CoordinateDerivation
from verify.exact.gaussian import Method
from verify.exact.numbers import WORKING_DIGITS, Number
from verify.montecarlo.check_moments import (
    SIZING_GUARD_BITS,
    ExactMoments,
    for_sizing,
    rule_expectation,
)
from verify.montecarlo.engine import Pair
from verify.montecarlo.noise import FloatArray


@dataclass(frozen=True)
class ExactCovariance:
    """The exact covariance of one estimator's components and what its check needs."""

    covariance: mpmath.mpf
    mu22: mpmath.mpf  # E[W**2]; nan when a component is degenerate (W = 0)
    skewness: float  # of W, for sizing; inf where E[W**3] is infinite
    mu: ExactMoments
    sigma: ExactMoments
    method: Method

    @property
    def is_degenerate(self) -> bool:
        """A constant component: the covariance is exactly 0."""
        return self.mu.is_degenerate or self.sigma.is_degenerate


def exact_covariance(
    derivation: Derivation,
    estimator: str,
    point: ExactPoint,
    pair: Pair,
    mu: ExactMoments,
    sigma: ExactMoments,
) -> ExactCovariance:
    """The exact covariance, ``mu22`` and the skewness of W (see the module docstring)."""
    zero = mpmath.mpf(0)
    method = combined_method(mu.method, sigma.method)
    if mu.is_degenerate or sigma.is_degenerate or not _finite(mu, sigma):
        return ExactCovariance(zero, mpmath.nan, math.nan, mu, sigma, method)
    if estimator in MEASURE_VALUED_ESTIMATORS and derivation.measure_valued_components_independent:
        with mpmath.workdps(WORKING_DIGITS):
            mu22 = mu.variance * sigma.variance
            skewness = float(mu.third * sigma.third / mpmath.sqrt(mu22) ** 3)
        return ExactCovariance(zero, mu22, skewness, mu, sigma, method)
    cross = evaluate_expectation(derivation.cross_moment(estimator), point)
    offsets, methods = _offsets(derivation, estimator, point)

    def terms() -> Terms:
        if estimator in MEASURE_VALUED_ESTIMATORS:
            return _lifted_cross_terms(derivation, estimator, point)
        return _raw_cross_terms(derivation, estimator, point, offsets)

    # mu22 only sizes the covariance check and its threshold: computed loosely where
    # that pins it (verify.montecarlo.check_moments.for_sizing).
    found = for_sizing(terms, lambda found: _mu22_pinned(found, cross.value, mu, sigma))
    methods += [number.method for parts in found.values() for _, number in parts]
    with mpmath.workdps(WORKING_DIGITS):
        covariance = cross.value - mu.mean * sigma.mean
        mu22 = _central_mu22(_combined(found, cross.value), mu, sigma)
    skewness = _skewness_of_product(pair, mu, sigma)
    return ExactCovariance(
        covariance, mu22, skewness, mu, sigma, combined_method(method, cross.method, *methods)
    )


# E[g_mu**p g_sigma**q] for (p, q) in (2, 1), (1, 2), (2, 2), as sums of weighted parts.
Terms = dict[tuple[int, int], list[tuple[mpmath.mpf, Number]]]
_ORDERS = ((2, 1), (1, 2), (2, 2))


def _lifted_cross_terms(derivation: Derivation, estimator: str, point: ExactPoint) -> Terms:
    """E[g_mu**p g_sigma**q] of a measure-valued estimator whose components share noise
    (a product in d coordinates, :mod:`verify.exact.dimension`; any explicit cost in
    d > 1 coordinates, :mod:`verify.exact.explicit`)."""
    assert isinstance(derivation, DimensionDerivation | CoordinateDerivation)
    one = mpmath.mpf(1)
    return {
        (p, q): [
            (
                one,
                evaluate_expectation(
                    derivation.measure_valued_mixed_moment(estimator, p, q), point
                ),
            )
        ]
        for p, q in _ORDERS
    }


def _combined(found: Terms, cross: mpmath.mpf) -> dict[tuple[int, int], mpmath.mpf]:
    """The raw moments E[g_mu**p g_sigma**q] the terms add up to, and (1, 1): ``cross``."""
    with mpmath.workdps(WORKING_DIGITS):
        raw = {
            key: mpmath.fsum(w * number.value for w, number in parts)
            for key, parts in found.items()
        }
    raw[(1, 1)] = cross
    return raw


def _mu22_pinned(found: Terms, cross: mpmath.mpf, mu: ExactMoments, sigma: ExactMoments) -> bool:
    """Whether the parts' radii pin ``mu22`` to 2^-:data:`~.check_moments.SIZING_GUARD_BITS`
    of ``mu22 - c**2``, the variance of W that sizes the covariance check (to first order
    in the radii)."""
    numbers = [number for parts in found.values() for _, number in parts]
    if all(number.method == "closed-form" for number in numbers):
        return True
    if not all(n.radius is not None and mpmath.isfinite(n.value) for n in numbers):
        return False
    with mpmath.workdps(WORKING_DIGITS):
        spread = (
            _central_mu22(_combined(found, cross), mu, sigma) - (cross - mu.mean * sigma.mean) ** 2
        )
        error = mpmath.fsum(
            math.comb(2, p)
            * math.comb(2, q)
            * abs(mu.mean) ** (2 - p)
            * abs(sigma.mean) ** (2 - q)
            * abs(w)
            * number.radius
            for (p, q), parts in found.items()
            for w, number in parts
        )
        return bool(spread > 0 and error <= mpmath.ldexp(spread, -SIZING_GUARD_BITS))


def _finite(*moments: ExactMoments) -> bool:
    return all(mpmath.isfinite(m.fourth) and mpmath.isfinite(m.variance) for m in moments)


def _central_mu22(
    raw: dict[tuple[int, int], mpmath.mpf], mu: ExactMoments, sigma: ExactMoments
) -> mpmath.mpf:
    """E[(X - m_x)**2 (Y - m_y)**2] from the raw moments E[X**p Y**q], p, q <= 2."""
    raw[(1, 0)], raw[(0, 1)] = mu.mean, sigma.mean
    raw[(2, 0)] = mu.variance + mu.mean**2
    raw[(0, 2)] = sigma.variance + sigma.mean**2
    raw[(0, 0)] = mpmath.mpf(1)
    return mpmath.fsum(
        math.comb(2, p)
        * math.comb(2, q)
        * (-mu.mean) ** (2 - p)
        * (-sigma.mean) ** (2 - q)
        * raw[(p, q)]
        for p in range(3)
        for q in range(3)
    )


def _offsets(
    derivation: Derivation, estimator: str, point: ExactPoint
) -> tuple[list[mpmath.mpf], list[Method]]:
    """The exact baselines (b_mu, b_sigma) of a baseline estimator, else (0, 0)."""
    if estimator not in BASELINE_ESTIMATORS:
        return [mpmath.mpf(0), mpmath.mpf(0)], []
    values = [
        evaluate_expectation(baseline_value(estimator, derivation, p), point)
        for p in GRADIENT_PARAMETERS
    ]
    return [value.value for value in values], [value.method for value in values]


def _raw_cross_terms(
    derivation: Derivation, estimator: str, point: ExactPoint, offsets: list[mpmath.mpf]
) -> Terms:
    """E[g_mu**p g_sigma**q] for (p, q) in (2, 1), (1, 2), (2, 2), as weighted parts.

    With ``g = (f - b) w`` (``b = 0`` for a product estimator), ``E[g_mu**p g_sigma**q]``
    is ``sum_ij C(p,i) C(q,j) (-b_mu)**(p-i) (-b_sigma)**(q-j) E[f**(i+j) w_mu**p w_sigma**q]``.
    """
    uses = "r" if estimator in BASELINE_ESTIMATORS else ESTIMATORS[estimator].uses
    terms: Terms = {}
    for p, q in _ORDERS:
        terms[(p, q)] = []
        for i, j in itertools.product(range(p + 1), range(q + 1)):
            if (offsets[0] == 0 and i < p) or (offsets[1] == 0 and j < q):
                continue  # a zero power of a zero baseline
            part = evaluate_expectation(_part(derivation, estimator, uses, i + j, p, q), point)
            with mpmath.workdps(WORKING_DIGITS):
                coefficient = math.comb(p, i) * math.comb(q, j)
                offset = (-offsets[0]) ** (p - i) * (-offsets[1]) ** (q - j)
                terms[(p, q)].append((coefficient * offset, part))
    return terms


@lru_cache(maxsize=512)
def _part(
    derivation: Derivation, estimator: str, uses: str, order: int, p: int, q: int
) -> Quantity:
    """E[f**order w_mu**p w_sigma**q], built once per cost (the weights are the score's
    for the baselines)."""
    if estimator in BASELINE_ESTIMATORS:
        weight = score_weight("mu") ** p * score_weight("sigma") ** q
    else:
        weights = ESTIMATORS[estimator].weights
        weight = weights["mu"] ** p * weights["sigma"] ** q
    return derivation.product_expectation(uses, order, sympy.expand(weight))


def _skewness_of_product(pair: Pair, mu: ExactMoments, sigma: ExactMoments) -> float:
    """The skewness of W = (g_mu - m_mu)(g_sigma - m_sigma) by the rule of eps (sizing)."""
    if not (math.isfinite(mu.sixth) and math.isfinite(sigma.sixth)):
        return math.inf  # E[|W|**3] <= (E[X**6] E[Y**6])**(1/2) is all there is
    scale = math.sqrt(float(mu.variance) * float(sigma.variance))
    centres = (float(mu.mean), float(sigma.mean))

    def standard(*noise: FloatArray) -> FloatArray:
        deviation = pair.mu.function(*noise) - centres[0]
        return deviation * (pair.sigma.function(*noise) - centres[1]) / scale

    noise = pair.mu.noise
    first = rule_expectation(noise, standard)
    second = rule_expectation(noise, lambda *n: (standard(*n) - first) ** 2)
    third = rule_expectation(noise, lambda *n: (standard(*n) - first) ** 3)
    if not (math.isfinite(third) and second > 0):
        return math.inf
    return float(third / second**1.5)
