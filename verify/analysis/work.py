"""Variance per unit of work at one point: cost, efficiency, samples needed, crossover in M.

Contract: :func:`work_at` is a pure function of an exact
:class:`~verify.exact.results.PointResult` (with ``score_loo`` at M added,
:func:`verify.exact.leave_one_out.with_score_loo`), M and the derivative cost; it
returns a :class:`Work` whose numbers are certified :class:`~verify.exact.numbers.Number`
balls or integers decided in balls.  ``verify evaluate --json``
(:mod:`verify.api.work`) and the reports (:mod:`verify.reporting.markdown_work`) both
print it, so the two cannot disagree.

- **Cost** (:func:`verify.cases.budget.cost_per_sample`): evaluations of r per sample.
- **Efficiency**: variance x cost per estimate, Glynn and Whitt's work-normalized
  variance: single-sample variance x cost for the single-sample estimators (an
  M-sample average has variance Var / M, so this does not depend on M), and for
  ``score_loo`` its M-sample variance x (M x 1).
- **Samples needed** for a relative standard error of 10% on each component:
  n = ceil(Var / (0.01 grad**2)) with Var the single-sample variance; for
  ``score_loo``, M times the number of M-sample estimates ceil(Var_M / (0.01 grad**2)).
  None (with a note saying why) where the gradient is 0 (any n gives an infinite
  relative error), where the variance is infinite or undefined, or where the ball of
  Var / grad**2 does not decide the ceiling.  Evaluations needed: n x cost.
- **Crossover in M at equal work** (:func:`crossover_in_samples`): the least M >= 2 at
  which M Var_loo(M) (score_loo's M samples cost M evaluations of r) is below
  c Var_pathwise, or None.  Exact: M Var_loo(M) = V + X / (M - 1) with V =
  score_baseline_mean's variance (the limit) and X = D Var[r] + B**2 >= 0
  (:mod:`verify.exact.leave_one_out`), so it decreases in M and
  M* = max(2, floor(X / (c Var_pw - V)) + 2) when c Var_pw > V; X is recovered from
  the evaluated M as (M Var_loo(M) - V)(M - 1), in balls.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
from flint import arb

from verify.cases import budget
from verify.cases.budget import (
    DEFAULT_DERIVATIVE_COST,
    DEFAULT_SAMPLES,
    LOO_ESTIMATOR,
    cost_per_sample,
)
from verify.cases.case import Case, CaseError
from verify.cases.fields import Invalid
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.balls import working_precision
from verify.exact.numbers import RADIUS_PRECISION, WORKING_DIGITS, Number
from verify.exact.results import PointResult

INVERSE_SQUARED_ERROR = 100  # 1 / 0.1**2: a relative standard error of 10%


@dataclass(frozen=True)
class Work:
    """The work-normalized comparison at one point (see the module docstring)."""

    samples: int  # M, the samples of one score_loo estimate
    derivative_cost: float
    costs: dict[str, float]  # evaluations of r per sample
    efficiency: dict[str, dict[str, Number]]  # variance x cost per estimate
    needed: dict[str, dict[str, int | None]]  # samples for a 10% relative error
    evaluations: dict[str, dict[str, float | int | None]]  # needed x cost
    notes: dict[str, str]  # "<estimator>.samples_needed.<theta>": why needed is None
    crossover: dict[str, int | None]  # least M where score_loo beats pathwise at equal work

    def cost_per_estimate(self, estimator: str) -> float:
        """Evaluations of r one estimate costs: M for score_loo, the cost per sample else."""
        return cost_per_estimate(estimator, self.samples, self.derivative_cost)


def cost_per_estimate(estimator: str, samples: int, derivative_cost: float) -> float:
    """Evaluations of r one estimate of ``estimator`` costs: M (``samples``) for score_loo,
    its cost per sample else.

    >>> cost_per_estimate("pathwise", 4, 2.0), cost_per_estimate("score_loo", 4, 2.0)
    (2.0, 4.0)
    """
    return cost_per_sample(estimator, derivative_cost) * (
        samples if estimator == LOO_ESTIMATOR else 1
    )


def work_costs(estimators: list[str], derivative_cost: float) -> dict[str, float]:
    """Evaluations of r per sample (for ``score_loo`` too: it does not depend on M)."""
    return {e: cost_per_sample(e, derivative_cost) for e in estimators}


def scaled_by(variance: Number, factor: float) -> Number:
    """``variance * factor`` for a factor exact in binary (a float is exact in arb)."""
    with mpmath.workdps(WORKING_DIGITS):
        value = variance.value * factor
    if variance.ball is None or not mpmath.isfinite(value):
        return Number(value, variance.method, variance.ball and arb(0))
    with working_precision(RADIUS_PRECISION):
        return Number.of(variance.ball * arb(factor), variance.method)


def divided_by(variance: Number, samples: int) -> Number:
    """``variance / samples``, the variance of an average of ``samples`` estimates."""
    with mpmath.workdps(WORKING_DIGITS):
        value = variance.value / samples
    if variance.ball is None or not mpmath.isfinite(value):
        return Number(value, variance.method, variance.ball and arb(0))
    with working_precision(RADIUS_PRECISION):
        return Number.of(variance.ball / samples, variance.method)


def samples_needed(variance: Number, gradient: Number) -> tuple[int | None, str]:
    """(n, note): n = ceil(Var / (0.01 grad**2)), decided in balls; None with the reason."""
    if not mpmath.isfinite(variance.value):
        return None, "the variance is infinite or undefined"
    if not mpmath.isfinite(gradient.value):
        return None, "the gradient is not finite"
    if gradient.value == 0:
        return None, "the gradient is 0: no sample size gives a 10% relative error"
    if variance.ball is None or gradient.ball is None:
        return None, "no certified bound on the variance or the gradient"
    with working_precision(RADIUS_PRECISION):
        if gradient.ball.contains(0):
            return None, "the gradient is not certified to be nonzero"
        ratio = INVERSE_SQUARED_ERROR * variance.ball / gradient.ball**2
        whole = _decided(ratio.lower().ceil(), ratio.upper().ceil())
        if whole is None:
            return None, "Var / (0.01 grad^2) is within its radius of an integer"
        return max(whole, 1), ""


def _decided(low: arb, high: arb) -> int | None:
    """The integer both ends of a ball round to, or None when they differ."""
    whole = low.unique_fmpz() if low == high and low.is_exact() else None
    return None if whole is None else int(whole)


def _whole(value: float) -> float | int:
    return int(value) if value.is_integer() else value


def work_at(result: PointResult, samples: int, derivative_cost: float) -> Work:
    """Cost, efficiency, samples needed and the crossover in M at ``result``'s point."""
    names = list(result.means)
    costs = work_costs(names, derivative_cost)
    per_estimate = {e: cost_per_estimate(e, samples, derivative_cost) for e in names}
    efficiency = {
        e: {p: scaled_by(result.variances[e][p], per_estimate[e]) for p in GRADIENT_PARAMETERS}
        for e in names
    }
    needed: dict[str, dict[str, int | None]] = {}
    evaluations: dict[str, dict[str, float | int | None]] = {}
    notes: dict[str, str] = {}
    for e in names:
        needed[e], evaluations[e] = {}, {}
        for p in GRADIENT_PARAMETERS:
            n, note = samples_needed(result.variances[e][p], result.gradient[p])
            if n is not None and e == LOO_ESTIMATOR:
                n *= samples  # n estimates of M samples each
            needed[e][p] = n
            evaluations[e][p] = None if n is None else _whole(n * costs[e])
            if note:
                notes[f"{e}.samples_needed.{p}"] = note
    crossover = crossover_in_samples(result, samples, costs["pathwise"])
    return Work(samples, derivative_cost, costs, efficiency, needed, evaluations, notes, crossover)


