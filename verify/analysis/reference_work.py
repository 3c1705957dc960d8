"""The work-normalized comparison a report shows at its reference point.

Contract: :func:`reference_work` takes a case's exact result at one point (the six
single-sample estimators) and adds ``score_loo`` at the case's M
(:func:`verify.analysis.work.budget_of`: ``[estimate] samples``, else 4), the
:class:`~verify.analysis.work.Work` at the case's derivative cost, and score_loo's
forms in M (:mod:`verify.analysis.loo_form`).  :func:`lowest_per_sample` and
:func:`most_efficient` name the unbiased estimator with the least single-sample
variance and the least variance x cost per estimate; :func:`efficiency_ranking`
orders every estimator by variance x cost.  Values within :data:`TIE_RELATIVE`
of each other are a tie.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mpmath

from verify.analysis.loo_form import LooForm, loo_forms
from verify.analysis.work import Work, budget_of, work_at
from verify.cases.budget import LOO_ESTIMATOR
from verify.cases.case import Case
from verify.exact.evaluation import ExactPoint
from verify.exact.leave_one_out import with_score_loo
from verify.exact.moment_source import MomentSource
from verify.exact.numbers import Number
from verify.exact.results import PointResult

TIE_RELATIVE = mpmath.mpf("1e-12")


@dataclass(frozen=True)
class ReferenceWork:
    """One point: the result with score_loo at M, its work, and score_loo's forms in M."""

    result: PointResult
    work: Work
    forms: list[LooForm]

    def unbiased(self, parameter: str) -> list[str]:
        """Estimators whose mean is the gradient component (bias reported as 0)."""
        return [e for e in self.result.means if self.result.bias(e, parameter).as_json() == 0.0]


def reference_work(
    case: Case, source: MomentSource, point: ExactPoint, result: PointResult
) -> ReferenceWork:
    """``result`` with score_loo at the case's M, and the work at the case's costs."""
    samples, derivative_cost = budget_of(case)
    full = with_score_loo(result, source, point, samples)
    return ReferenceWork(full, work_at(full, samples, derivative_cost), loo_forms(source, point))


def least(values: Mapping[str, Number], candidates: list[str]) -> list[str]:
    """The candidates with the least finite value (several on a tie); [] if none is finite."""
    finite = {e: values[e].value for e in candidates if mpmath.isfinite(values[e].value)}
    if not finite:
        return []
    smallest = min(finite.values())
    return [e for e, v in finite.items() if v - smallest <= TIE_RELATIVE * abs(smallest)]


def lowest_per_sample(work: ReferenceWork, parameter: str) -> list[str]:
    """The unbiased single-sample estimators with the least variance (score_loo excluded:
    its variance is that of M samples)."""
    candidates = [e for e in work.unbiased(parameter) if e != LOO_ESTIMATOR]
    variances = {e: work.result.variances[e][parameter] for e in candidates}
    return least(variances, candidates)


def most_efficient(work: ReferenceWork, parameter: str) -> list[str]:
    """The unbiased estimators with the least variance x cost per estimate."""
    efficiency = {e: work.work.efficiency[e][parameter] for e in work.result.means}
    return least(efficiency, work.unbiased(parameter))


def efficiency_ranking(work: ReferenceWork, parameter: str) -> list[str]:
    """Every estimator by variance x cost, least first (nan last; ties in table order)."""
    names = list(work.result.means)

    def key(estimator: str) -> tuple[bool, mpmath.mpf]:
        value = work.work.efficiency[estimator][parameter].value
        return (bool(mpmath.isnan(value)), mpmath.mpf(0) if mpmath.isnan(value) else value)

    return sorted(names, key=key)
