"""One case evaluated at one point: the record behind ``verify evaluate`` (JSON and text).

The JSON shape is a contract other tools depend on; keys are only ever added:

    {"case": str, "at": {name: float},
     "objective": num, "gradient": {"mu": num, "sigma": num},
     "estimators": {name: {"mean": {"mu": num, "sigma": num},
                           "variance": {"mu": num, "sigma": num}}},
     "method": "closed-form" | "quadrature",
     "methods": {"objective": m, "gradient.mu": m, "<estimator>.<mean|variance>.<theta>": m, ...},
     "bias": {name: {"mu": num, "sigma": num}},
     "discontinuous": bool}

``num`` is a JSON number, or the string "inf", "-inf" or "nan" ("nan": the
expectation does not exist).  ``method`` is "closed-form" only when every number is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mpmath

from verify.derivation import Derivation
from verify.evaluation import (
    REPORTED_DIGITS,
    WORKING_DIGITS,
    ExactPoint,
    Number,
    combined_method,
    evaluate_expectation,
    evaluate_gradient,
    evaluate_mean,
    evaluate_variance,
)
from verify.symbols import GRADIENT_PARAMETERS

JsonValue = float | str


@dataclass(frozen=True)
class PointResult:
    """Every exact number of one case at one point, each with its method."""

    objective: Number
    gradient: dict[str, Number]
    means: dict[str, dict[str, Number]]
    variances: dict[str, dict[str, Number]]

    def numbers(self) -> dict[str, Number]:
        """All numbers by quantity name (``objective``, ``gradient.mu``, ``score.mean.mu`` ...)."""
        named = {"objective": self.objective}
        named.update({f"gradient.{p}": n for p, n in self.gradient.items()})
        for estimator in self.means:
            for statistic, table in (("mean", self.means), ("variance", self.variances)):
                named.update(
                    {f"{estimator}.{statistic}.{p}": n for p, n in table[estimator].items()}
                )
        return named

    def bias(self, estimator: str, parameter: str) -> Number:
        """E[g] - dJ/dtheta: zero for an unbiased estimator."""
        mean, gradient = self.means[estimator][parameter], self.gradient[parameter]
        method = combined_method(mean.method, gradient.method)
        with mpmath.workdps(WORKING_DIGITS):
            difference = mean.value - gradient.value
            size = max(abs(mean.value), abs(gradient.value))
            # Beyond the 30 reported digits a difference is cancellation noise of the
            # 50-digit evaluation, not bias.
            if abs(difference) <= mpmath.mpf(10) ** -(REPORTED_DIGITS + 5) * size:
                difference = mpmath.mpf(0)
            return Number(difference, method)


def evaluate_point(
    derivation: Derivation, point: ExactPoint, estimators: tuple[str, ...]
) -> PointResult:
    """Objective, gradient and each estimator's mean and variance at ``point``."""
    return PointResult(
        objective=evaluate_expectation(derivation.objective, point),
        gradient={p: evaluate_gradient(derivation, p, point) for p in GRADIENT_PARAMETERS},
        means={
            e: {p: evaluate_mean(derivation, e, p, point) for p in GRADIENT_PARAMETERS}
            for e in estimators
        },
        variances={
            e: {p: evaluate_variance(derivation, e, p, point) for p in GRADIENT_PARAMETERS}
            for e in estimators
        },
    )


def point_json(
    case_name: str,
    at: Mapping[str, float],
    result: PointResult,
    discontinuous: bool,
) -> dict[str, object]:
    """The ``verify evaluate --json`` object (see the module docstring)."""
    numbers = result.numbers()
    methods = {name: number.method for name, number in numbers.items()}
    return {
        "case": case_name,
        "at": dict(at),
        "objective": result.objective.as_json(),
        "gradient": {p: n.as_json() for p, n in result.gradient.items()},
        "estimators": {
            e: {
                "mean": {p: n.as_json() for p, n in result.means[e].items()},
                "variance": {p: n.as_json() for p, n in result.variances[e].items()},
            }
            for e in result.means
        },
        "method": "quadrature" if "quadrature" in methods.values() else "closed-form",
        "methods": methods,
        "bias": {
            e: {p: result.bias(e, p).as_json() for p in GRADIENT_PARAMETERS} for e in result.means
        },
        "discontinuous": discontinuous,
    }
