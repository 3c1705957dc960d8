"""``verify.evaluate`` for a case with an explicit dimension (r in z1..zd).

Contract: :func:`evaluate_explicit_case` is what :func:`verify.api.evaluation.evaluate`
returns for such a case: an :class:`ExplicitEvaluation` with the same methods as a
one-dimensional :class:`~verify.api.evaluation.Evaluation` (``to_json``, ``to_text``,
``number``, ``variance``, ``mean``, ``gradient``, ``lower``, ``_repr_markdown_``), by
component name (``mu2``, ``sigma1``) instead of ``mu``/``sigma``.  The JSON is
:mod:`verify.exact.explicit_results`'.  A point sets every coordinate with ``mu=``/
``sigma=`` and one with ``mu2=``; the case's reference point fills what is not given.
A case in the phi form (:mod:`verify.cases.phi`, ``mu1``..``sigmad`` given by the map)
may be evaluated at a point in phi instead (``w=0.5, b=0.1, ...``, never with a
component): the components are computed from phi exactly, and the record gains
``"parameterization"`` and ``"phi"`` as a one-dimensional phi record does
(:func:`verify.exact.phi_chain.phi_records`, through the full 2d x p Jacobian).

>>> from verify.api.case import Case
>>> case = Case("cos(z1 + 2*z2)", dimension=2)
>>> result = evaluate_explicit_case(case, {"mu": 0, "sigma": 1})
>>> result.lower("mu2"), result.lower("sigma1")
('score', 'pathwise')
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import mpmath

from verify.analysis.verdicts import least
from verify.api.case import complete_phi_point, finite_value
from verify.cases.case import Case, CaseError
from verify.cases.coordinates import component_names, coordinate_point
from verify.cases.estimators import CLASSIC_ESTIMATORS, ESTIMATOR_NAMES
from verify.exact.evaluation import exact_point
from verify.exact.explicit import derive_explicit
from verify.exact.explicit_results import ExplicitResult, evaluate_explicit, explicit_json
from verify.exact.numbers import Number
from verify.exact.phi_chain import PhiResult, chain, phi_numbers, phi_records


@dataclass(frozen=True)
class ExplicitEvaluation:
    """One explicit-dimension case at one point."""

    case: Case
    at: dict[str, float]
    result: ExplicitResult
    record: dict[str, object]
    phi: PhiResult | None = None  # at a point given in phi: the numbers in the phi names

    def to_json(self) -> str:
        """The ``verify evaluate --json`` object."""
        return json.dumps(self.record)

    def to_text(self) -> str:
        """Per component: the gradient and each estimator's mean and variance, with methods."""
        at = ", ".join(f"{k} = {v:g}" for k, v in self.at.items())
        lines = [f"{self.case.name}: r = {self.case.r} in {self.result.count} coordinates, at {at}"]
        lines.append(f"objective = {self.result.coordinates[0].objective.as_text()}")
        for component in self.result.components:
            lines.append(f"gradient.{component} = {self.number(f'gradient.{component}').as_text()}")
        for estimator in ESTIMATOR_NAMES:
            lines.append(f"{estimator}:")
            for component in self.result.components:
                mean, variance = (
                    self.number(f"{estimator}.{s}.{component}") for s in ("mean", "variance")
                )
                lines.append(
                    f"  {component}: mean {mean.as_text()}  variance {variance.as_text()}"
                    f"  ({variance.method})"
                )
            lines.append(
                f"  trace of the covariance: {self.number(f'{estimator}.trace').as_text()}"
            )
        if self.phi is not None:
            lines.append("in phi (g_phi = J^T g_theta):")
            for name in self.phi.phi:
                variances = "  ".join(
                    f"Var {e} {self.number(f'{e}.variance.{name}').as_text()}"
                    for e in CLASSIC_ESTIMATORS
                )
                lines.append(
                    f"  {name}: gradient {self.number(f'gradient.{name}').as_text()}  "
                    f"{variances}  lower: {self.lower(name)}"
                )
        return "\n".join(lines)

    def number(self, quantity: str) -> Number:
        """A value with its method and radius, by JSON name (``score.variance.mu2``)."""
        return self._numbers[quantity]

    @cached_property
    def _numbers(self) -> dict[str, Number]:
        numbers = self.result.numbers()
        if self.phi is not None:  # the phi names too: gradient.w, score.variance.w ...
            numbers |= phi_numbers(self.phi)
        return numbers

    def variance(self, estimator: str, component: str) -> mpmath.mpf:
        return self.number(f"{estimator}.variance.{component}").value

    def mean(self, estimator: str, component: str) -> mpmath.mpf:
        return self.number(f"{estimator}.mean.{component}").value

    def gradient(self, component: str) -> mpmath.mpf:
        return self.number(f"gradient.{component}").value

    def lower(self, component: str, among: Sequence[str] = CLASSIC_ESTIMATORS) -> str:
        """The estimator of ``among`` with the lowest variance for ``component``, or "tie".

        For a phi name, two estimators are compared on their certified balls
        (:meth:`verify.exact.phi_chain.PhiResult.lower`).
        """
        if self.phi is not None and component in self.phi.phi and len(among) == 2:
            return self.phi.lower(component, *among)
        return least({e: self.variance(e, component) for e in among})

    def _repr_markdown_(self) -> str:
        header = "| estimator | " + " | ".join(f"Var {c}" for c in self.result.components)
        lines = [f"**{self.case.name}**: r = `{self.case.r}`", "", header + " | trace |"]
        lines.append("|---" * (len(self.result.components) + 2) + "|")
        for estimator in ESTIMATOR_NAMES:
            cells = [
                self.number(f"{estimator}.variance.{c}").as_text() for c in self.result.components
            ]
            cells.append(self.number(f"{estimator}.trace").as_text())
            lines.append(f"| {estimator} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


def explicit_point(case: Case, values: Mapping[str, object]) -> dict[str, float]:
    """mu_i, sigma_i and every parameter: given values over the reference point.

    Raises CaseError (field ``at``) for an unknown name or a bad value.
    """
    assert case.coordinates is not None
    count = case.coordinates.count
    components = component_names(count)
    names = ("mu", "sigma", *components, *case.parameter_names)
    given: dict[str, float] = {}
    for name, value in values.items():
        if name not in names:
            raise CaseError(str(case.path), "at", f"{name}: expected one of {', '.join(names)}")
        given[name] = finite_value(case, name, value)
    point = coordinate_point(count, given, defaults=case.reference)
    parameters = {**case.single_valued, **case.reference, **given}
    missing = [p for p in case.parameter_names if p not in parameters]
    if missing:
        raise CaseError(str(case.path), "at", f"missing value for {', '.join(missing)}")
    bad = [c for c in components if c.startswith("sigma") and point[c] <= 0]
    if bad:
        raise CaseError(str(case.path), "at", f"{bad[0]}: a standard deviation must be > 0")
    return point | {p: parameters[p] for p in case.parameter_names}


def evaluate_explicit_case(case: Case, values: Mapping[str, object]) -> ExplicitEvaluation:
    """Every exact number of an explicit-dimension case at the point ``values`` give
    (in mu_i and sigma_i, or for a case in the phi form in phi)."""
    assert case.coordinates is not None
    in_phi = complete_phi_point(case, values)  # None unless the point is given in phi
    at = explicit_point(case, values) if in_phi is None else in_phi.at
    derivation = derive_explicit(case.r, case.coordinates.count)
    result = evaluate_explicit(derivation, exact_point(at) if in_phi is None else in_phi.exact)
    record = explicit_json(case.name, at, result)
    if in_phi is None:
        return ExplicitEvaluation(case, at, result, record)
    phi = chain(result, in_phi)
    return ExplicitEvaluation(case, at, result, record | phi_records(phi), phi)
