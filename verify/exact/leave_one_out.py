"""``score_loo``: the score function with the leave-one-out baseline, exact in M.

The estimator (Kool, van Hoof and Welling 2019, "Buy 4 REINFORCE samples, get a
baseline for free!", ICLR workshop): from M >= 2 independent samples z_1..z_M with
scores s_i = w_theta(eps_i) (the plain score function's weight,
:mod:`verify.cases.estimators`),

    g = 1/(M-1) sum_i (r_i - rbar) s_i = (1/M) sum_i (r_i - rbar_{-i}) s_i,

where rbar is the mean of all M costs and rbar_{-i} that of the others.  As E[s] = 0
and r_j is independent of s_i for j != i, E[g] = E[r s]: the gradient, unbiased.

The contract: every moment is an exact :class:`~verify.exact.compound.Compound` of
single-sample expectations, symbolic in the sample count :data:`M`.  Writing
g = sum_{i,j} c_ij r_j s_i with c_ii = 1/M and c_ij = -1/(M(M-1)) and collecting
the index patterns of E[g_s g_t] (the terms i = k and i != k, by which of j, l
coincide with i, k or each other), for two components with scores s and t:

    Cov[g_s, g_t] = (1/M) [A - 2 F G + D (C + (M-2) F**2)/(M-1) - B_s B_t (M-2)/(M-1)]

with A = E[r**2 s t], G = E[r s t], D = E[s t], C = E[r**2], F = E[r] and
B_s = E[r s], B_t = E[r t]; s = t gives the variance.  (tests/test_leave_one_out.py
re-derives it by enumerating all M**4 index patterns for M = 2, 3, 4 and by tensor
Gauss-Hermite quadrature.)  As M -> infinity, M Var[g] -> A - 2 F G + D F**2 - B**2 =
Var[(r - E[r]) s], the single-sample variance of ``score_baseline_mean``.

For r = (z - 1)**2 at mu = sigma = 1 (r = eps**2, s = eps) the variance for mu is
2 (5M - 4) / (M (M - 1)), and M times it tends to Var[(eps**2 - 1) eps] = 10:

>>> from verify.exact.derivation import derive
>>> from verify.cases.symbols import MU, SIGMA, Z
>>> formula = covariance(derive((Z - 1) ** 2), "mu", "mu").value
>>> sympy.factor(formula.subs({MU: 1, SIGMA: 1}))
2*(5*M - 4)/(M*(M - 1))
"""

from __future__ import annotations

from dataclasses import replace

import mpmath
import sympy
from flint import arb

from verify.cases.budget import LOO_ESTIMATOR
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.baselines import score_weight
from verify.exact.compound import Compound, Quantity
from verify.exact.evaluation import ExactPoint, evaluate_expectation, non_negative
from verify.exact.gaussian import gaussian_expectation
from verify.exact.moment_source import MomentSource
from verify.exact.numbers import Number
from verify.exact.results import PointResult

M = sympy.Symbol("M", positive=True, integer=True)
"""The number of samples per estimate, kept symbolic in the formulas."""


def loo_covariance_formula(
    a: sympy.Expr,
    g: sympy.Expr,
    d: sympy.Expr,
    c: sympy.Expr,
    f: sympy.Expr,
    b_s: sympy.Expr,
    b_t: sympy.Expr,
    samples: sympy.Expr = M,
) -> sympy.Expr:
    """The covariance above from its seven single-sample expectations."""
    m = samples
    return (a - 2 * f * g + d * (c + (m - 2) * f**2) / (m - 1) - b_s * b_t * (m - 2) / (m - 1)) / m


def mean(source: MomentSource, parameter: str) -> Quantity:
    """E[g_theta] = E[r s_theta], for every M."""
    return source.product_expectation("r", 1, score_weight(parameter))


