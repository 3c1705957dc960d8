"""What a gradient estimate costs: samples per estimate and evaluations of r per sample.

Contract: a case may say how many samples an estimate averages and what a derivative
costs, in two optional tables (validated here, one :class:`~verify.cases.fields.Invalid`
line for bad input):

    [estimate]
    samples = 4        # M, an integer >= 2: the samples score_loo averages over
    [cost]
    derivative = 3     # evaluations of r that one evaluation of r' costs (>= 0)

The cost model (:func:`cost_per_sample`), in evaluations of r per sample: the score
function and its baselines 1 (the leave-one-out baseline ``score_loo`` too: it reuses
the other samples' r), the pathwise estimator ``derivative`` (r' costs that many
evaluations of r; default :data:`DEFAULT_DERIVATIVE_COST`), the measure-valued
estimators 4 (two evaluations of r per component).  Efficiency is variance x cost,
Glynn and Whitt's work-normalized variance (Glynn and Whitt 1992, "The asymptotic
efficiency of simulation estimators", Operations Research 40(3)).

>>> cost_per_sample("pathwise", 3), cost_per_sample("measure_valued", 3)
(3.0, 4.0)
>>> try:
...     parse_budget({"samples": 1}, None)
... except fields.Invalid as invalid:
...     invalid.args[0]
'estimate.samples'
"""

from __future__ import annotations

from dataclasses import dataclass

from verify.cases import fields

DEFAULT_SAMPLES = 4  # M for score_loo when neither the case nor the caller says
DEFAULT_DERIVATIVE_COST = 2.0  # evaluations of r per evaluation of r' (a backward pass)
LOO_ESTIMATOR = "score_loo"  # the M-sample score function with leave-one-out baseline
MAX_SAMPLES = 10**9

_COST_OF_R = {
    "score": 1.0,
    "score_baseline_mean": 1.0,
    "score_baseline_optimal": 1.0,
    LOO_ESTIMATOR: 1.0,
    "measure_valued": 4.0,
    "measure_valued_coupled": 4.0,
}


@dataclass(frozen=True)
class Budget:
    """A case's ``[estimate] samples`` and ``[cost] derivative``; None where not given."""

    samples: int | None = None
    derivative_cost: float | None = None


NO_BUDGET = Budget()


def cost_per_sample(estimator: str, derivative_cost: float = DEFAULT_DERIVATIVE_COST) -> float:
    """Evaluations of r one sample of ``estimator`` costs (see the module docstring)."""
    if estimator == "pathwise":
        return float(derivative_cost)
    return _COST_OF_R[estimator]


def samples(value: object, where: str) -> int:
    """M: an integer (not a float or boolean) with 2 <= M <= 10**9."""
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            raise fields.Invalid(where, f"must be an integer, got the float {value!r}")
        raise fields.Invalid(where, f"must be an integer >= 2, got {fields.kind(value)}")
    if value < 2:
        raise fields.Invalid(
            where,
            f"must be at least 2 (the leave-one-out baseline needs another sample), got {value}",
        )
    if value > MAX_SAMPLES:
        raise fields.Invalid(where, f"must be at most {MAX_SAMPLES}, got {value}")
    return value


def derivative_cost(value: object, where: str) -> float:
    """A finite number >= 0 of evaluations of r."""
    cost = fields.number(value, where)
    if cost < 0:
        raise fields.Invalid(where, f"must be >= 0 (evaluations of r), got {cost:g}")
    return cost


def parse_budget(estimate: object, cost: object) -> Budget:
    """The ``[estimate]`` and ``[cost]`` tables of a case file (each may be absent)."""
    estimate_table = fields.table(estimate, "estimate", ("samples",))
    cost_table = fields.table(cost, "cost", ("derivative",))
    return Budget(
        samples=None
        if "samples" not in estimate_table
        else samples(estimate_table["samples"], "estimate.samples"),
        derivative_cost=None
        if "derivative" not in cost_table
        else derivative_cost(cost_table["derivative"], "cost.derivative"),
    )
