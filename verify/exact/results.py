"""One case evaluated at one point: the record behind ``verify evaluate`` (JSON and text).

The JSON shape is a contract other tools depend on; keys are only ever added:

    {"case": str, "at": {name: float},
     "objective": num, "gradient": {"mu": num, "sigma": num},
     "estimators": {name: {"mean": {"mu": num, "sigma": num},
                           "variance": {"mu": num, "sigma": num},
                           "covariance": {"mu_sigma": num, "matrix": [[num, num], [num, num]],
                                          "trace": num},
                           "baseline": {"mu": num, "sigma": num}}},   # baseline estimators only
     "method": "closed-form" | "quadrature",
     "methods": {"objective": m, "gradient.mu": m, "<estimator>.<mean|variance>.<theta>": m, ...},
     "radius": {"objective": r, "gradient.mu": r, "<estimator>.<mean|variance>.<theta>": r,
                "<estimator>.covariance": r, "<estimator>.trace": r, "<estimator>.bias.<theta>": r},
     "bias": {name: {"mu": num, "sigma": num}},
     "discontinuous": bool,
     "parameterization": {...},   # only for cases with a [parameterization] table:
                                  # names, at, jacobian, gradient, estimators in the new
                                  # parameters (see verify.cases.parameterization)
     "phi": {...}}                # only at a point given in phi (below)

A case in the phi form (``phi = [...]``, :mod:`verify.cases.phi`) evaluated at a point
given in phi has ``"at"`` with mu and sigma computed from phi exactly (shown rounded;
every number is evaluated at the exact values) and every case parameter, and a
``"parameterization"`` block of its own shape (:func:`verify.exact.phi_chain.phi_json`;
the one-name keys ``names`` and the scalar ``jacobian`` do not apply), names in the
order of ``phi``:

    {"phi": [name, ...], "mu": str, "sigma": str,      # the map, as the case file gives it
     "at": {name: float},                               # the phi point
     "jacobian": {"mu": {name: num}, "sigma": {name: num}},   # d theta / d phi (2 x p)
     "gradient": {name: num},                           # J^T gradient
     "estimators": {estimator: {"mean": {name: num}, "variance": {name: num},
                                "covariance": {"matrix": [[num, ...], ...], "trace": num}}},
     "lower": {name: "score" | "pathwise" | "tie" | "undefined"},   # lower variance
     "radius": {"jacobian": ..., "gradient": ..., "estimators": ...}}  # same shapes, radii

and ``"phi": {"gradient": ..., "estimators": ...}``, the same two objects under the key
issue 11's contract names.  At a point given in (mu, sigma) the phi numbers are not
determined (several phi points give the same mu and sigma, with different Jacobians), so
such a record has neither key.

Estimators: score, pathwise, score_baseline_mean, score_baseline_optimal,
measure_valued and measure_valued_coupled (see :mod:`verify.cases.estimators`), and
in ``verify evaluate`` also ``score_loo`` at M samples with the keys ``"cost"``,
``"efficiency"``, ``"samples_needed"`` ... that :mod:`verify.api.work` adds.
``num`` is a JSON number, or the string "inf", "-inf" or "nan" ("nan": the
expectation does not exist).  ``method`` is "closed-form" only when every number is.
``radius`` has the same keys as ``methods``: ``r`` is a rigorous bound on the distance
between the exact value and the reported one (ball arithmetic; see
:mod:`verify.exact.evaluation`), 0 for infinities decided exactly, and null where nothing is
certified.  A "closed-form" number is exact, evaluated with that radius; a
"quadrature" number is certified quadrature with that radius.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mpmath
from flint import arb

from verify.cases.estimators import BASELINE_ESTIMATORS
from verify.cases.parameterization import Parameterization
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.balls import working_precision
from verify.exact.baselines import baseline_value
from verify.exact.derivation import Derivation
from verify.exact.evaluation import (
    ExactPoint,
    combined_method,
    difference_of,
    evaluate_covariance,
    evaluate_expectation,
    evaluate_gradient,
    evaluate_mean,
    evaluate_variance,
)
from verify.exact.numbers import RADIUS_PRECISION, REPORTED_DIGITS, WORKING_DIGITS, Number

JsonValue = float | str


@dataclass(frozen=True)
class PointResult:
    """Every exact number of one case at one point, each with its method."""

    objective: Number
    gradient: dict[str, Number]
    means: dict[str, dict[str, Number]]
    variances: dict[str, dict[str, Number]]
    covariances: dict[str, Number]
    baselines: dict[str, dict[str, Number]]

    def numbers(self) -> dict[str, Number]:
        """All numbers by quantity name (``objective``, ``gradient.mu``, ``score.mean.mu`` ...)."""
        named = {"objective": self.objective}
        named.update({f"gradient.{p}": n for p, n in self.gradient.items()})
        for estimator in self.means:
            for statistic, table in (("mean", self.means), ("variance", self.variances)):
                named.update(
                    {f"{estimator}.{statistic}.{p}": n for p, n in table[estimator].items()}
                )
            named[f"{estimator}.covariance"] = self.covariances[estimator]
        for estimator, values in self.baselines.items():
            named.update({f"{estimator}.baseline.{p}": n for p, n in values.items()})
        return named

    def trace(self, estimator: str) -> Number:
        """Var[g_mu] + Var[g_sigma], the total variance of the gradient vector."""
        mu, sigma = (self.variances[estimator][p] for p in GRADIENT_PARAMETERS)
        method = combined_method(mu.method, sigma.method)
        if not (mpmath.isfinite(mu.value) and mpmath.isfinite(sigma.value)):
            with mpmath.workdps(WORKING_DIGITS):
                return Number(mu.value + sigma.value, method, mu.ball and sigma.ball and arb(0))
        return difference_of(mu, sigma, method, lambda a, b: a + b)

    def covariance_json(self, estimator: str) -> dict[str, object]:
        """The 2x2 covariance matrix of (g_mu, g_sigma), and its trace."""
        mu, sigma = (self.variances[estimator][p].as_json() for p in GRADIENT_PARAMETERS)
        cross = self.covariances[estimator].as_json()
        return {
            "mu_sigma": cross,
            "matrix": [[mu, cross], [cross, sigma]],
            "trace": self.trace(estimator).as_json(),
        }

    def bias(self, estimator: str, parameter: str) -> Number:
        """E[g] - dJ/dtheta: zero for an unbiased estimator."""
        mean, gradient = self.means[estimator][parameter], self.gradient[parameter]
        method = combined_method(mean.method, gradient.method)
        if not (mpmath.isfinite(mean.value) and mpmath.isfinite(gradient.value)):
            with mpmath.workdps(WORKING_DIGITS):
                return Number(mean.value - gradient.value, method)
        difference = difference_of(mean, gradient, method, lambda a, b: a - b)
        size = max(abs(mean.value), abs(gradient.value))
        # Beyond the 30 reported digits a difference is the evaluations' rounding, not
        # bias; when the ball says so too, the bias is reported as 0 (with its radius).
        if abs(difference.value) <= mpmath.mpf(10) ** -(REPORTED_DIGITS + 5) * size:
            ball = difference.ball
            return Number(mpmath.mpf(0), method, None if ball is None else arb(0, _upper(ball)))
        return difference


def evaluate_point(
    derivation: Derivation, point: ExactPoint, estimators: tuple[str, ...]
) -> PointResult:
    """Objective, gradient and each estimator's mean, variance and covariance at ``point``."""
    baseline_estimators = [e for e in estimators if e in BASELINE_ESTIMATORS]
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
        covariances={e: evaluate_covariance(derivation, e, point) for e in estimators},
        baselines={
            e: {
                p: evaluate_expectation(baseline_value(e, derivation, p), point)
                for p in GRADIENT_PARAMETERS
            }
            for e in baseline_estimators
        },
    )


