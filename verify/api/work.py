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
``score_loo.trace``, ``score_loo.bias.mu``, ...) and ``"bias"`` like every estimator;
``"radius"`` also has ``efficiency.<estimator>.<theta>``.  The numbers are computed by
:func:`verify.analysis.work.work_at` (cost, efficiency, samples needed, the crossover
in M; its docstring has the definitions), which the reports print too; this module
only lays them out as JSON.
"""

from __future__ import annotations

from verify.analysis.work import budget_of, divided_by, work_at
from verify.cases.budget import LOO_ESTIMATOR
from verify.exact.results import PointResult

__all__ = ["budget_of", "divided_by", "work_json"]


def work_json(
    record: dict[str, object], result: PointResult, samples: int, derivative_cost: float
) -> dict[str, object]:
    """The keys above, to merge into the record (``record``'s score_loo entry gains M)."""
    estimators = record["estimators"]
    assert isinstance(estimators, dict)
    estimators[LOO_ESTIMATOR] = {"samples": samples, **estimators[LOO_ESTIMATOR]}
    work = work_at(result, samples, derivative_cost)
    radius = record["radius"]
    assert isinstance(radius, dict)
    for e, table in work.efficiency.items():
        radius.update({f"efficiency.{e}.{p}": n.radius for p, n in table.items()})
    return {
        "samples_per_estimate": samples,
        "derivative_cost": derivative_cost,
        "cost": work.costs,
        "efficiency": {
            e: {p: n.as_json() for p, n in t.items()} for e, t in work.efficiency.items()
        },
        "samples_needed": work.needed,
        "evaluations_needed": work.evaluations,
        "notes": work.notes,
        "score_loo_beats_pathwise_from": work.crossover,
    }
