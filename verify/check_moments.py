"""The exact moments behind one Monte Carlo check: :class:`ExactMoments`.

The contract: :func:`exact_moments` returns the mean, variance and third and fourth
central moments of one estimator component at one exact point, from the same engine
as every reported number (:func:`verify.evaluation.central_moments`: closed form at
50 digits, or labelled quadrature), plus the standardised sixth central moment,
which only sizes the skewness correction of the variance check (see
:mod:`verify.significance`) and is therefore taken from a
:data:`GAUSS_HERMITE_NODES`-node Gauss-Hermite rule in float64 -- a guard needs a
digit or two, not thirty.  Whether that sixth moment is infinite is decided exactly
where the closed form exists: the Gaussian exponents of ``E[g^6]`` are three times
those of ``E[g^2]``, so it diverges where some ``3*b`` reaches 1/2; under quadrature,
from the growth of ``g^6`` times the normal density far out in the tails.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import numpy as np

from verify.derivation import Derivation
from verify.evaluation import ExactPoint, Number, central_moments, diverges
from verify.gaussian import Method
from verify.montecarlo import FloatArray, SampleFunction

GAUSS_HERMITE_NODES = 200
# A variance this small relative to E[g^2] is 50-digit cancellation of an exact zero.
_ZERO_VARIANCE = mpmath.mpf(10) ** -30


@dataclass(frozen=True)
class ExactMoments:
    """The exact central moments of one estimator component at one point.

    ``sixth`` is the standardised sixth central moment ``mu6/sigma^6`` from Gauss-Hermite
    quadrature, only used to size the variance check's skewness correction; ``inf``
    where the exact rules say it diverges.
    """

    mean: mpmath.mpf
    variance: mpmath.mpf
    third: mpmath.mpf
    fourth: mpmath.mpf
    sixth: float
    method: Method

    @property
    def is_degenerate(self) -> bool:
        """Whether g is constant (zero variance, up to 50-digit cancellation)."""
        second = self.variance + self.mean**2
        return bool(abs(self.variance) <= _ZERO_VARIANCE * abs(second))


def exact_moments(
    derivation: Derivation,
    estimator: str,
    parameter: str,
    point: ExactPoint,
    function: SampleFunction,
) -> ExactMoments:
    """Exact mean, variance, third and fourth central moments, and the sixth for sizing."""
    mean, variance, third, fourth = central_moments(derivation, estimator, parameter, point)
    sixth = _standardised_sixth(derivation, estimator, parameter, point, function, mean, variance)
    return ExactMoments(
        mean.value, variance.value, third.value, fourth.value, sixth, variance.method
    )


def _standardised_sixth(
    derivation: Derivation,
    estimator: str,
    parameter: str,
    point: ExactPoint,
    function: SampleFunction,
    mean: Number,
    variance: Number,
) -> float:
    if not (mpmath.isfinite(variance.value) and variance.value > 0):
        return math.inf
    second = derivation.raw_moment(estimator, parameter, 2)
    if second.value is not None:
        # E[g^6]'s Gaussian exponents are three times E[g^2]'s: it diverges exactly
        # where some 3*b reaches 1/2.
        if diverges(tuple(3 * b for b in second.divergence), point):
            return math.inf
    elif _tail_grows(function):
        return math.inf
    nodes, weights = _gauss_hermite()
    with np.errstate(all="ignore"):
        standard = (function(nodes.copy()) - float(mean.value)) / math.sqrt(variance.value)
        value = float(np.sum(weights * standard**6))
    return value if math.isfinite(value) else math.inf


def _tail_grows(function: SampleFunction) -> bool:
    """Whether g^6 times the normal density still grows far out (the integral diverges)."""
    far = np.array([-60.0, -30.0, 30.0, 60.0])
    with np.errstate(all="ignore"):
        values = function(far.copy())
        log_weighted = 6 * np.log(np.abs(values)) - far**2 / 2
    if not np.all(np.isfinite(values)):
        return True
    return bool(log_weighted[0] > log_weighted[1] or log_weighted[3] > log_weighted[2])


@lru_cache(maxsize=1)
def _gauss_hermite() -> tuple[FloatArray, FloatArray]:
    nodes, weights = np.polynomial.hermite_e.hermegauss(GAUSS_HERMITE_NODES)
    return nodes, weights / math.sqrt(2 * math.pi)
