"""Samples per estimate, cost and work: the ``verify evaluate --json`` keys of issue 12.

Contract: :func:`work_json` extends the evaluate record (:mod:`verify.exact.results`,
whose keys are unchanged) with

    "estimators": {..., "score_loo": {"samples": M,          # the M-sample estimate
                                      "mean": {"mu": num, "sigma": num},
                                      "variance": {"mu": num, "sigma": num},
                                      "covariance": {"mu_sigma": num, "matrix": [[..], [..]],
                                                     "trace": num}}},
    "samples_per_estimate": M, "derivative_cost": c,
    "cost": {estimator: c},                  # evaluations of r per sample
    "efficiency": {estimator: {"mu": num, "sigma": num}},
    "samples_needed": {estimator: {"mu": n | null, "sigma": n | null}},
    "evaluations_needed": {estimator: {"mu": n | null, "sigma": n | null}},
    "notes": {"<estimator>.samples_needed.<theta>": str},  # why an n is null
    "score_loo_beats_pathwise_from": {"mu": M* | null, "sigma": M* | null}

``score_loo`` (:mod:`verify.exact.leave_one_out`) is reported at M samples: its
variance is that of one M-sample estimate, and it also appears in ``"methods"``,
``"radius"`` (``score_loo.mean.mu``, ``score_loo.variance.mu``, ``score_loo.covariance``,
``score_loo.trace``, ``score_loo.bias.mu``, ...) and ``"bias"`` like every estimator.
Costs are those of :func:`verify.cases.budget.cost_per_sample`.  Efficiency is
variance x cost per estimate, Glynn and Whitt's work-normalized variance: the
single-sample variance x cost for the single-sample estimators (the variance of an
M-sample average is the single-sample variance / M, so this does not depend on M),
and for ``score_loo`` its M-sample variance x (M x 1); ``"radius"`` has
``efficiency.<estimator>.<theta>``.  ``samples_needed`` is the number of samples n
for a relative standard error of 10% on each gradient component,
n = ceil(Var / (0.01 grad**2)) with Var the single-sample variance; for ``score_loo``,
M times the number of M-sample estimates, ceil(Var_M / (0.01 grad**2)).
``evaluations_needed`` is n x cost.  Both are null where the gradient is 0 (any n
gives an infinite relative error), where the variance is infinite or undefined, or
where the ball of Var / grad**2 does not decide the ceiling; ``"notes"`` says which.

``score_loo_beats_pathwise_from`` is the crossover in M at equal work: the least
M >= 2 at which M Var_loo(M) (score_loo's M samples cost M evaluations of r) is below
c Var_pathwise (pathwise at the same evaluations), or null where no M is.  Exact: from
the formula, M Var_loo(M) = V + X / (M - 1) with V = score_baseline_mean's variance
(the limit) and X = D Var[r] + B**2 >= 0, so it decreases in M and
M* = max(2, floor(X / (c Var_pw - V)) + 2) when c Var_pw > V; X is recovered from the
reported M as (M Var_loo(M) - V)(M - 1), in balls.
"""

from __future__ import annotations

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
        low, high = ratio.lower().ceil(), ratio.upper().ceil()
        whole = low.unique_fmpz() if low == high and low.is_exact() else None
        if whole is None:
            return None, "Var / (0.01 grad^2) is within its radius of an integer"
        return max(int(whole), 1), ""


def _whole(value: float) -> float | int:
    return int(value) if value.is_integer() else value


def work_json(
    record: dict[str, object], result: PointResult, samples: int, derivative_cost: float
) -> dict[str, object]:
    """The keys above, to merge into the record (``record``'s score_loo entry gains M)."""
    estimators = record["estimators"]
    assert isinstance(estimators, dict)
    estimators[LOO_ESTIMATOR] = {"samples": samples, **estimators[LOO_ESTIMATOR]}
    names = list(result.means)
    costs = work_costs(names, derivative_cost)
    per_estimate = {e: costs[e] * (samples if e == LOO_ESTIMATOR else 1) for e in names}
    efficiencies = {
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
    radius = record["radius"]
    assert isinstance(radius, dict)
    for e, table in efficiencies.items():
        radius.update({f"efficiency.{e}.{p}": n.radius for p, n in table.items()})
    return {
        "samples_per_estimate": samples,
        "derivative_cost": derivative_cost,
        "cost": costs,
        "efficiency": {e: {p: n.as_json() for p, n in t.items()} for e, t in efficiencies.items()},
        "samples_needed": needed,
        "evaluations_needed": evaluations,
        "notes": notes,
        "score_loo_beats_pathwise_from": crossover_in_samples(result, samples, costs["pathwise"]),
    }


def budget_of(
    case: Case, samples: object | None, derivative_cost: object | None
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
            low, high = quotient.lower().floor(), quotient.upper().floor()
            whole = low.unique_fmpz() if low == high and low.is_exact() else None
            if whole is not None:
                crossings[p] = max(2, int(whole) + 2)
    return crossings
