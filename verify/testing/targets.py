"""The exact side of :func:`verify.testing.check_estimator`: which columns hold what, and
the exact moments each pair of columns is checked against.

The contract: :func:`target` completes the point as ``verify evaluate`` does and returns
a :class:`Target`: the case's gradient components in ``verify evaluate``'s order --
``(mu, sigma)``; for a cost in d shared coordinates (``dimension = "d"``) coordinate 1's
``(mu, sigma)``, as ``verify evaluate`` reports them; for an explicit dimension ``mu1..mud,
sigma1..sigmad`` -- and one :class:`~verify.montecarlo.checks.Stream` per pair of columns
``(mu_i, sigma_i)``, with the exact moments and covariance ``verify check`` uses
(:mod:`verify.montecarlo.check_moments`, :mod:`verify.montecarlo.covariance_moments`).  Each
stream gets its own seed key ``(0, i)``; the samples come from the user, never from
these keys.  ``unbiased`` claims each component's mean is the exact gradient (the
other moments are the estimator's): a biased estimator then fails its mean check.
A point given in the phi names of a parameterization is not supported yet (CaseError):
the variance check of a component ``J^T g`` needs the mixed fourth moments
``E[g_mu^3 g_sigma]`` and ``E[g_mu g_sigma^3]``, which are not derived.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import mpmath

from verify.api.case import Case, complete_phi_point, complete_point
from verify.api.explicit import explicit_point
from verify.cases.case import CaseError
from verify.cases.coordinates import component_names
from verify.cases.points import Point
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.derivation import Derivation
from verify.exact.dimension import DimensionDerivation, derive_case
from verify.exact.evaluation import ExactPoint, evaluate_gradient, exact_point
from verify.exact.explicit import derive_explicit
from verify.montecarlo.check_plan import further_skip
from verify.montecarlo.checks import Stream, exact_stream
from verify.montecarlo.covariance_moments import ExactCovariance
from verify.montecarlo.dimension_samplers import lifted_pair
from verify.montecarlo.engine import Pair
from verify.montecarlo.explicit_samplers import explicit_pair
from verify.montecarlo.samplers import estimator_pair
from verify.testing.estimators import (
    EstimatorLike,
    Formulas,
    check_formula_fields,
    display_name,
    formula_moments,
    gradient_moments,
    our_name,
)

# Formulas give no sampler of ours; the stream's pair only names its noise.
_NO_PAIR = Pair.joint_of(("normal",), lambda eps: (eps, eps))


@dataclass(frozen=True)
class Target:
    """The columns a sampler returns and the streams that check them."""

    at: Point
    components: tuple[str, ...]  # the columns, in verify evaluate's order
    streams: tuple[Stream, ...]
    columns: Mapping[tuple[int, int], tuple[int, int]]  # stream key -> (mu, sigma) columns


def target(
    case: Case, estimator: EstimatorLike, at: Mapping[str, object], unbiased: bool
) -> Target:
    """The point, the columns and one stream per (mu_i, sigma_i) pair (module docstring)."""
    if complete_phi_point(case, at) is not None:
        message = "a point in phi is not supported by verify.testing yet; give mu and sigma"
        raise CaseError(str(case.path), "at", message)
    if isinstance(estimator, Formulas):
        check_formula_fields(case, estimator)
        if case.coordinates is not None or case.dimension is not None:
            message = "Formulas are for one-dimensional cases (mu, sigma); use a named estimator"
            raise CaseError(str(case.path), "estimator", message)
    ours = our_name(case, estimator)
    name = display_name(estimator)
    if case.coordinates is not None:
        return _explicit_target(case, name, ours, at, unbiased)
    point = complete_point(case, at)
    exact = exact_point(point)
    derivation = derive_case(case)
    key = (0, 0)
    columns = {key: (0, 1)}
    reason = None if ours is None else further_skip(derivation, ours)
    if reason is not None:
        stream = Stream(point, name, key, None, None, reason)
        return Target(point, GRADIENT_PARAMETERS, (stream,), columns)
    if isinstance(estimator, Formulas):
        moments = [formula_moments(case, estimator, p, exact) for p in GRADIENT_PARAMETERS]
        nan = mpmath.nan
        covariance = ExactCovariance(nan, nan, nan, moments[0], moments[1], moments[0].method)
        pair = _NO_PAIR
    else:
        assert ours is not None
        pair = (
            lifted_pair(derivation, ours, exact)
            if isinstance(derivation, DimensionDerivation)
            else estimator_pair(derivation, ours, exact)
        )
        covariance = exact_stream(derivation, ours, exact, pair)
    if unbiased:
        covariance = _about_gradient(derivation, exact, covariance)
    stream = Stream(point, name, key, pair, covariance)
    return Target(point, GRADIENT_PARAMETERS, (stream,), columns)


def _explicit_target(
    case: Case, name: str, ours: str | None, at: Mapping[str, object], unbiased: bool
) -> Target:
    """r(z1..zd): the pair (mu_i, sigma_i) of every coordinate i, as ``verify check``."""
    assert case.coordinates is not None
    assert ours is not None
    count = case.coordinates.count
    point = explicit_point(case, at)
    exact = exact_point(point)
    derivation = derive_explicit(case.r, count)
    streams, columns = [], {}
    for index in case.coordinates.indices:
        view, local = derivation.coordinate(index), derivation.coordinate_point(exact, index)
        pair = explicit_pair(view, ours, local)
        covariance = exact_stream(view, ours, local, pair)
        if unbiased:
            covariance = _about_gradient(view, local, covariance)
        key = (0, index - 1)
        streams.append(Stream(point, name, key, pair, covariance, coordinate=index))
        columns[key] = (index - 1, count + index - 1)
    return Target(point, component_names(count), tuple(streams), columns)


def _about_gradient(
    derivation: Derivation, point: ExactPoint, covariance: ExactCovariance
) -> ExactCovariance:
    """The claim that each component's mean is the exact gradient."""
    mu, sigma = (
        gradient_moments(moments, evaluate_gradient(derivation, parameter, point))
        for parameter, moments in zip(
            GRADIENT_PARAMETERS, (covariance.mu, covariance.sigma), strict=True
        )
    )
    return replace(covariance, mu=mu, sigma=sigma)
