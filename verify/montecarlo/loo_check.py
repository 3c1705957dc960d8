"""score_loo inside ``verify check``: its Monte Carlo checks at the case's M.

The contract: :func:`loo_checks` returns the five :class:`~verify.montecarlo.check_records.Check`
records of ``score_loo`` (mean and variance of each component, their covariance) at
the case's reference point with its first parameter combination, at M = the case's
``[estimate] samples`` (else :data:`~verify.cases.budget.DEFAULT_SAMPLES`), from
:data:`ESTIMATES` seeded M-sample estimates (fewer when M is large, so at most
:data:`MAX_DRAWS` normal draws).  Exact values come from
:mod:`verify.exact.leave_one_out`.

Thresholds.  An exact fourth moment of the M-sample estimator (needed for a z-test on
its variance) is an order-8 compound over the index patterns of four samples and is
not derived.  So these checks use the batch design of
:mod:`verify.montecarlo.leave_one_out`: the mean by a z-score with the exact variance
of one estimate, the variances and covariance by Student's t over
:data:`~verify.montecarlo.leave_one_out.BATCHES` batch statistics, each accepted when
|score| <= :data:`~verify.montecarlo.leave_one_out.T_MAX` = 6 (a two-sided false
alarm below 1e-6 per statistic; the batch statistics are averages of thousands of
terms, approximately normal when the fourth moment is finite).  These five checks
carry that fixed threshold rather than the run's Bonferroni one, and
``--perturb`` does not touch them.  Skipped, with a reason: d-dimensional cases, and
points where a variance is 0, or the score function's fourth moment is not finite.
"""

from __future__ import annotations

import mpmath
import sympy

from verify.cases.budget import DEFAULT_SAMPLES, LOO_ESTIMATOR
from verify.cases.case import Case
from verify.cases.estimators import ESTIMATOR_NAMES
from verify.cases.points import Point
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.derivation import Derivation
from verify.exact.dimension import DimensionDerivation, derive_case
from verify.exact.evaluation import ExactPoint, evaluate_expectation, exact_point
from verify.exact.leave_one_out import with_score_loo
from verify.exact.numbers import Number
from verify.exact.results import PointResult, evaluate_point
from verify.montecarlo.check_plan import check_points
from verify.montecarlo.check_records import JOINT, Check
from verify.montecarlo.engine import stream_seed
from verify.montecarlo.leave_one_out import BATCHES, T_MAX, LooOutcome, check_loo, loo_estimates
from verify.montecarlo.noise import FloatArray
from verify.montecarlo.outcome import Outcome

ESTIMATES = 2**18
MAX_DRAWS = 2**22  # normal draws per case: ESTIMATES x M, capped
MIN_ESTIMATES = 2**12  # fewer and the batch statistics are too short to be normal
STATISTICS = [("mean", p) for p in GRADIENT_PARAMETERS] + [
    ("variance", p) for p in GRADIENT_PARAMETERS
]


def loo_exact(derivation: Derivation, point: ExactPoint, samples: int) -> PointResult:
    """The exact mean, variances and covariance of score_loo at ``samples`` = M."""
    base = evaluate_point(derivation, point, ("score",))
    return with_score_loo(base, derivation, point, samples)


def _skip_reason(derivation: Derivation, point: ExactPoint, exact: PointResult) -> str | None:
    for p in GRADIENT_PARAMETERS:
        variance = exact.variances[LOO_ESTIMATOR][p].value
        if not mpmath.isfinite(variance):
            return "the variance of score_loo is not finite here"
        if variance == 0:
            return "the variance of score_loo is 0 here (nothing to sample)"
        fourth = evaluate_expectation(derivation.raw_moment("score", p, 4), point)
        if not mpmath.isfinite(fourth.value):
            return "the fourth moment is not finite: the batch statistics are not normal"
    return None


def judge_loo(
    exact: PointResult, draws: dict[str, FloatArray], batches: int = BATCHES
) -> list[tuple[LooOutcome, Number]]:
    """Each statistic's outcome with the exact number it was compared with."""
    means = {p: float(exact.means[LOO_ESTIMATOR][p].value) for p in GRADIENT_PARAMETERS}
    numbers = {p: exact.variances[LOO_ESTIMATOR][p] for p in GRADIENT_PARAMETERS}
    variances = {p: float(n.value) for p, n in numbers.items()}
    cross = exact.covariances[LOO_ESTIMATOR]
    outcomes = check_loo(draws, means, variances, float(cross.value), batches)
    compared = [exact.means[LOO_ESTIMATOR][p] for p in GRADIENT_PARAMETERS]
    compared += [numbers[p] for p in GRADIENT_PARAMETERS] + [cross]
    return list(zip(outcomes, compared, strict=True))


def _check(at: Point, outcome: LooOutcome, number: Number, estimates: int) -> Check:
    statistic, _, parameter = outcome.statistic.partition(".")
    batch = statistic != "mean"
    made = Outcome(
        statistic,
        number,
        monte_carlo=outcome.sample,
        z=outcome.score,
        bounds=(-T_MAX, T_MAX),
        passed=outcome.passed,
        test="batch_t" if batch else "z",
        blocks=BATCHES if batch else None,
    )
    return Check(at, LOO_ESTIMATOR, parameter or JOINT, made, T_MAX, estimates)


def _skipped(at: Point, reason: str, estimates: int) -> list[Check]:
    parameters = [p for _, p in STATISTICS] + [JOINT]
    statistics = [s for s, _ in STATISTICS] + ["covariance"]
    return [
        Check(at, LOO_ESTIMATOR, p, Outcome(s, None, reason=reason), T_MAX, estimates)
        for s, p in zip(statistics, parameters, strict=True)
    ]


def loo_checks(case: Case, seed: int) -> list[Check]:
    """The five score_loo checks of ``case`` (see the module docstring)."""
    samples = case.budget.samples or DEFAULT_SAMPLES
    estimates = min(ESTIMATES, MAX_DRAWS // samples)
    at = check_points(case)[0]
    derivation = derive_case(case)
    if isinstance(derivation, DimensionDerivation):
        return _skipped(at, "d-dimensional case: score_loo is checked in one coordinate", 0)
    if estimates < MIN_ESTIMATES:
        return _skipped(at, f"M = {samples} is too large to sample here", estimates)
    point = exact_point(at)
    exact = loo_exact(derivation, point, samples)
    reason = _skip_reason(derivation, point, exact)
    if reason is not None:
        return _skipped(at, reason, estimates)
    key = stream_seed(seed, case.name, 0, len(ESTIMATOR_NAMES)).generate_state(1)[0]
    r = sympy.sympify(derivation.r)
    draws = loo_estimates(r, point, samples, estimates, int(key))
    return [_check(at, o, n, estimates) for o, n in judge_loo(exact, draws)]
