"""score_loo inside ``verify check``: a stream of M-sample estimates, checked like any other.

The contract: score_loo (:mod:`verify.exact.leave_one_out`) is reported at the case's M
(``[estimate] samples``, else :data:`~verify.cases.budget.DEFAULT_SAMPLES`) at the
reference point of every parameter combination, in one coordinate or, for a symbolic
d, in coordinate 1 of each listed d;
:func:`verify.montecarlo.check_plan.loo_point_count` says at how many check points, and
each gets one stream whose every sample is one M-sample estimate
(:func:`loo_pair`): M independent draws of eps (for a symbolic d, M independent draws
of coordinate 1 with their own S or P of coordinates 2..d,
:func:`verify.montecarlo.dimension_samplers.rest_function`).

Its five checks (mean and variance of each component, their covariance) are the
z-tests or median-of-means tests of every other stream, inside the run's Bonferroni
family, with exact moments from :func:`loo_exact`: the mean, variances and covariance
are the reported numbers, and the third, fourth and sixth moments of each component and
the covariance's ``E[W**2]`` that size the tests are exact combinations of
single-sample expectations (:mod:`verify.montecarlo.loo_moments`); the covariance is
checked by median of means, since the skewness that would size its z-test is not
derived.  So ``--perturb`` applies to them, and their sample size is planned for the
power of every other variance check (:mod:`verify.montecarlo.sample_size`), between
:data:`~verify.montecarlo.engine.CHUNK_SIZE` and 2^24 estimates (:func:`loo_limits`).
Only infinite or undefined moments skip, as everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import mpmath
import numpy as np
import sympy

from verify.cases.budget import DEFAULT_SAMPLES, LOO_ESTIMATOR
from verify.cases.case import Case
from verify.cases.symbols import EPS, GRADIENT_PARAMETERS
from verify.exact.baselines import score_weight
from verify.exact.derivation import Derivation
from verify.exact.dimension import DimensionDerivation
from verify.exact.evaluation import ExactPoint, combined_method
from verify.exact.leave_one_out import with_score_loo
from verify.exact.numbers import WORKING_DIGITS, Number
from verify.exact.results import evaluate_point
from verify.montecarlo.check_moments import SIZING_GUARD_BITS, ExactMoments, for_sizing
from verify.montecarlo.control_variates import MAX_ORDER, HermiteMoments
from verify.montecarlo.covariance_moments import ExactCovariance
from verify.montecarlo.dimension_samplers import NORMAL, dimension_of, shared_rest
from verify.montecarlo.engine import CHUNK_SIZE, Pair
from verify.montecarlo.kernels import numpy_function
from verify.montecarlo.loo_moments import loo_hermite_moments, loo_mixed_moments, r_eps_quantity
from verify.montecarlo.noise import FloatArray
from verify.montecarlo.sample_size import MAX_SAMPLES
from verify.montecarlo.samplers import shared_sample


def loo_samples(case: Case) -> int:
    """M: the case's ``[estimate] samples``, else the default."""
    return case.budget.samples or DEFAULT_SAMPLES


def loo_pair(derivation: Derivation, point: ExactPoint, samples: int) -> Pair:
    """Both components of one M-sample estimate, from M (x d) standard normal lanes."""
    # The first draw's r(eps) is the score family's at the point, computed once per chunk
    # (read-only: draw_cost copies it).
    cost = shared_sample(derivation, "r", tuple(point.items()))
    weights = [
        numpy_function(sympy.sympify(score_weight(p)).subs(point), EPS) for p in GRADIENT_PARAMETERS
    ]
    width, rest, add = 1, None, False
    if isinstance(derivation, DimensionDerivation):
        width, add = dimension_of(derivation, point), derivation.combine == "sum"
        rest = shared_rest(derivation, tuple(point.items())) if width > 1 else None

    def draw_cost(lanes: Sequence[FloatArray]) -> FloatArray:
        value = np.array(cost(lanes[0]), dtype=np.float64)
        if rest is not None:
            others = rest(lanes[1:])
            value = value + others if add else value * others
        return value

    def both(*lanes: FloatArray) -> tuple[FloatArray, FloatArray]:
        with np.errstate(all="ignore"):
            costs = [draw_cost(lanes[i * width : (i + 1) * width]) for i in range(samples)]
            mean = sum(costs[1:], costs[0]) / samples
            firsts = [lanes[i * width] for i in range(samples)]
            mu, sigma = (
                sum((c - mean) * w(e) for c, e in zip(costs, firsts, strict=True)) / (samples - 1)
                for w in weights
            )
            return np.asarray(mu), np.asarray(sigma)

    return Pair.joint_of((NORMAL,) * (samples * width), both)


def loo_limits(pair: Pair, samples: int) -> tuple[int, int]:
    """The fewest and most estimates a score_loo stream is planned for: from one chunk up
    to :data:`~verify.montecarlo.sample_size.MAX_SAMPLES` estimates, over the number of
    coordinates rounded up to a power of two for a symbolic d (as
    :func:`verify.montecarlo.checks.sample_cap` does for the other streams), so a large d
    costs power, which the checks state, not time."""
    width = len(pair.noise) // samples  # normal lanes per draw: 1, or d
    most = MAX_SAMPLES // (1 << max(width - 1, 0).bit_length())
    return CHUNK_SIZE, max(most, CHUNK_SIZE)


