"""The chain rule to the phi names: every estimator's mean, variance and covariance, certified.

The contract: with ``J = d(mu, sigma) / d(phi)`` (2 x p, at a
:class:`~verify.exact.phi_point.PhiPoint`) and a single-sample estimator
``g_theta = (g_mu, g_sigma)`` with mean ``m`` and exact 2x2 covariance ``C`` (with an
explicit dimension d: ``theta = (mu1..mud, sigma1..sigmad)``, J is 2d x p and C the full
2d x 2d covariance of :mod:`verify.exact.explicit_results`), the
estimator of the gradient in phi is ``g_phi = J^T g_theta`` (the chain rule, applied to
each sample), so

    E[g_phi] = J^T m,     Cov[g_phi] = J^T C J,     Var[g_phi_j] = (J^T C J)_jj,
    dObjective/dphi = J^T dObjective/dtheta,

for every estimator, and :func:`chain` computes these in ball arithmetic from the
certified theta numbers and the certified Jacobian: each value keeps a rigorous
radius.  Unlike the one-name form, a name that moves both mu and sigma mixes the
two components through the covariance, so which estimator has the lower variance
can differ from name to name (:meth:`PhiResult.lower`).

Infinite and undefined values: a term whose Jacobian entry is exactly 0 contributes
exactly 0 (g_phi_j does not involve that component at all).  A variance is ``inf``
when exactly one of the components it involves has infinite variance (Cauchy-Schwarz:
the rest cannot cancel it) and ``nan`` -- not determined by these numbers -- when both
do; means and covariances follow IEEE arithmetic (``inf - inf`` is ``nan``).  A
non-finite value has radius 0 when every infinity it comes from was decided exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import mpmath
from flint import arb

from verify.exact.balls import working_precision
from verify.exact.evaluation import combined_method
from verify.exact.explicit_results import ExplicitResult
from verify.exact.numbers import RADIUS_PRECISION, WORKING_DIGITS, Number
from verify.exact.phi_point import PhiPoint
from verify.exact.results import PointResult

TIE_RELATIVE = 1e-12  # uncertified variances this close (relative) are a tie
Matrix = list[list[Number]]


@dataclass(frozen=True)
class PhiResult:
    """Every number of one point in the phi names (see the module docstring)."""

    point: PhiPoint
    gradient: dict[str, Number]
    means: dict[str, dict[str, Number]]
    covariances: dict[str, Matrix]  # p x p, in the order of ``phi``

    @property
    def phi(self) -> tuple[str, ...]:
        return self.point.form.phi

    def variance(self, estimator: str, name: str) -> Number:
        """Var[g_name] of ``estimator``: the diagonal of J^T C J."""
        index = self.phi.index(name)
        return self.covariances[estimator][index][index]

    def trace(self, estimator: str) -> Number:
        """The total variance of the gradient in phi, sum_j Var[g_phi_j]."""
        return _sum([(None, self.variance(estimator, name)) for name in self.phi])

    def lower(self, name: str, first: str = "score", second: str = "pathwise") -> str:
        """Which of two estimators has the lower variance for ``name``.

        ``"tie"`` where the certified balls overlap (or, uncertified, within 1e-12
        relative; both infinite counts as a tie), ``"undefined"`` where one is nan.
        """
        a, b = self.variance(first, name), self.variance(second, name)
        if mpmath.isnan(a.value) or mpmath.isnan(b.value):
            return "undefined"
        if a.value == b.value:
            return "tie"
        if not (mpmath.isfinite(a.value) and mpmath.isfinite(b.value)):
            return first if a.value < b.value else second
        if a.ball is not None and b.ball is not None:
            if a.ball < b.ball:  # arb: true only when every point of one is below the other
                return first
            return second if b.ball < a.ball else "tie"
        if abs(a.value - b.value) <= TIE_RELATIVE * max(abs(a.value), abs(b.value)):
            return "tie"
        return first if a.value < b.value else second


def chain(result: PointResult | ExplicitResult, point: PhiPoint) -> PhiResult:
    """The numbers of ``result`` (at ``point``'s mu and sigma, or mu_i and sigma_i) in phi."""
    jacobian, components = point.jacobian, point.form.components
    names = point.form.phi
    gradient, means, covariance = _theta_numbers(result)

    def transposed(vector: dict[str, Number]) -> dict[str, Number]:
        return {n: _sum([(jacobian[t][n], vector[t]) for t in components]) for n in names}

    covariances: dict[str, Matrix] = {}
    for estimator in means:
        theta = {(a, b): covariance(estimator, a, b) for a in components for b in components}
        covariances[estimator] = [
            [
                _diagonal(point, i, theta)
                if i == j
                else _sum(
                    [
                        (_product(jacobian[a][i], jacobian[b][j]), theta[a, b])
                        for a in components
                        for b in components
                    ]
                )
                for j in names
            ]
            for i in names
        ]
    return PhiResult(
        point,
        gradient=transposed(gradient),
        means={e: transposed(vector) for e, vector in means.items()},
        covariances=covariances,
    )


def _theta_numbers(
    result: PointResult | ExplicitResult,
) -> tuple[dict[str, Number], dict[str, dict[str, Number]], Callable[[str, str, str], Number]]:
    """The gradient, each estimator's means and Cov[g_a, g_b] by component name."""
    if isinstance(result, ExplicitResult):
        components = result.components
        estimators = list(result.coordinates[0].means)
        gradient = {c: result.gradient(c) for c in components}
        means = {e: {c: result.mean(e, c) for c in components} for e in estimators}
        return gradient, means, result.covariance

    def covariance(estimator: str, first: str, second: str) -> Number:
        if first == second:
            return result.variances[estimator][first]
        return result.covariances[estimator]

    return result.gradient, result.means, covariance


def _diagonal(point: PhiPoint, name: str, theta: dict[tuple[str, str], Number]) -> Number:
    """Var[g_name] = sum_ab J_a J_b C_ab, with Cauchy-Schwarz for infinite variances."""
    jacobian = point.jacobian
    involved = [t for t in point.form.components if not _is_zero(jacobian[t][name])]
    variances = [theta[t, t] for t in involved]
    infinite = [v for v in variances if mpmath.isinf(v.value)]
    method = combined_method(*(v.method for v in variances))
    if any(mpmath.isnan(v.value) for v in variances) or len(infinite) > 1:
        return Number(mpmath.nan, method)
    if infinite:
        (only,) = infinite
        return Number(mpmath.inf, method, only.ball and arb(0))
    return _sum(
        [
            (_product(jacobian[a][name], jacobian[b][name]), theta[a, b])
            for a in involved
            for b in involved
        ]
    )


def _is_zero(number: Number) -> bool:
    """Provably exactly 0 (not merely small): the term it multiplies drops out."""
    ball = number.ball
    return ball is not None and ball.is_exact() and ball.is_zero()


def _product(a: Number, b: Number) -> Number:
    # Jacobian entries are certified (verify.exact.phi_point rejects any that is not).
    assert a.ball is not None
    assert b.ball is not None
    with working_precision(RADIUS_PRECISION):
        return Number.of(a.ball * b.ball, "closed-form")


def _sum(terms: Sequence[tuple[Number | None, Number]]) -> Number:
    """sum coefficient * value (a None coefficient is 1); exactly-zero coefficients drop out."""
    kept = [(c, v) for c, v in terms if c is None or not _is_zero(c)]
    method = combined_method(*(v.method for _, v in kept))
    if not kept:
        return Number.exact(mpmath.mpf(0), "closed-form")
    balls = [v.ball for _, v in kept]
    finite = all(mpmath.isfinite(v.value) for _, v in kept)
    if finite and all(ball is not None for ball in balls):
        with working_precision(RADIUS_PRECISION):
            total = arb(0)
            for coefficient, value in kept:
                assert value.ball is not None
                if coefficient is None:
                    total += value.ball
                else:
                    assert coefficient.ball is not None
                    total += coefficient.ball * value.ball
            return Number.of(total, method)
    with mpmath.workdps(WORKING_DIGITS):
        value = mpmath.fsum(v.value if c is None else c.value * v.value for c, v in kept)
    if finite:
        return Number(value, method)  # some term is uncertified: so is the sum
    certain = all(ball is not None for ball in balls)
    return Number(value, method, arb(0) if certain and not mpmath.isnan(value) else None)


def phi_numbers(phi: PhiResult) -> dict[str, Number]:
    """The numbers in the phi names by JSON name: ``gradient.w``, ``score.mean.w``,
    ``score.variance.w`` ..."""
    numbers: dict[str, Number] = {}
    for name in phi.phi:
        numbers[f"gradient.{name}"] = phi.gradient[name]
        for estimator in phi.means:
            numbers[f"{estimator}.mean.{name}"] = phi.means[estimator][name]
            numbers[f"{estimator}.variance.{name}"] = phi.variance(estimator, name)
    return numbers


def phi_json(phi: PhiResult) -> dict[str, object]:
    """The ``"parameterization"`` block of a phi-form record (see :mod:`verify.exact.results`)."""
    names, form = phi.phi, phi.point.form

    def by_name(numbers: dict[str, Number], radius: bool = False) -> dict[str, object]:
        return {n: numbers[n].radius if radius else numbers[n].as_json() for n in names}

    def estimators(radius: bool) -> dict[str, object]:
        def shown(number: Number) -> object:
            return number.radius if radius else number.as_json()

        return {
            e: {
                "mean": by_name(phi.means[e], radius),
                "variance": {n: shown(phi.variance(e, n)) for n in names},
                "covariance": {
                    "matrix": [[shown(entry) for entry in row] for row in phi.covariances[e]],
                    "trace": shown(phi.trace(e)),
                },
            }
            for e in phi.means
        }

    jacobian = phi.point.jacobian
    return {
        "phi": list(names),
        **{t: form.texts[t] for t in form.components},
        "at": dict(phi.point.phi),
        "jacobian": {t: by_name(jacobian[t]) for t in form.components},
        "gradient": by_name(phi.gradient),
        "estimators": estimators(radius=False),
        "lower": {n: phi.lower(n) for n in names},
        "radius": {
            "jacobian": {t: by_name(jacobian[t], radius=True) for t in form.components},
            "gradient": by_name(phi.gradient, radius=True),
            "estimators": estimators(radius=True),
        },
    }


def phi_records(phi: PhiResult) -> dict[str, object]:
    """What a record at a point given in phi gains (see :mod:`verify.exact.results`).

    ``"parameterization"`` (:func:`phi_json`) and ``"phi"``, its gradient and estimators
    alone under the key issue 11's contract names.
    """
    block = phi_json(phi)
    return {
        "parameterization": block,
        "phi": {"gradient": block["gradient"], "estimators": block["estimators"]},
    }
