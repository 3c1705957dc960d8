"""An explicit-dimension case evaluated at one point: the record of ``verify evaluate``.

The contract (issue 11): for a case with ``dimension = d`` (:mod:`verify.cases.coordinates`)
the JSON uses the component keys ``mu1``..``mud``, ``sigma1``..``sigmad`` wherever a
one-dimensional record uses ``mu`` and ``sigma``, and each estimator's covariance is
the full 2d x 2d matrix, ordered mu1..mud, sigma1..sigmad, with its trace (the total
variance stochastic gradient descent feels):

    {"case": str, "at": {"mu1": float, ..., "sigmad": float, parameter: float},
     "dimension": {"d": int, "kind": "explicit",
                   "components": ["mu1", ..., "sigmad"]},
     "objective": num, "gradient": {"mu1": num, ...},
     "estimators": {name: {"mean": {"mu1": num, ...}, "variance": {"mu1": num, ...},
                           "covariance": {"matrix": [[num, ...], ...], "trace": num},
                           "baseline": {"mu1": num, ...}}},   # baseline estimators only
     "method": "closed-form" | "quadrature",
     "methods": {"objective": m, "gradient.mu1": m, "<estimator>.<mean|variance>.<c>": m,
                 "<estimator>.covariance.<a>.<b>": m (a before b), "<estimator>.trace": m},
     "radius": {the same keys: a rigorous bound, or null},
     "bias": {name: {"mu1": num, ...}},
     "discontinuous": bool}

Numbers are as in :mod:`verify.exact.results`: exact closed forms or certified
quadrature, ``"inf"``/``"nan"`` strings where they do not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

import mpmath
from flint import arb

from verify.cases.coordinates import component_names, split_component
from verify.cases.estimators import ESTIMATOR_NAMES
from verify.exact.evaluation import ExactPoint, combined_method, covariance_of, difference_of
from verify.exact.explicit import ExplicitDerivation
from verify.exact.numbers import WORKING_DIGITS, Number
from verify.exact.results import PointResult, evaluate_point


@dataclass(frozen=True)
class ExplicitResult:
    """Every coordinate's one-coordinate result, and the covariances between coordinates."""

    count: int
    coordinates: tuple[PointResult, ...]  # coordinate i at index i - 1
    between: dict[str, dict[tuple[str, str], Number]]  # estimator -> (a, b) -> Cov[g_a, g_b]
    discontinuous: bool

    @property
    def components(self) -> tuple[str, ...]:
        return component_names(self.count)

    def _of(self, component: str) -> tuple[PointResult, str]:
        kind, index = split_component(component)
        return self.coordinates[index - 1], kind

    def gradient(self, component: str) -> Number:
        result, kind = self._of(component)
        return result.gradient[kind]

    def mean(self, estimator: str, component: str) -> Number:
        result, kind = self._of(component)
        return result.means[estimator][kind]

    def variance(self, estimator: str, component: str) -> Number:
        result, kind = self._of(component)
        return result.variances[estimator][kind]

    def bias(self, estimator: str, component: str) -> Number:
        result, kind = self._of(component)
        return result.bias(estimator, kind)

    def covariance(self, estimator: str, first: str, second: str) -> Number:
        """Cov[g_first, g_second] (a variance when the two are equal)."""
        if first == second:
            return self.variance(estimator, first)
        (result, _), (_, index_b) = self._of(first), split_component(second)
        if split_component(first)[1] == index_b:  # the two components of one coordinate
            return result.covariances[estimator]
        table = self.between[estimator]
        return table.get((first, second)) or table[(second, first)]

    def matrix(self, estimator: str) -> list[list[Number]]:
        """The 2d x 2d covariance, ordered mu1..mud, sigma1..sigmad."""
        return [
            [self.covariance(estimator, a, b) for b in self.components] for a in self.components
        ]

    def trace(self, estimator: str) -> Number:
        """The sum of the 2d variances."""
        numbers = [self.variance(estimator, c) for c in self.components]
        method = combined_method(*(n.method for n in numbers))
        if not all(mpmath.isfinite(n.value) for n in numbers):
            with mpmath.workdps(WORKING_DIGITS):
                total = mpmath.fsum(n.value for n in numbers)
            exact = all(n.ball is not None for n in numbers)
            return Number(total, method, arb(0) if exact else None)
        total = numbers[0]
        for number in numbers[1:]:
            total = difference_of(total, number, method, lambda a, b: a + b)
        return total

    def numbers(self) -> dict[str, Number]:
        """Every number by its ``methods`` key."""
        first = self.coordinates[0]
        named = {"objective": first.objective}
        named |= {f"gradient.{c}": self.gradient(c) for c in self.components}
        for estimator in first.means:
            for c in self.components:
                named[f"{estimator}.mean.{c}"] = self.mean(estimator, c)
                named[f"{estimator}.variance.{c}"] = self.variance(estimator, c)
            for a, b in combinations(self.components, 2):
                named[f"{estimator}.covariance.{a}.{b}"] = self.covariance(estimator, a, b)
            named[f"{estimator}.trace"] = self.trace(estimator)
        return named


