"""Claims in case files (``[[claims]]``), settled by exact evaluation: "holds" or "refuted".

The contract:

- An ``equals`` claim (``quantity = "<name>"``, ``equals = "<formula>"``) holds when the
  derived quantity equals the formula at every point of the case's domain (mu and
  sigma in their intervals, each parameter at one of its listed values).  It is checked
  twice.  Symbolically: ``simplify(derived - claimed) == 0`` after rewriting complex
  exponentials as real functions, attempted only when the difference has at most
  :data:`~verify.cases.formulas.SIMPLIFY_MAX_OPS` operations (bounded by size, never by wall
  clock, so the verdict is reproducible).  Numerically: a derandomised hypothesis search
  for a point where the two differ, both evaluated at 50 digits, beyond a relative
  :data:`RELATIVE_TOLERANCE` (values below :data:`ABSOLUTE_FLOOR` count as zero; that
  is the 30 reported digits).  Any numeric difference refutes the claim, whatever the
  symbolic step said (a proof shortens the search to a cross-check of the evaluation,
  :data:`PROVED_SEARCH_EXAMPLES` points); without a symbolic proof (no closed form, too
  large, or simplify did not reach 0) a claim that survives the search of
  :data:`SEARCH_EXAMPLES` points holds with the note ``"holds (numerically)"``.
- A ``lower`` claim (``lower = "<estimator>"``, ``parameter = "mu" | "sigma"``) says that
  estimator's variance is never higher than the score function's for that gradient
  component (than the pathwise estimator's, when the claim names ``score``).
  A hypothesis search looks for a point where it is higher; the exact variances there
  confirm the counterexample, which is reported shrunk, with both variances.
  ``lower = "score_loo"`` compares one estimate of M samples (the case's ``[estimate]
  samples``, default 4) with the score function's M-sample average (variance / M).  Equal
  variances (ties, up to 50-digit noise) do not refute it.  Surviving the search is
  evidence, not proof, and the note says how many points were searched.

Search settings are fixed (``derandomize=True``, no example database), so a verdict
and its counterexample are the same on every run.  Where the formulas need quadrature
the search is shorter and not shrunk: each point costs seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import mpmath
import sympy
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample

from verify.cases.budget import DEFAULT_SAMPLES, LOO_ESTIMATOR
from verify.cases.case import Case, Claim
from verify.cases.formulas import SIMPLIFY_MAX_OPS
from verify.cases.points import Point, fixed_points, points
from verify.exact.derivation import Derivation
from verify.exact.evaluation import (
    ExactPoint,
    evaluate_expectation,
    evaluate_formula,
    evaluate_gradient,
    evaluate_mean,
    evaluate_variance,
    exact_point,
)
from verify.exact.leave_one_out import loo_variance_at
from verify.exact.numbers import WORKING_DIGITS, Number

RELATIVE_TOLERANCE = mpmath.mpf(10) ** -20
ABSOLUTE_FLOOR = mpmath.mpf(10) ** -30
TIE_TOLERANCE = mpmath.mpf(10) ** -25
SEARCH_EXAMPLES = 200
PROVED_SEARCH_EXAMPLES = 50
QUADRATURE_SEARCH_EXAMPLES = 8
Verdict = Literal["holds", "refuted"]


@dataclass(frozen=True)
class ClaimResult:
    """The verdict on one claim; ``index`` counts from 0 (the file's first claim is 0)."""

    index: int
    verdict: Verdict
    note: str | None = None
    counterexample: dict[str, object] | None = None
    claim: str = ""  # what the claim says, for people: "pathwise lower for mu"

    def to_json(self) -> dict[str, object]:
        record: dict[str, object] = {"index": self.index, "verdict": self.verdict}
        if self.claim:
            record["claim"] = self.claim
        if self.note is not None:
            record["note"] = self.note
        if self.counterexample is not None:
            record["counterexample"] = self.counterexample
        return record


def check_claims(case: Case, derivation: Derivation) -> tuple[ClaimResult, ...]:
    """The verdict on every claim of ``case``, in file order."""
    return tuple(check_claim(case, derivation, claim) for claim in case.claims)


def check_claim(case: Case, derivation: Derivation, claim: Claim) -> ClaimResult:
    """The verdict on one claim (Claim.index is 1-based; the result's is 0-based)."""
    if claim.kind == "equals":
        result = _check_equals(case, derivation, claim)
        return replace(result, claim=f"{claim.quantity} equals {claim.equals_text}")
    result = _check_lower(case, derivation, claim)
    return replace(result, claim=f"{claim.lower} lower for {claim.parameter}")


def derived_formula(derivation: Derivation, quantity: str) -> sympy.Expr | None:
    """The closed form of a quantity name (see verify.cases.case.QUANTITY_NAMES), or None."""
    if quantity == "objective":
        return derivation.objective.value
    parts = quantity.split(".")
    if parts[0] == "gradient":
        return derivation.gradient[parts[1]].value
    estimator, statistic, parameter = parts
    if statistic == "mean":
        return derivation.mean_formula(estimator, parameter)
    return derivation.variance_formula(estimator, parameter)


def derived_value(derivation: Derivation, quantity: str, point: ExactPoint) -> Number:
    """A quantity at an exact point: closed form at 50 digits, or labelled quadrature."""
    if quantity == "objective":
        return evaluate_expectation(derivation.objective, point)
    parts = quantity.split(".")
    if parts[0] == "gradient":
        return evaluate_gradient(derivation, parts[1], point)
    estimator, statistic, parameter = parts
    evaluate = evaluate_mean if statistic == "mean" else evaluate_variance
    return evaluate(derivation, estimator, parameter, point)


def symbolically_equal(derived: sympy.Expr | None, claimed: sympy.Expr) -> bool:
    """Whether simplify proves derived == claimed (False: not proved, which is not refuted)."""
    if derived is None:
        return False
    difference = derived - claimed
    if difference.has(sympy.I):
        difference = sympy.expand_complex(difference)
    if sympy.count_ops(difference) > SIMPLIFY_MAX_OPS:
        return False
    return bool(sympy.simplify(difference) == 0)


def values_differ(derived: mpmath.mpf, claimed: mpmath.mpf) -> bool:
    """Whether two 50-digit values differ beyond the tolerances of the module docstring."""
    if not (mpmath.isfinite(derived) and mpmath.isfinite(claimed)):
        return not (mpmath.isinf(derived) and derived == claimed)
    with mpmath.workdps(WORKING_DIGITS):
        size = max(abs(derived), abs(claimed))
        return bool(abs(derived - claimed) > max(RELATIVE_TOLERANCE * size, ABSOLUTE_FLOOR))


def _claimed_value(claim: Claim, point: ExactPoint) -> mpmath.mpf:
    assert claim.equals is not None
    try:
        return evaluate_formula(claim.equals, (), point)
    except (ArithmeticError, ValueError, TypeError):  # e.g. 1/mu at mu = 0
        return mpmath.nan


def _check_equals(case: Case, derivation: Derivation, claim: Claim) -> ClaimResult:
    assert claim.quantity is not None
    assert claim.equals is not None
    quantity = claim.quantity
    formula = derived_formula(derivation, quantity)

    def differs(at: Point) -> bool:
        point = exact_point(at)
        derived = derived_value(derivation, quantity, point).value
        return values_differ(derived, _claimed_value(claim, point))

    proved = symbolically_equal(formula, claim.equals)
    if formula is None:
        examples = QUADRATURE_SEARCH_EXAMPLES
    else:  # a proof leaves the search only a cross-check of the evaluation
        examples = PROVED_SEARCH_EXAMPLES if proved else SEARCH_EXAMPLES
    at = find_counterexample(case, differs, examples=examples, shrink=formula is not None)
    if at is not None:
        point = exact_point(at)
        derived = derived_value(derivation, quantity, point)
        claimed = Number(_claimed_value(claim, point), "closed-form")
        example: dict[str, object] = {"at": at, "derived": derived.as_json()}
        example["claimed"] = claimed.as_json()
        return ClaimResult(claim.index - 1, "refuted", counterexample=example | _method(derived))
    if proved:
        return ClaimResult(claim.index - 1, "holds")
    return ClaimResult(claim.index - 1, "holds", note="holds (numerically)")


def _check_lower(case: Case, derivation: Derivation, claim: Claim) -> ClaimResult:
    assert claim.lower is not None
    assert claim.parameter is not None
    lower, parameter = claim.lower, claim.parameter
    other = compared_with(lower)

    samples = case.budget.samples or DEFAULT_SAMPLES

    def variances(at: Point) -> dict[str, Number]:
        point = exact_point(at)
        if lower == LOO_ESTIMATOR:  # per estimate of M samples: score_loo against M averaged
            score = evaluate_variance(derivation, other, parameter, point)
            with mpmath.workdps(WORKING_DIGITS):
                averaged = Number(score.value / samples, score.method)
            return {lower: loo_variance_at(derivation, parameter, samples, point), other: averaged}
        return {e: evaluate_variance(derivation, e, parameter, point) for e in (lower, other)}

    def higher(at: Point) -> bool:
        found = variances(at)
        return is_higher(found[lower].value, found[other].value)

    quadrature = (
        derivation.variance_formula(
            "score_baseline_mean" if lower == LOO_ESTIMATOR else lower, parameter
        )
        is None
    )
    quadrature = quadrature or derivation.variance_formula(other, parameter) is None
    examples = QUADRATURE_SEARCH_EXAMPLES if quadrature else SEARCH_EXAMPLES
    at = find_counterexample(case, higher, examples=examples, shrink=not quadrature)
    if at is None:
        note = f"no counterexample at {examples} searched points or the reference and corners"
        return ClaimResult(claim.index - 1, "holds", note=note)
    found = variances(at)
    example: dict[str, object] = {"at": at}
    example["variance"] = {name: number.as_json() for name, number in found.items()}
    return ClaimResult(
        claim.index - 1, "refuted", counterexample=example | _method(*found.values())
    )


def compared_with(lower: str) -> str:
    """The estimator a ``lower`` claim compares with: the score function, or the pathwise
    estimator when the claim is about the score function itself.

    >>> compared_with("measure_valued"), compared_with("score")
    ('score', 'pathwise')
    """
    return "pathwise" if lower == "score" else "score"


def is_higher(value: mpmath.mpf, other: mpmath.mpf) -> bool:
    """Whether variance ``value`` exceeds ``other`` beyond 50-digit noise (nan: it may)."""
    if mpmath.isnan(value):
        return True
    if mpmath.isnan(other) or value == other:
        return False
    if mpmath.isinf(value) or mpmath.isinf(other):
        return bool(value > other)
    with mpmath.workdps(WORKING_DIGITS):
        return bool(value - other > TIE_TOLERANCE * max(abs(value), abs(other)))


def _method(*numbers: Number) -> dict[str, str]:
    quadrature = any(n.method == "quadrature" for n in numbers)
    return {"method": "quadrature" if quadrature else "closed-form"}


def find_counterexample(
    case: Case, condition: Callable[[Point], bool], *, examples: int, shrink: bool
) -> Point | None:
    """A point of the case's domain where ``condition`` holds (shrunk if asked), or None.

    ``examples`` points are searched; then the reference point and the domain's corners.
    Shrinking is skipped where each point costs a quadrature.
    """
    phases = [Phase.generate, Phase.shrink] if shrink else [Phase.generate]
    search = settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
    )
    try:
        return find(points(case), condition, settings=search)
    except NoSuchExample:
        return next((at for at in fixed_points(case) if condition(at)), None)
