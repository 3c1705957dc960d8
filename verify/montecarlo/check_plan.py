"""What ``verify check`` checks for one case: the points, the estimators at each, the count.

The contract:

- **Points** (:func:`check_points`).  The case's reference point for each combination
  of parameter values (at most :data:`~verify.cases.points.MAX_COMBINATIONS`, evenly spread,
  deterministic), plus two interior points of the domain: (mu, sigma) at a quarter of
  each interval with the first combination, and at three quarters with the last
  (certified quadrature makes a point cost milliseconds, so costs without closed
  forms get them too).
- **Estimators** (:func:`planned_estimators`).  All six estimators at every point.
  The further estimators' exact moments are compounds of up to a dozen Gaussian
  expectations each; their closed forms are built and compiled once per case (tens
  of seconds for piecewise costs with several kinks, the first time) and then cost
  milliseconds per point in ball arithmetic.  The coupled sigma component's moments
  without an antiderivative of a power of r are certified running integrals
  (:mod:`verify.exact.running_integral`), one-dimensional work, so they are checked too;
  only a moment that would need a nested quadrature is skipped (:func:`further_skip`).
- **Checks.**  Per point and planned estimator, :data:`CHECKS_PER_STREAM`: the mean
  and variance of each component, and the covariance of the two; as many for
  score_loo at each combination's reference point (:func:`loo_point_count`).

:func:`count_checks` is cheap (it derives no moment) and exact: a runner calls it for
every case up front, outside any per-case time limit, to size the Bonferroni family.
"""

from __future__ import annotations

from collections.abc import Iterator

import sympy

from verify.cases.case import Case
from verify.cases.coordinates import component_names
from verify.cases.estimators import CLASSIC_ESTIMATORS, ESTIMATOR_NAMES, MEASURE_VALUED_ESTIMATORS
from verify.cases.points import Point, parameter_combinations
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.compound import Compound, Quantity
from verify.exact.derivation import Derivation
from verify.exact.dimension import derive_case
from verify.exact.gaussian import Expectation
from verify.exact.quadrature import running_parts
from verify.exact.terms import NoClosedForm, expand_terms

INTERIOR_FRACTIONS = (0.25, 0.75)
FURTHER_ESTIMATORS = tuple(name for name in ESTIMATOR_NAMES if name not in CLASSIC_ESTIMATORS)
CHECKS_PER_STREAM = 2 * len(GRADIENT_PARAMETERS) + 1  # mean and variance of each, covariance


def closed_form_expected(case: Case) -> bool:
    """Whether r and r' expand into Gaussian terms, so every moment has a closed form.

    Cheap on purpose (one expansion of r and of r', no moment is derived).
    """
    derivation = derive_case(case)
    try:
        for uses in ("r", "dr"):
            expand_terms(derivation.sample_function(uses))
    except NoClosedForm:
        return False
    return True


def check_points(case: Case) -> list[Point]:
    """The points of the module docstring, in order, without repeats."""
    combinations = parameter_combinations(case)
    found = [_ordered(case, case.reference | c) for c in combinations]
    if case.coordinates is not None:  # explicit r(z1..zd): the reference point only
        return [p for i, p in enumerate(found) if p not in found[:i]]
    for fraction, combination in zip(
        INTERIOR_FRACTIONS, (combinations[0], combinations[-1]), strict=True
    ):
        location = {
            "mu": _inside(case.domain.mu, fraction),
            "sigma": _inside(case.domain.sigma, fraction),
        }
        found.append(_ordered(case, location | combination))
    unique: list[Point] = []
    for point in found:
        if point not in unique:
            unique.append(point)
    return unique


def _inside(interval: tuple[float, float], fraction: float) -> float:
    low, high = interval
    return round(low + (high - low) * fraction, 6)


def _ordered(case: Case, point: Point) -> Point:
    components = (
        GRADIENT_PARAMETERS if case.coordinates is None else component_names(case.coordinates.count)
    )
    return {name: point[name] for name in (*components, *case.parameter_names)}


def planned_estimators(point_index: int) -> tuple[str, ...]:
    """The estimators checked at the ``point_index``-th check point, in registry order: all."""
    del point_index  # every point gets every estimator; the index stays for callers
    return ESTIMATOR_NAMES


def count_checks(case: Case) -> int:
    """How many checks :func:`.checks.check_case` makes for ``case`` (the family size)."""
    streams = sum(len(planned_estimators(i)) for i in range(len(check_points(case))))
    streams += loo_point_count(case)
    coordinates = 1 if case.coordinates is None else case.coordinates.count
    return streams * coordinates * CHECKS_PER_STREAM


def loo_point_count(case: Case) -> int:
    """score_loo is checked at the first this many check points: the reference point of
    each parameter combination (:func:`check_points` lists them first), where the reports
    give it (:mod:`verify.montecarlo.loo_check`); an explicit r(z1..zd) has none yet."""
    return 0 if case.coordinates is not None else len(parameter_combinations(case))


def further_skip(derivation: Derivation, estimator: str) -> str | None:
    """Why a further estimator is not checked by ``verify check`` (None: it is).

    Closed forms of any size are compiled once into ball arithmetic, and certified
    one-dimensional quadrature (running integrals included) takes tens of milliseconds,
    so only a nested integral, which no derivation makes today, would be left out.
    """
    if estimator in CLASSIC_ESTIMATORS:
        return None
    for quantity in _needed(derivation, estimator):
        parts = (
            [part for _, part in quantity.parts] if isinstance(quantity, Compound) else [quantity]
        )
        if any(_nested(part) for part in parts):
            return (
                f"not checked here: the third and fourth moments of {estimator} need a nested "
                "two-dimensional quadrature for this cost (no antiderivative of a power of r is "
                "known), which takes minutes per point (see verify.montecarlo.check_plan)"
            )
    return None


def _nested(part: Expectation) -> bool:
    """An integral inside the integrand that is not a certified running integral."""
    integrand = part.integrand
    return part.value is None and integrand.has(sympy.Integral) and running_parts(integrand) is None


def _needed(derivation: Derivation, estimator: str) -> Iterator[Quantity]:
    """The moments a further estimator's checks need, lowest order first."""
    for order in (1, 2, 3, 4):
        for parameter in GRADIENT_PARAMETERS:
            yield derivation.raw_moment(estimator, parameter, order)
    if estimator not in MEASURE_VALUED_ESTIMATORS:
        yield derivation.cross_moment(estimator)