def budget_of(
    case: Case, samples: object | None = None, derivative_cost: object | None = None
) -> tuple[int, float]:
    """(M, derivative cost): the arguments, else the case's, else the defaults; validated."""
    try:
        m = DEFAULT_SAMPLES if case.budget.samples is None else case.budget.samples
        if samples is not None:
            m = budget.samples(samples, "samples_per_estimate")
        c = DEFAULT_DERIVATIVE_COST
        if case.budget.derivative_cost is not None:
            c = case.budget.derivative_cost
        if derivative_cost is not None:
            c = budget.derivative_cost(derivative_cost, "derivative_cost")
    except Invalid as invalid:
        raise CaseError(str(case.path), *invalid.args) from None
    return m, c


def crossover_in_samples(
    result: PointResult, samples: int, pathwise_cost: float
) -> dict[str, int | None]:
    """The least M at which score_loo beats pathwise at equal work (see the docstring)."""
    crossings: dict[str, int | None] = {}
    for p in GRADIENT_PARAMETERS:
        loo = result.variances[LOO_ESTIMATOR][p]
        limit = result.variances["score_baseline_mean"][p]
        pathwise = result.variances["pathwise"][p]
        finite = all(mpmath.isfinite(n.value) for n in (loo, limit, pathwise))
        crossings[p] = None
        loo_ball, limit_ball, pathwise_ball = loo.ball, limit.ball, pathwise.ball
        if not finite or loo_ball is None or limit_ball is None or pathwise_ball is None:
            continue
        with working_precision(RADIUS_PRECISION):
            excess = (samples * loo_ball - limit_ball) * (samples - 1)
            gap = pathwise_ball * arb(pathwise_cost) - limit_ball
            if not gap > 0:  # never (or not decided): M Var_loo(M) > V >= c Var_pw
                continue
            quotient = excess / gap
            whole = _decided(quotient.lower().floor(), quotient.upper().floor())
            if whole is not None:
                crossings[p] = max(2, whole + 2)
    return crossings
