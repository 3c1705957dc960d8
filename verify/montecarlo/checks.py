"""Every Monte Carlo check and claim of one case: :func:`check_case`, the library entry point.

The contract:

- **Plan.**  Points, estimators and the count are :mod:`verify.montecarlo.check_plan`'s: the
  classic pair at every check point, the four further estimators at the reference point.
- **Checks.**  At each point, each planned estimator draws one joint stream of N
  draws of both components (:func:`verify.montecarlo.samplers.estimator_pair`: the same eps for
  the product and baseline estimators, independent noise for the measure-valued
  ones).  N is planned per stream from the exact moments (:mod:`verify.montecarlo.sample_size`:
  every variance check sees a 2% error with probability 0.99, up to a cap), unless
  ``samples`` fixes it.  Each component's sample mean and variance are checked
  against the exact ones (:mod:`verify.montecarlo.significance`), and the sample covariance of
  the two against the exact covariance (:mod:`verify.montecarlo.covariance`): five checks; a
  statistic too skewed for the normal approximation at N is checked by median of
  means on the same samples (:mod:`verify.montecarlo.robust`).  Where a stream's plain
  variance checks fall short of the power, its variance checks may subtract control
  variates of exactly known mean (:mod:`verify.montecarlo.control_variates`; the
  stream's Hermite moments are computed then, and its eps observed while sampling).
  The stream's seed is :func:`verify.montecarlo.engine.stream_seed` of (seed, case name,
  point index, estimator index), so results do not depend on which other cases run,
  or in what order; the streams of a case share one pool of noise lanes, drawn once on
  the first one's seed (:mod:`verify.montecarlo.shared_noise`).
- **Family.**  ``family_size`` is the number of checks in the whole run (the sum of
  :func:`count_checks` over its cases), over which the family-wise false-alarm rate is
  split; by default, this case's own count.
- **score_loo.**  One more stream at the reference point of each parameter
  combination, whose samples are M-sample estimates at the case's M, with exact moments
  and planned size from :mod:`verify.montecarlo.loo_check`: five checks like any
  stream's, inside the family.
- **Claims.**  Settled exactly by :mod:`verify.montecarlo.claims`.

The result is a :class:`~verify.montecarlo.check_records.CaseCheckResult` of
:class:`~verify.montecarlo.check_records.Check` records
(:mod:`verify.montecarlo.check_records`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from verify.cases.budget import LOO_ESTIMATOR
from verify.cases.case import Case
from verify.cases.coordinates import MAX_COORDINATES
from verify.cases.estimators import ESTIMATOR_NAMES
from verify.cases.points import Point
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.derivation import Derivation
from verify.exact.dimension import DimensionDerivation, derive_case
from verify.exact.evaluation import ExactPoint, exact_point
from verify.exact.explicit import derive_explicit
from verify.montecarlo.check_moments import exact_moments
from verify.montecarlo.check_plan import (
    check_points,
    closed_form_expected,
    count_checks,
    further_skip,
    loo_point_count,
    planned_estimators,
)
from verify.montecarlo.check_records import JOINT, CaseCheckResult, Check
from verify.montecarlo.claims import check_claims
from verify.montecarlo.control_variates import (
    HermiteMoments,
    HermiteSums,
    pair_hermite_moments,
)
from verify.montecarlo.covariance import covariance_robust_reason, covariance_skip, judge_covariance
from verify.montecarlo.covariance_moments import ExactCovariance, exact_covariance
from verify.montecarlo.dimension_samplers import lifted_pair
from verify.montecarlo.engine import (
    CHUNK_SIZE,
    DEFAULT_SAMPLES,
    DEFAULT_SEED,
    Pair,
    PairMoments,
)
from verify.montecarlo.explicit_samplers import explicit_pair
from verify.montecarlo.loo_check import loo_exact, loo_hermite, loo_limits, loo_pair, loo_samples
from verify.montecarlo.outcome import Outcome
from verify.montecarlo.perturb import perturbed
from verify.montecarlo.robust import (
    BlockMeans,
    BlockStatistic,
    block_statistics,
    product_statistic,
    robust_blocks,
)
from verify.montecarlo.sample_size import (
    MAX_SAMPLES,
    MIN_PLANNED,
    falls_short,
    stream_samples,
    variance_power,
)
from verify.montecarlo.samplers import estimator_pair
from verify.montecarlo.shared_noise import Draw, sample_streams
from verify.montecarlo.significance import (
    FAMILY_WISE_ALPHA,
    STATISTICS,
    judge,
    planned_skips,
    robust_reasons,
    threshold,
    variance_controls,
)

__all__ = [
    "DEFAULT_SAMPLES",
    "DEFAULT_SEED",
    "FAMILY_WISE_ALPHA",
    "check_case",
    "check_points",
    "closed_form_expected",
    "count_checks",
    "exact_stream",
    "plan_streams",
    "run_streams",
]


@dataclass(frozen=True)
class Stream:
    """One estimator at one point: its joint sampler and exact moments, ready to check.

    ``exact`` is None when the plan skips the estimator here (``skip`` says why).
    """

    at: Point
    estimator: str
    key: tuple[int, int]  # (point, estimator) indices, for the seed
    pair: Pair | None
    exact: ExactCovariance | None
    skip: str | None = None
    coordinate: int | None = None  # explicit r(z1..zd): the checks are of mu_i, sigma_i
    limits: tuple[int, int] | None = None  # (fewest, most) samples; None: the usual
    # The exact Hermite moments of the control variates, computed only where the plain
    # checks fall short of the power (:func:`.sample_size.falls_short`).
    controls: Callable[[], tuple[HermiteMoments | None, HermiteMoments | None]] | None = None


def plan_streams(case: Case) -> list[Stream]:
    """Every stream of ``case``, with the exact moments computed (the expensive, exact part)."""
    if case.coordinates is not None:
        return _explicit_streams(case)
    derivation = derive_case(case)
    streams = []
    for point_index, at in enumerate(check_points(case)):
        point = exact_point(at)
        for estimator in planned_estimators(point_index):
            key = (point_index, ESTIMATOR_NAMES.index(estimator))
            reason = further_skip(derivation, estimator)
            if reason is not None:
                streams.append(Stream(at, estimator, key, None, None, reason))
                continue
            pair = (
                lifted_pair(derivation, estimator, point)
                if isinstance(derivation, DimensionDerivation)
                else estimator_pair(derivation, estimator, point)
            )
            exact = exact_stream(derivation, estimator, point, pair)
            controls = functools.partial(pair_hermite_moments, derivation, estimator, point, pair)
            streams.append(Stream(at, estimator, key, pair, exact, controls=controls))
        if point_index < loo_point_count(case):
            streams.append(_loo_stream(case, derivation, at, point_index))
    return streams


def _loo_stream(case: Case, derivation: Derivation, at: Point, point_index: int) -> Stream:
    """score_loo's stream of M-sample estimates at a reference point (:mod:`.loo_check`)."""
    point, samples = exact_point(at), loo_samples(case)
    pair = loo_pair(derivation, point, samples)
    exact = loo_exact(derivation, point, samples)
    key = (point_index, len(ESTIMATOR_NAMES))
    controls = functools.partial(loo_hermite, derivation, point, samples, pair)
    limits = loo_limits(pair, samples)
    return Stream(at, LOO_ESTIMATOR, key, pair, exact, limits=limits, controls=controls)


