"""``verify.evaluate``: every exact number of one case at one point, for notebooks.

Contract: :func:`evaluate` returns an :class:`Evaluation` whose :meth:`~Evaluation.to_json`
is, character for character, what ``verify evaluate --json`` prints (the command is
this function plus argument parsing), whose :meth:`~Evaluation.to_text` is its text
output, and whose ``_repr_markdown_`` is a table a notebook shows.  Values are exact
closed forms or certified quadrature, evaluated to 30 digits with a rigorous radius
(:meth:`~Evaluation.number` has the method and the radius).  Bad input raises
:class:`~verify.cases.case.CaseError` with the command's one line.

>>> from verify.api.case import Case
>>> result = evaluate(Case("cos(k*z)", parameters={"k": [2]}), mu=1, sigma=1)
>>> print(mpmath.nstr(result.variance("pathwise", "mu"), 8), result.lower("mu"))
1.9398635 score

The variance of one estimate from M samples: Var / M, or score_loo at M.

>>> mpmath.nstr(result.variance_of_average("pathwise", "mu", 4).value, 8)
'0.48496587'
>>> mpmath.nstr(result.variance_of_average("score_loo", "mu", 16).value, 8)
'0.031276591'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import mpmath

from verify.analysis.verdicts import least
from verify.api.case import Case, CaseLike, complete_phi_point, complete_point
from verify.api.evaluation_text import evaluation_text
from verify.api.explicit import ExplicitEvaluation, evaluate_explicit_case
from verify.api.work import budget_of, divided_by, work_json
from verify.cases.budget import LOO_ESTIMATOR
from verify.cases.case import CaseError
from verify.cases.estimators import CLASSIC_ESTIMATORS, ESTIMATOR_NAMES
from verify.cases.parameterization import Parameterization, ParameterizationError
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.derivation import Derivation
from verify.exact.dimension import derive_case
from verify.exact.dimension_results import dimension_json, with_coordinate_keys
from verify.exact.evaluation import ExactPoint, exact_point
from verify.exact.leave_one_out import loo_variance_at, with_score_loo
from verify.exact.numbers import Number
from verify.exact.phi_chain import PhiResult, chain, phi_numbers, phi_records
from verify.exact.results import PointResult, evaluate_point, point_json


@dataclass(frozen=True)
class Evaluation:
    """One case at one point: formulas, exact values, and the JSON record."""

    case: Case
    at: dict[str, float]
    derivation: Derivation
    result: PointResult
    record: dict[str, object]
    phi: PhiResult | None = None  # at a point given in phi: the numbers in the phi names
    exact: ExactPoint | None = None  # the point in exact rationals (mu, sigma exact from phi)

    def to_json(self) -> str:
        """The ``verify evaluate --json`` object, as the command prints it."""
        return json.dumps(self.record)

    def to_text(self) -> str:
        """The ``verify evaluate`` text: formulas, then 30-digit values with their methods."""
        text = evaluation_text(self.case, self.derivation, self.at, self.result, self.phi)
        costs = ", ".join(f"{e} {c:g}" for e, c in self.record["cost"].items())  # type: ignore[attr-defined]
        return (
            f"{text}\n\nscore_loo: one estimate of M = {self.record['samples_per_estimate']}"
            f" samples; cost per sample (evaluations of r): {costs}"
        )

    def number(self, quantity: str) -> Number:
        """A value with its method and radius, by JSON name (``score.variance.mu``)."""
        return self._numbers[quantity]

    @cached_property
    def _numbers(self) -> dict[str, Number]:
        numbers = self.result.numbers()
        if self.phi is not None:  # the phi names too: gradient.w, score.variance.w ...
            numbers |= phi_numbers(self.phi)
        return numbers

    def variance(self, estimator: str, parameter: str) -> mpmath.mpf:
        """Var[g_parameter] of ``estimator`` (30 digits); a phi name at a point in phi too."""
        return self.number(f"{estimator}.variance.{parameter}").value

    def mean(self, estimator: str, parameter: str) -> mpmath.mpf:
        """E[g_parameter] of ``estimator`` (30 digits); a phi name at a point in phi too."""
        return self.number(f"{estimator}.mean.{parameter}").value

    def variance_of_average(self, estimator: str, parameter: str, samples: int) -> Number:
        """Var of one estimate from ``samples`` = M draws, certified.

        A single-sample estimator's M-sample average has variance Var / M; ``score_loo``
        is evaluated at M (:mod:`verify.exact.leave_one_out`; M >= 2).
        """
        if estimator != LOO_ESTIMATOR:
            return divided_by(self.number(f"{estimator}.variance.{parameter}"), samples)
        if self.exact is None or samples < 2:
            raise ValueError(f"score_loo needs M >= 2 samples and an exact point, got {samples}")
        return loo_variance_at(self.derivation, parameter, samples, self.exact)

    def gradient(self, parameter: str) -> mpmath.mpf:
        """dJ/dparameter (30 digits); a phi name at a point in phi too."""
        return self.number(f"gradient.{parameter}").value

    def lower(self, parameter: str, among: Sequence[str] = CLASSIC_ESTIMATORS) -> str:
        """The estimator of ``among`` with the lowest variance, or ``"tie"``.

        By default the comparison the project settles: ``score`` against ``pathwise``.
        For a phi name, two estimators are compared on their certified balls
        (:meth:`verify.exact.phi_chain.PhiResult.lower`).
        """
        if self.phi is not None and parameter in self.phi.phi:
            if len(among) == 2:
                return self.phi.lower(parameter, *among)
            return least({e: self.variance(e, parameter) for e in among})
        return lowest_variance(self.result, parameter, among)

    def _repr_markdown_(self) -> str:
        at = ", ".join(f"{name} = {value:g}" for name, value in self.at.items())
        lines = [
            f"**{self.case.name}**: r(z) = `{self.case.r}` at {at}",
            "",
            "| estimator | mean mu | mean sigma | variance mu | variance sigma |",
            "|---|---|---|---|---|",
        ]
        for estimator in self.result.means:
            cells = [
                self.number(f"{estimator}.{statistic}.{p}").as_text()
                for statistic in ("mean", "variance")
                for p in GRADIENT_PARAMETERS
            ]
            lines.append(f"| {estimator} | " + " | ".join(cells) + " |")
        lower = ", ".join(f"{p}: {self.lower(p)}" for p in GRADIENT_PARAMETERS)
        lines += ["", f"Lower variance, score vs pathwise: {lower}."]
        if self.phi is not None:
            in_phi = ", ".join(f"{n}: {self.lower(n)}" for n in self.phi.phi)
            lines.append(f"In phi (g_phi = J^T g_theta): {in_phi}.")
        return "\n".join(lines)


def lowest_variance(
    result: PointResult, parameter: str, among: Sequence[str] = CLASSIC_ESTIMATORS
) -> str:
    """The estimator of ``among`` with the lowest variance ("tie" within 1e-12 relative)."""
    return least({e: result.variances[e][parameter].value for e in among})


def evaluate(
    case: CaseLike,
    /,
    *,
    samples_per_estimate: int | None = None,
    derivative_cost: float | None = None,
    **at: object,
) -> Evaluation | ExplicitEvaluation:
    """Exact values of ``case`` at ``mu``, ``sigma`` and the parameters given as keywords.

    A case with an explicit dimension (r in z1..zd) gives an
    :class:`~verify.api.explicit.ExplicitEvaluation`, by component (``mu2=0.1`` sets one
    coordinate, ``mu=0.5`` all; the case's reference fills the rest).

    ``samples_per_estimate`` is M for ``score_loo`` (default: the case's ``[estimate]
    samples``, else 4) and ``derivative_cost`` the evaluations of r that r' costs
    (default: the case's ``[cost] derivative``, else 2); see :mod:`verify.api.work`.

    For a case in the phi form (:mod:`verify.cases.phi`) the point may instead be given
    in the phi names (``w=0.5, b=0.1, ...``, never with mu or sigma): mu and sigma are
    then computed from phi exactly, and :attr:`Evaluation.phi` and the record's
    ``"parameterization"`` hold the numbers in phi.  Single-valued parameters may be
    omitted.  Raises ``CaseError`` for bad input.
    """
    case = Case.of(case)
    if case.coordinates is not None:  # r in z1..zd: per-component numbers
        return evaluate_explicit_case(case, at)
    samples, cost = budget_of(case, samples_per_estimate, derivative_cost)
    in_phi = complete_phi_point(case, at)  # None unless the point is given in phi
    point = complete_point(case, at) if in_phi is None else in_phi.at
    derivation = derive_case(case)
    exact = exact_point(point) if in_phi is None else in_phi.exact  # mu, sigma exact from phi
    result = with_score_loo(
        evaluate_point(derivation, exact, ESTIMATOR_NAMES), derivation, exact, samples
    )
    one_name = case.parameterization
    try:
        record = point_json(
            case.name,
            point,
            result,
            derivation.is_discontinuous,
            one_name if isinstance(one_name, Parameterization) else None,
        )
    except ParameterizationError as error:
        raise CaseError(str(case.path), error.field, error.message) from None
    record |= work_json(record, result, samples, cost)
    phi = None if in_phi is None else chain(result, in_phi)
    if phi is not None:
        record |= phi_records(phi)
    if case.dimension is not None:
        with_coordinate_keys(record)
        record["dimension"] = dimension_json(
            case.dimension, point[case.dimension.parameter], result
        )
    return Evaluation(case, point, derivation, result, record, phi, exact)
