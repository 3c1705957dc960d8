"""The score-function estimator with a constant baseline: exact mean and moments.

The contract: for a parameter theta with score ``s = w_theta(eps)`` (the weight of
the plain score-function estimator, :mod:`verify.cases.estimators`), the estimator is
``g = (r(z) - b) * s``, with

- ``score_baseline_mean``: ``b = E[r]``, the simple baseline;
- ``score_baseline_optimal``: ``b* = E[r s**2] / E[s**2]``, the constant that
  minimises the variance (Mohamed et al. 2020, Section 7.4.1).

As E[s] = 0 both are unbiased for the gradient.  Their raw moments are exact
compounds of Gaussian expectations (:mod:`verify.exact.compound`):

    E[g**p] = sum_j C(p, j) (-b)**(p - j) E[r**j s**p],

so they have a closed form wherever the plain score function's moments and the
baseline do, and are evaluated by quadrature part by part otherwise.

For r = (z - k)**2 at mu = sigma = k = 1 the optimal-baseline variances are 6 (mu)
and 24 (sigma):

>>> from verify.exact.derivation import derive
>>> from verify.cases.symbols import Z, MU, SIGMA, parameter_symbol
>>> derivation = derive((Z - parameter_symbol("k")) ** 2)
>>> point = {MU: 1, SIGMA: 1, parameter_symbol("k"): 1}
>>> [variance("score_baseline_optimal", derivation, p).subs(point) for p in ("mu", "sigma")]
[6, 24]
"""

from __future__ import annotations

import sympy

from verify.cases.estimators import SCORE
from verify.exact.compound import Compound, Quantity
from verify.exact.gaussian import gaussian_expectation
from verify.exact.moment_source import MomentSource


def score_weight(parameter: str) -> sympy.Expr:
    """The score of N(mu, sigma**2) for ``parameter``, as a function of eps."""
    return SCORE.weights[parameter]


def baseline_parts(
    estimator: str, derivation: MomentSource, parameter: str
) -> tuple[Quantity, sympy.Expr]:
    """(numerator expectation, denominator) with b = numerator / denominator."""
    if estimator == "score_baseline_mean":
        return derivation.objective, sympy.Integer(1)
    weight_squared = score_weight(parameter) ** 2
    numerator = derivation.product_expectation("r", 1, weight_squared)
    denominator = gaussian_expectation(weight_squared).value  # a polynomial: always closed
    assert denominator is not None
    return numerator, denominator


def raw_moment(estimator: str, derivation: MomentSource, parameter: str, order: int) -> Compound:
    """E[((r - b) s)**order] as a compound of expectations."""
    numerator, denominator = baseline_parts(estimator, derivation, parameter)
    weight = score_weight(parameter) ** order
    products = [derivation.product_expectation("r", j, weight) for j in range(order + 1)]

    def combine(b_numerator: sympy.Expr, *moments: sympy.Expr) -> sympy.Expr:
        baseline = b_numerator / denominator
        return sympy.Add(
            *(
                sympy.binomial(order, j) * (-baseline) ** (order - j) * moments[j]
                for j in range(order + 1)
            )
        )

    return Compound.of(combine, numerator, *products)


def cross_moment(estimator: str, derivation: MomentSource) -> Compound:
    """E[g_mu g_sigma] = E[(r - b_mu)(r - b_sigma) s_mu s_sigma], expanded in powers of r."""
    weight = score_weight("mu") * score_weight("sigma")
    products = [derivation.product_expectation("r", j, weight) for j in range(3)]
    (mu_numerator, mu_denominator), (sigma_numerator, sigma_denominator) = (
        baseline_parts(estimator, derivation, p) for p in ("mu", "sigma")
    )

    def combine(b_mu: sympy.Expr, b_sigma: sympy.Expr, *moments: sympy.Expr) -> sympy.Expr:
        mu_baseline, sigma_baseline = b_mu / mu_denominator, b_sigma / sigma_denominator
        return (
            moments[2]
            - (mu_baseline + sigma_baseline) * moments[1]
            + mu_baseline * sigma_baseline * moments[0]
        )

    return Compound.of(combine, mu_numerator, sigma_numerator, *products)


def baseline_value(estimator: str, derivation: MomentSource, parameter: str) -> Compound:
    """The baseline b itself (reported alongside the estimator)."""
    numerator, denominator = baseline_parts(estimator, derivation, parameter)
    return Compound.of(lambda n: n / denominator, numerator)


def variance(estimator: str, derivation: MomentSource, parameter: str) -> sympy.Expr | None:
    """The closed-form variance, or None where a part needs quadrature."""
    first = raw_moment(estimator, derivation, parameter, 1).value
    second = raw_moment(estimator, derivation, parameter, 2).value
    if first is None or second is None:
        return None
    return sympy.simplify(second - first**2)