def _single_sample_parts(
    source: MomentSource, first: str, second: str
) -> tuple[sympy.Expr, tuple[Quantity, ...]]:
    """D = E[s t] (a polynomial in eps, always closed) and (A, G, C, F, B_s, B_t)."""
    s, t = score_weight(first), score_weight(second)
    d = gaussian_expectation(s * t).value
    assert d is not None
    parts = (
        source.product_expectation("r", 2, s * t),  # A
        source.product_expectation("r", 1, s * t),  # G
        source.product_expectation("r", 2, sympy.Integer(1)),  # C
        source.objective,  # F
        mean(source, first),  # B_s
        mean(source, second),  # B_t
    )
    return d, parts


def covariance(source: MomentSource, first: str, second: str) -> Compound:
    """Cov[g_first, g_second] of the M-sample estimate, symbolic in :data:`M`."""
    d, parts = _single_sample_parts(source, first, second)

    def build(*values: sympy.Expr) -> sympy.Expr:
        a, g, c, f, b_s, b_t = values
        return loo_covariance_formula(a, g, d, c, f, b_s, b_t)

    return Compound.of(build, *parts)


def limit_and_excess(source: MomentSource, first: str, second: str) -> tuple[Compound, Compound]:
    """(V, X) with Cov[g_first, g_second] = V / M + X / (M (M - 1)), the formula above
    regrouped: V = A - 2 F G + D F**2 - B_s B_t (the limit of M Cov, score_baseline_mean's
    single-sample covariance) and X = D (C - F**2) + B_s B_t (>= 0 for a variance)."""
    d, parts = _single_sample_parts(source, first, second)

    def limit(
        a: sympy.Expr, g: sympy.Expr, c: sympy.Expr, f: sympy.Expr, *b: sympy.Expr
    ) -> sympy.Expr:
        return a - 2 * f * g + d * f**2 - b[0] * b[1]

    def excess(
        a: sympy.Expr, g: sympy.Expr, c: sympy.Expr, f: sympy.Expr, *b: sympy.Expr
    ) -> sympy.Expr:
        return d * (c - f**2) + b[0] * b[1]

    return Compound.of(limit, *parts), Compound.of(excess, *parts)


def at_samples(quantity: Quantity, samples: int) -> Quantity:
    """``quantity`` with :data:`M` set to the integer ``samples`` (M >= 2)."""
    if samples < 2:
        raise ValueError(f"score_loo needs M >= 2 samples, got {samples}")
    if not isinstance(quantity, Compound):
        return quantity
    return Compound(quantity.formula.subs(M, sympy.Integer(samples)), quantity.parts)


def variance_formula(source: MomentSource, parameter: str) -> sympy.Expr | None:
    """Var[g_theta] of the M-sample estimate as a closed form in M (None: needs quadrature)."""
    return covariance(source, parameter, parameter).value


def loo_variance_at(
    source: MomentSource, parameter: str, samples: int, point: ExactPoint
) -> Number:
    """Var[g_theta] of one estimate from ``samples`` = M draws at ``point``, certified."""
    compound = covariance(source, parameter, parameter)
    second = evaluate_expectation(compound.parts[0][1], point)  # A = E[r**2 s**2]
    if mpmath.isinf(second.value):  # the (1/M) sum r_i s_i term alone has infinite variance
        return Number(mpmath.inf, second.method, second.ball and arb(0))
    return non_negative(evaluate_expectation(at_samples(compound, samples), point))


def with_score_loo(
    result: PointResult, source: MomentSource, point: ExactPoint, samples: int
) -> PointResult:
    """``result`` with ``score_loo`` at ``samples`` = M added (mean, variance, covariance).

    Its numbers are those of the M-sample estimate, so every table keyed by estimator
    (traces, biases, radii, the chain rule to phi, the trace over d coordinates)
    treats it like the single-sample estimators.
    """
    means = {p: evaluate_expectation(mean(source, p), point) for p in GRADIENT_PARAMETERS}
    variances = {p: loo_variance_at(source, p, samples, point) for p in GRADIENT_PARAMETERS}
    cross = evaluate_expectation(at_samples(covariance(source, "mu", "sigma"), samples), point)
    return replace(
        result,
        means=result.means | {LOO_ESTIMATOR: means},
        variances=result.variances | {LOO_ESTIMATOR: variances},
        covariances=result.covariances | {LOO_ESTIMATOR: cross},
    )