def _explicit_streams(case: Case) -> list[Stream]:
    """One stream per check point, coordinate and estimator of an explicit r(z1..zd).

    The seed key folds the coordinate into the point index, ``point * 8 + (i - 1)``
    (at most 8 coordinates), so every stream of the run has its own key.
    """
    assert case.coordinates is not None
    derivation = derive_explicit(case.r, case.coordinates.count)
    streams = []
    for point_index, at in enumerate(check_points(case)):
        point = exact_point(at)
        for index in case.coordinates.indices:
            view, local = derivation.coordinate(index), derivation.coordinate_point(point, index)
            for estimator in planned_estimators(point_index):
                key = (point_index * MAX_COORDINATES + index - 1, ESTIMATOR_NAMES.index(estimator))
                pair = explicit_pair(view, estimator, local)
                exact = exact_stream(view, estimator, local, pair)
                streams.append(Stream(at, estimator, key, pair, exact, coordinate=index))
    return streams


def exact_stream(
    derivation: Derivation, estimator: str, point: ExactPoint, pair: Pair
) -> ExactCovariance:
    """Both components' exact moments and their covariance, for one stream of ``pair``
    (its components size the sixth moments)."""
    mu, sigma = (
        exact_moments(derivation, estimator, parameter, point, component)
        for parameter, component in zip(GRADIENT_PARAMETERS, (pair.mu, pair.sigma), strict=True)
    )
    return exact_covariance(derivation, estimator, point, pair, mu, sigma)