def evaluate_explicit(
    derivation: ExplicitDerivation, point: ExactPoint, estimators: tuple[str, ...] = ESTIMATOR_NAMES
) -> ExplicitResult:
    """Every number of an explicit case at ``point`` (its symbols: mu_i, sigma_i, parameters)."""
    count = derivation.count
    per_coordinate = tuple(
        evaluate_point(derivation.coordinate(i), derivation.coordinate_point(point, i), estimators)
        for i in range(1, count + 1)
    )
    between = {e: _between(derivation, e, point) for e in estimators}
    return ExplicitResult(count, per_coordinate, between, derivation.is_discontinuous)


def _between(
    derivation: ExplicitDerivation, estimator: str, point: ExactPoint
) -> dict[tuple[str, str], Number]:
    """Cov[g_a, g_b] for every pair of components of different coordinates."""
    table: dict[tuple[str, str], Number] = {}
    for a, b in combinations(component_names(derivation.count), 2):
        (kind_a, i), (kind_b, j) = split_component(a), split_component(b)
        if i == j:
            continue
        cross = derivation.cross_moment_between(estimator, (kind_a, i), (kind_b, j))
        means = (
            derivation.coordinate(i).raw_moment(estimator, kind_a, 1),
            derivation.coordinate(j).raw_moment(estimator, kind_b, 1),
        )
        table[(a, b)] = covariance_of(cross, *means, point)
    return table


def explicit_json(
    case_name: str, at: Mapping[str, float], result: ExplicitResult
) -> dict[str, object]:
    """The ``verify evaluate --json`` object of the module docstring."""
    numbers = result.numbers()
    methods = {name: n.method for name, n in numbers.items()}
    components = result.components
    estimators = list(result.coordinates[0].means)
    return {
        "case": case_name,
        "at": dict(at),
        "dimension": {"d": result.count, "kind": "explicit", "components": list(components)},
        "objective": result.coordinates[0].objective.as_json(),
        "gradient": {c: result.gradient(c).as_json() for c in components},
        "estimators": {e: _estimator_json(result, e) for e in estimators},
        "method": "quadrature" if "quadrature" in methods.values() else "closed-form",
        "methods": methods,
        "radius": {name: n.radius for name, n in numbers.items()},
        "bias": {e: {c: result.bias(e, c).as_json() for c in components} for e in estimators},
        "discontinuous": result.discontinuous,
    }


def _estimator_json(result: ExplicitResult, estimator: str) -> dict[str, object]:
    components = result.components
    record: dict[str, object] = {
        "mean": {c: result.mean(estimator, c).as_json() for c in components},
        "variance": {c: result.variance(estimator, c).as_json() for c in components},
        "covariance": {
            "matrix": [[n.as_json() for n in row] for row in result.matrix(estimator)],
            "trace": result.trace(estimator).as_json(),
        },
    }
    baselines = [r.baselines.get(estimator) for r in result.coordinates]
    if all(b is not None for b in baselines):
        record["baseline"] = {
            f"{kind}{i}": table[kind].as_json()  # type: ignore[index]
            for kind in ("mu", "sigma")
            for i, table in enumerate(baselines, start=1)
        }
    return record