def _estimator_json(result: PointResult, estimator: str) -> dict[str, object]:
    record: dict[str, object] = {
        "mean": {p: n.as_json() for p, n in result.means[estimator].items()},
        "variance": {p: n.as_json() for p, n in result.variances[estimator].items()},
        "covariance": result.covariance_json(estimator),
    }
    if estimator in result.baselines:
        record["baseline"] = {p: n.as_json() for p, n in result.baselines[estimator].items()}
    return record


def scaled(number: Number, factor: mpmath.mpf) -> Number:
    """``factor * number``, keeping the method; the ball allows for the factor's rounding."""
    with mpmath.workdps(WORKING_DIGITS):
        value = factor * number.value
    if number.ball is None or not mpmath.isfinite(value):
        return Number(value, number.method, number.ball and arb(0))
    with working_precision(RADIUS_PRECISION):
        # The Jacobian is computed at WORKING_DIGITS digits: 10**-(WORKING_DIGITS - 2) covers it.
        factor_ball = arb(mpmath.nstr(factor, WORKING_DIGITS + 5))
        factor_ball += arb(0, abs(factor_ball.mid()) * arb(10) ** -(WORKING_DIGITS - 2))
        return Number.of(factor_ball * number.ball, number.method)


def _upper(ball: arb) -> arb:
    """The largest absolute value in the ball (an upper bound)."""
    with working_precision(RADIUS_PRECISION):
        bound = abs(ball.mid()) + ball.rad()
        return bound.mid() + bound.rad()