def sample_cap(pair: Pair) -> int:
    """The most samples a stream is planned for: about the same number of normal draws for
    every stream, so a stream over d coordinates (d normal lanes per sample; one-coordinate
    streams have at most one) gets MAX_SAMPLES over d rounded up to a power of two, at
    least one chunk; its power column then says what was given up, as for any capped
    check.  (At d = 512 a stream of MIN_PLANNED samples would draw 2^30 normals, a minute
    or two on its own.)"""
    normals = sum(1 for kind in pair.noise if kind == "normal")
    divisor = 1 << max(normals - 1, 0).bit_length()
    return max(MAX_SAMPLES // divisor, CHUNK_SIZE)


@dataclass(frozen=True)
class _Planned:
    """One stream sized and ready to sample: its N, its robust statistics' names and
    block means (None when no check of the stream needs a sample)."""

    stream: Stream
    pair: Pair  # the stream's (a planned stream has one)
    samples: int
    names: list[tuple[int | None, str]]
    blocks: BlockMeans | None
    observe: bool
    hermite: HermiteSums | None = None  # the stream's control variates, where a check uses them


def _plan(stream: Stream, samples: int | None, t: float) -> _Planned | None:
    """Size one stream (``samples`` None: planned); None when the plan skips it."""
    if stream.exact is None or stream.pair is None:
        return None
    exact, pair = stream.exact, stream.pair
    if stream.limits is None:  # never fewer than MIN_PLANNED, unless the cap is lower
        cap = sample_cap(pair)
        low = min(MIN_PLANNED, cap)
    else:
        low, cap = stream.limits
    components = (exact.mu, exact.sigma)
    n = stream_samples(components, t, low, cap) if samples is None else samples
    # Planned: short when the plain plan needs more than the fewest (falls_short's rule,
    # without sizing the stream twice).
    short = stream.controls is not None and (
        n > low if samples is None else falls_short(components, t, samples, low, cap)
    )
    if short:
        assert stream.controls is not None
        exact = with_hermite(exact, stream.controls())
        stream = replace(stream, exact=exact)
        components = (exact.mu, exact.sigma)
        n = stream_samples(components, t, low, cap) if samples is None else samples
    names, statistics = _robust_statistics(exact, n, t)
    wanted = [covariance_skip(exact, n, t) is None]
    wanted += [reason is None for m in components for reason in planned_skips(m, n, t).values()]
    if not any(wanted):
        return _Planned(stream, pair, n, names, None, False)
    blocks = BlockMeans(n, robust_blocks(t), statistics)
    plans = [variance_controls(m, n, t) for m in components]
    copies = [plan.copies for plan in plans if plan is not None]
    return _Planned(
        stream,
        pair,
        n,
        names,
        blocks,
        bool(statistics) and n >= blocks.blocks,
        HermiteSums(copies[0]) if copies else None,
    )


def with_hermite(
    exact: ExactCovariance, hermite: tuple[HermiteMoments | None, HermiteMoments | None]
) -> ExactCovariance:
    """``exact`` with the Hermite moments of its two components' control variates."""
    mu, sigma = (
        replace(m, hermite=h) for m, h in zip((exact.mu, exact.sigma), hermite, strict=True)
    )
    return replace(exact, mu=mu, sigma=sigma)


def _without_controls(stream: Stream) -> Stream:
    """``stream`` checked without control variates (its noise is not seen)."""
    return replace(stream, controls=None)


def run_streams(
    case_name: str,
    streams: list[Stream],
    samples: int | None,
    seed: int,
    t: float,
    draw: Callable[[list[Draw]], list[PairMoments]] | None = None,
) -> list[Check]:
    """The five checks of every stream: size each, sample the point's shared noise once
    per group (:mod:`verify.montecarlo.shared_noise`), judge each.

    ``draw``, when given, supplies the samples instead: the pair moments of each
    :class:`~verify.montecarlo.shared_noise.Draw`, whose observer (the median-of-means
    blocks) must see every sample in order (:mod:`verify.testing` judges samples that
    another library drew); the noise is then not seen, so no control variates are used.
    """
    if draw is not None:
        streams = [_without_controls(stream) for stream in streams]
    planned = [_plan(stream, samples, t) for stream in streams]
    sampled = [p for p in planned if p is not None and p.blocks is not None]
    draws = [
        Draw(p.stream.key, p.pair, p.samples, p.blocks if p.observe else None, p.hermite)
        for p in sampled
    ]
    moments = sample_streams(case_name, draws, seed) if draw is None else draw(draws)
    drawn = iter(moments)  # in the order of ``sampled``
    checks: list[Check] = []
    for stream, plan in zip(streams, planned, strict=True):
        if plan is None:
            checks += _skipped(stream, MIN_PLANNED if samples is None else samples, t)
        else:
            checks += _judged(plan, next(drawn) if plan.blocks is not None else None, t)
    return checks


def _judged(plan: _Planned, sample: PairMoments | None, t: float) -> list[Check]:
    """The five checks of one sized stream, given its sample (None: none was needed)."""
    exact, n = plan.stream.exact, plan.samples
    assert exact is not None
    means = {}
    if sample is not None and plan.blocks is not None and plan.observe:
        means = dict(zip(plan.names, plan.blocks.means(), strict=False))
    parts = (None, None) if sample is None else (sample.mu, sample.sigma)
    controls = None if plan.hermite is None or sample is None else plan.hermite.means()
    outcomes: list[Outcome] = []
    for index, (moments, part) in enumerate(zip((exact.mu, exact.sigma), parts, strict=True)):
        mine = {statistic: m for (i, statistic), m in means.items() if i == index}
        mean, variance = judge(moments, part, n, t, mine, controls)
        if variance.test in ("z", "median_of_means"):
            variance = replace(variance, power=round(variance_power(moments, n, t), 6))
        outcomes += [mean, variance]
    outcomes.append(judge_covariance(exact, sample, n, t, means.get((None, "covariance"))))
    return _checks(plan.stream, outcomes, n, t)


def _robust_statistics(
    exact: ExactCovariance, samples: int, t: float
) -> tuple[list[tuple[int | None, str]], list[BlockStatistic]]:
    """The checks of a stream that need median-of-means blocks, and their statistics."""
    names: list[tuple[int | None, str]] = []
    statistics: list[BlockStatistic] = []
    for index, moments in enumerate((exact.mu, exact.sigma)):
        skips, robust = planned_skips(moments, samples, t), robust_reasons(moments, samples, t)
        for statistic, function in block_statistics(moments, index).items():
            if skips[statistic] is None and robust[statistic] is not None:
                names.append((index, statistic))
                statistics.append(function)
    if covariance_robust_reason(exact, samples, t) is not None:
        names.append((None, "covariance"))
        statistics.append(product_statistic(float(exact.mu.mean), float(exact.sigma.mean)))
    return names, statistics


def _skipped(stream: Stream, samples: int, t: float) -> list[Check]:
    """Every check of a stream the plan skips, with its reason and no exact value."""
    reason = stream.skip or "not planned"
    statistics = [s for _ in GRADIENT_PARAMETERS for s in STATISTICS] + ["covariance"]
    return _checks(stream, [Outcome(s, None, reason=reason) for s in statistics], samples, t)


def _checks(stream: Stream, outcomes: list[Outcome], samples: int, t: float) -> list[Check]:
    suffix = "" if stream.coordinate is None else str(stream.coordinate)
    joint = JOINT if not suffix else ",".join(p + suffix for p in GRADIENT_PARAMETERS)
    parameters = [p + suffix for p in GRADIENT_PARAMETERS for _ in STATISTICS] + [joint]
    return [
        Check(stream.at, stream.estimator, parameter, outcome, t, samples)
        for parameter, outcome in zip(parameters, outcomes, strict=True)
    ]


def check_case(
    case: Case,
    *,
    samples: int | None = None,
    seed: int = DEFAULT_SEED,
    family_size: int | None = None,
    perturb: Mapping[str, float] | None = None,
) -> CaseCheckResult:
    """Run every Monte Carlo check and settle every claim of ``case``.

    ``samples`` None plans each stream's N (:mod:`verify.montecarlo.sample_size`); a number fixes
    it.  ``perturb`` multiplies exact values before anything else (see :mod:`.perturb`).
    """
    t = threshold(count_checks(case) if family_size is None else family_size)
    streams = plan_streams(case)
    if perturb:
        streams = [
            s if s.exact is None else dataclasses.replace(s, exact=perturbed(s.exact, perturb))
            for s in streams
        ]
    checks = run_streams(case.name, streams, samples, seed, t)
    if case.coordinates is not None:  # explicit r(z1..zd): no claims, no score_loo yet
        return CaseCheckResult(case.name, tuple(checks), ())
    claims = check_claims(case, derive_case(case))
    return CaseCheckResult(case.name, tuple(checks), claims)
