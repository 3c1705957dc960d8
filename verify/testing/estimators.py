"""What a user's estimator claims to be: one of ours, one of ours renamed, or formulas.

The contract: :func:`claimed_moments` turns the ``estimator`` argument of
:func:`verify.testing.check_estimator` into the exact moments its checks compare with:

- a name ``verify`` derives (``"score"``, ``"pathwise"``, ...; every name of
  :data:`~verify.cases.estimators.ESTIMATOR_NAMES`): its exact moments;
- :class:`Renamed` -- the user's estimator under its own name, claimed to have the
  moments of one of ours (``Renamed("reinforce", like="score")``): the records and the
  message use the user's name;
- :class:`Formulas` -- the user's own estimator, its exact mean and variance of each
  component given as formulas in the case's names (``mu``, ``sigma`` and the
  parameters), like a claim's ``equals``.  They are parsed by the case files'
  allow-list parser (:func:`verify.cases.expressions.parse_expression`; never
  ``eval``) and evaluated in certified ball arithmetic
  (:func:`verify.exact.evaluation.evaluate_formula`).  The optional ``third`` and
  ``fourth`` central moments enable more: without ``third`` the mean is checked by
  median of means (:mod:`verify.montecarlo.robust`, which needs only the variance);
  without ``fourth`` the variance cannot be checked and is skipped with that reason;
  the covariance of the components is not claimed, so it is skipped too.

A bad formula or name raises :class:`~verify.cases.case.CaseError` whose message is
one line naming the field (``estimator.mean.mu``) and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mpmath

from verify.cases.case import Case, CaseError
from verify.cases.estimators import ESTIMATOR_NAMES
from verify.cases.expressions import ExpressionError, parse_expression
from verify.cases.symbols import GRADIENT_PARAMETERS, point_symbols
from verify.exact.evaluation import ExactPoint, evaluate_formula
from verify.exact.numbers import Number
from verify.montecarlo.check_moments import ExactMoments

MOMENTS = ("mean", "variance", "third", "fourth")  # Formulas' fields, lowest order first
# Why a check of a Formulas estimator is skipped or robust: what the user did not give.
NOT_GIVEN = {
    "third": "no exact third central moment was given (Formulas.third), so the z-score's "
    "skewness correction is unknown",
    "fourth": "no exact fourth central moment was given (Formulas.fourth): the sample "
    "variance has no standard error",
    "covariance": "a Formulas estimator claims no covariance of its components",
}


@dataclass(frozen=True)
class Renamed:
    """The user's estimator ``name``, claimed to have the moments of our ``like``."""

    name: str
    like: str


@dataclass(frozen=True)
class Formulas:
    """The user's estimator ``name`` with exact moments given as formulas per component.

    Each mapping is ``{"mu": "...", "sigma": "..."}``: the mean, the variance and
    optionally the third and fourth central moments of that gradient component.
    """

    name: str
    mean: Mapping[str, str]
    variance: Mapping[str, str]
    third: Mapping[str, str] | None = None
    fourth: Mapping[str, str] | None = None


EstimatorLike = str | Renamed | Formulas


def our_name(case: Case, estimator: EstimatorLike) -> str | None:
    """The estimator of ours whose moments are claimed (None for :class:`Formulas`)."""
    if isinstance(estimator, Formulas):
        return None
    name = estimator.like if isinstance(estimator, Renamed) else estimator
    if name not in ESTIMATOR_NAMES:
        field = "estimator.like" if isinstance(estimator, Renamed) else "estimator"
        allowed = ", ".join(ESTIMATOR_NAMES)
        message = f"{name!r} is not an estimator verify derives; expected one of {allowed}"
        raise CaseError(str(case.path), field, message)
    return name


def display_name(estimator: EstimatorLike) -> str:
    """The name the records and messages use: the user's own where they gave one."""
    return estimator if isinstance(estimator, str) else estimator.name


def formula_moments(
    case: Case, estimator: Formulas, parameter: str, point: ExactPoint
) -> ExactMoments:
    """The claimed exact moments of one component (nan for a moment not given).

    ``sixth`` is unknown, hence infinite: the variance check, where made, is the
    median-of-means one (:mod:`verify.montecarlo.significance`).
    """
    names = point_symbols(case.parameter_names)
    values = []
    for moment in MOMENTS:
        formulas = getattr(estimator, moment)
        if formulas is None:
            values.append(mpmath.nan)
            continue
        field = f"estimator.{moment}.{parameter}"
        if parameter not in formulas:
            raise CaseError(str(case.path), field, f"missing; give {moment} for every component")
        try:
            expression = parse_expression(formulas[parameter], names, field=field)
        except ExpressionError as error:
            raise CaseError(str(case.path), field, error.message) from None
        values.append(evaluate_formula(expression, (), point))
    mean, variance, third, fourth = values
    return ExactMoments(mean, variance, third, fourth, mpmath.inf, "closed-form")


def check_formula_fields(case: Case, estimator: Formulas) -> None:
    """CaseError for a component name that is not a gradient component of the case."""
    for moment in MOMENTS:
        for parameter in getattr(estimator, moment) or {}:
            if parameter not in GRADIENT_PARAMETERS:
                field = f"estimator.{moment}.{parameter}"
                allowed = ", ".join(GRADIENT_PARAMETERS)
                raise CaseError(str(case.path), field, f"not a component; expected {allowed}")


def gradient_moments(moments: ExactMoments, gradient: Number) -> ExactMoments:
    """``moments`` claimed about the exact gradient: an unbiased estimator's mean."""
    return ExactMoments(
        gradient.value,
        moments.variance,
        moments.third,
        moments.fourth,
        moments.sixth,
        moments.method if gradient.method == "closed-form" else "quadrature",
    )