def loo_exact(derivation: Derivation, point: ExactPoint, samples: int) -> ExactCovariance:
    """The exact moments of one M-sample estimate (the module docstring)."""
    base = evaluate_point(derivation, point, ("score",))
    reported = with_score_loo(base, derivation, point, samples)
    means = [reported.means[LOO_ESTIMATOR][p] for p in GRADIENT_PARAMETERS]
    variances = [reported.variances[LOO_ESTIMATOR][p] for p in GRADIENT_PARAMETERS]
    # The mixed moments only size the checks: computed loosely where that pins them.
    found, method = for_sizing(
        lambda: loo_mixed_moments(derivation, point, samples),
        lambda found: (
            found[1] == "closed-form"
            or _pinned(found[0], [m.value for m in means], [v.value for v in variances])
        ),
    )
    raw = {order: number.value for order, number in found.items()}
    components = []
    for index, (mean, variance) in enumerate(zip(means, variances, strict=True)):
        powers = [raw[(k, 0)] if index == 0 else raw[(0, k)] for k in range(7)]
        third, fourth, sixth = (_central(powers, mean.value, k) for k in (3, 4, 6))
        with mpmath.workdps(WORKING_DIGITS):
            standard = sixth / variance.value**3 if variance.value > 0 else mpmath.inf
        components.append(
            ExactMoments(
                mean.value,
                variance.value,
                third,
                fourth,
                float(standard) if mpmath.isfinite(standard) else float("inf"),
                combined_method(mean.method, variance.method, method),
            )
        )
    cross = reported.covariances[LOO_ESTIMATOR]
    mu, sigma = components
    # The skewness of W, which would size a z-test of the covariance, needs E[W**3], an
    # order-6 mixed moment: left unknown (inf), so the covariance is checked by median of
    # means, distribution-free (verify.montecarlo.robust).
    mu22, skewness = _codeviation(raw, mu.mean, sigma.mean), float("inf")
    methods = combined_method(mu.method, sigma.method, cross.method)
    return ExactCovariance(cross.value, mu22, skewness, mu, sigma, methods)


def loo_hermite(
    derivation: Derivation, point: ExactPoint, samples: int, pair: Pair
) -> tuple[HermiteMoments | None, HermiteMoments | None]:
    """The Hermite moments of both components' control variates ``sum_i He_k(eps_i)``
    (:mod:`.control_variates`), where they apply: one coordinate, closed forms."""
    if type(derivation) is not Derivation or r_eps_quantity(derivation, 2, 0).value is None:
        return None, None
    found = loo_hermite_moments(derivation, point, samples, MAX_ORDER)
    if found is None:
        return None, None
    mu, sigma = (
        HermiteMoments(tuple(squares), tuple(firsts), part.function, samples)
        for (squares, firsts), part in zip(found, (pair.mu, pair.sigma), strict=True)
    )
    return mu, sigma


def _central(powers: Sequence[mpmath.mpf], mean: mpmath.mpf, order: int) -> mpmath.mpf:
    """E[(g - mean)**order] from E[g**k]; inf where a raw moment is not finite."""
    if not all(mpmath.isfinite(p) for p in powers[: order + 1]):
        return mpmath.inf
    with mpmath.workdps(WORKING_DIGITS):
        return mpmath.fsum(
            mpmath.binomial(order, k) * (-mean) ** (order - k) * powers[k] for k in range(order + 1)
        )


def _codeviation(
    raw: Mapping[tuple[int, int], mpmath.mpf], mean_mu: mpmath.mpf, mean_sigma: mpmath.mpf
) -> mpmath.mpf:
    """``E[W**2]`` for W = (g_mu - m_mu)(g_sigma - m_sigma) (nan where not finite)."""
    if not all(mpmath.isfinite(raw[(p, q)]) for p in range(3) for q in range(3)):
        return mpmath.nan
    with mpmath.workdps(WORKING_DIGITS):
        return mpmath.fsum(
            mpmath.binomial(2, a)
            * mpmath.binomial(2, b)
            * (-mean_mu) ** (2 - a)
            * (-mean_sigma) ** (2 - b)
            * raw[(a, b)]
            for a in range(3)
            for b in range(3)
        )


def _pinned(
    found: Mapping[tuple[int, int], Number],
    means: Sequence[mpmath.mpf],
    variances: Sequence[mpmath.mpf],
) -> bool:
    """Whether the mixed moments' radii pin each component's third, fourth and sixth central
    moments and ``E[W**2]`` to 2^-:data:`~.check_moments.SIZING_GUARD_BITS` of their
    scales (``sigma**3``, ``mu4 - sigma**4``, ``mu6`` and ``E[W**2] - c**2``).

    The error of ``sum_k C(n, k) (-m)**(n-k) E[g**k]`` is at most the same sum with ``|m|``
    for ``-m`` and the radii for the moments: :func:`_central` at ``-|m|`` on the radii."""
    if not all(n.radius is not None and mpmath.isfinite(n.value) for n in found.values()):
        return False
    if not all(mpmath.isfinite(v) and v > 0 for v in variances):
        return False
    raw = {order: number.value for order, number in found.items()}
    radii = {order: mpmath.mpf(number.radius) for order, number in found.items()}
    with mpmath.workdps(WORKING_DIGITS):
        guard = mpmath.ldexp(1, -SIZING_GUARD_BITS)
        for index, (mean, variance) in enumerate(zip(means, variances, strict=True)):
            powers, errors = (
                [moments[(k, 0)] if index == 0 else moments[(0, k)] for k in range(7)]
                for moments in (raw, radii)
            )
            values = [_central(powers, mean, order) for order in (3, 4, 6)]
            bounds = [_central(errors, -abs(mean), order) for order in (3, 4, 6)]
            scales = [variance**1.5, values[1] - variance**2, values[2]]
            if not all(b <= guard * s for b, s in zip(bounds, scales, strict=True)):
                return False
        covariance = raw[(1, 1)] - means[0] * means[1]
        spread = _codeviation(raw, *means) - covariance**2
        error = _codeviation(radii, -abs(means[0]), -abs(means[1]))
        return bool(error <= guard * spread)