def parameterization_json(
    parameterization: Parameterization, at: Mapping[str, float], result: PointResult
) -> dict[str, object]:
    """The numbers in the new parameters: componentwise chain rule with d theta / d phi."""
    values, jacobians = parameterization.jacobians_at(dict(at))
    name = {theta: parameterization.name(theta) for theta in GRADIENT_PARAMETERS}
    cross = jacobians["mu"] * jacobians["sigma"]

    def per_component(table: Mapping[str, Number], power: int) -> dict[str, object]:
        return {name[t]: scaled(table[t], jacobians[t] ** power).as_json() for t in table}

    def radii(table: Mapping[str, Number], power: int) -> dict[str, float | None]:
        return {name[t]: scaled(table[t], jacobians[t] ** power).radius for t in table}

    return {
        "names": name,
        "at": {name[t]: values[name[t]] for t in GRADIENT_PARAMETERS},
        "jacobian": {t: float(jacobians[t]) for t in GRADIENT_PARAMETERS},
        "gradient": per_component(result.gradient, 1),
        "estimators": {
            e: {
                "mean": per_component(result.means[e], 1),
                "variance": per_component(result.variances[e], 2),
                "covariance": scaled(result.covariances[e], cross).as_json(),
            }
            for e in result.means
        },
        "radius": {
            "gradient": radii(result.gradient, 1),
            "estimators": {
                e: {
                    "mean": radii(result.means[e], 1),
                    "variance": radii(result.variances[e], 2),
                    "covariance": scaled(result.covariances[e], cross).radius,
                }
                for e in result.means
            },
        },
    }


def radius_json(result: PointResult) -> dict[str, float | None]:
    """The radius of every number in the record: the keys of ``methods``, traces and biases."""
    radii = {name: number.radius for name, number in result.numbers().items()}
    for estimator in result.means:
        radii[f"{estimator}.trace"] = result.trace(estimator).radius
        for parameter in GRADIENT_PARAMETERS:
            radii[f"{estimator}.bias.{parameter}"] = result.bias(estimator, parameter).radius
    return radii


def point_json(
    case_name: str,
    at: Mapping[str, float],
    result: PointResult,
    discontinuous: bool,
    parameterization: Parameterization | None = None,
) -> dict[str, object]:
    """The ``verify evaluate --json`` object (see the module docstring)."""
    numbers = result.numbers()
    methods = {name: number.method for name, number in numbers.items()}
    record: dict[str, object] = {
        "case": case_name,
        "at": dict(at),
        "objective": result.objective.as_json(),
        "gradient": {p: n.as_json() for p, n in result.gradient.items()},
        "estimators": {e: _estimator_json(result, e) for e in result.means},
        "method": "quadrature" if "quadrature" in methods.values() else "closed-form",
        "methods": methods,
        "radius": radius_json(result),
        "bias": {
            e: {p: result.bias(e, p).as_json() for p in GRADIENT_PARAMETERS} for e in result.means
        },
        "discontinuous": discontinuous,
    }
    if parameterization is not None:
        record["parameterization"] = parameterization_json(parameterization, at, result)
    return record
