"""The measure-valued gradient estimator of a Gaussian, with and without coupling.

The contract (Mohamed et al. 2020, Section 6.2, Table 1): the derivative of the
Gaussian density splits into a constant times the difference of two densities,

- mu: ``d/dmu N(x | mu, sigma**2) = c (p+(x) - p-(x))`` with ``c = 1/(sigma sqrt(2 pi))``
  and ``x = mu +- sigma R``, R Rayleigh (a Weibull of shape 2, scale sqrt 2);
  the estimator is ``g_mu = c (r(mu + sigma R1) - r(mu - sigma R2))``;
- sigma: ``d/dsigma N = (1/sigma) (M(x) - N(x))`` with M the double-sided Maxwell
  of location mu and scale sigma; ``g_sigma = (r(mu + sigma M) - r(mu + sigma E)) / sigma``.

Uncoupled, the two draws are independent; coupled (common random numbers, as in the
reference), ``R2 = R1`` and ``E = M U`` with U uniform on (0, 1), which is standard
normal.  The mu and sigma components are sampled independently of each other, so
their covariance is 0.

Every moment is an exact Gaussian expectation: for R Rayleigh,
``E[h(R)] = sqrt(2 pi) E[h(eps) eps 1{eps > 0}]``; for M double-sided Maxwell
(density m**2 phi(m)), ``E[h(M)] = E[eps**2 h(eps)]``; and for the coupled sigma
component, with ``R_j`` an antiderivative of ``r**j``,

    E[r(mu + sigma M)**i r(mu + sigma M U)**j]
        = E[eps r(mu + sigma eps)**i (R_j(mu + sigma eps) - R_j(mu))] / sigma.

Where SymPy finds no antiderivative the inner integral over U stays an integral and
the expectation is computed by (nested) quadrature.
"""

from __future__ import annotations

import sympy

from verify.cases.symbols import EPS, MU, SIGMA, Z
from verify.exact.antiderivatives import antiderivative
from verify.exact.compound import Compound
from verify.exact.gaussian import Expectation, gaussian_expectation
from verify.exact.moment_source import MomentSource

# The inner variable of K_j(eps) = int_0^eps r(mu + sigma e)**j de (real, any sign).
_INNER = sympy.Symbol("e_inner", real=True)


def rayleigh_expectation(function_of_eps: sympy.Expr) -> Expectation:
    """E[h(R)], R Rayleigh(1), as a Gaussian expectation."""
    integrand = sympy.sqrt(2 * sympy.pi) * function_of_eps * EPS * sympy.Heaviside(EPS)
    return gaussian_expectation(integrand)


def maxwell_expectation(function_of_eps: sympy.Expr) -> Expectation:
    """E[h(M)], M standard double-sided Maxwell, as a Gaussian expectation."""
    return gaussian_expectation(EPS**2 * function_of_eps)


def raw_moment(estimator: str, derivation: MomentSource, parameter: str, order: int) -> Compound:
    """E[g**order] of the measure-valued estimator's ``parameter`` component."""
    coupled = estimator == "measure_valued_coupled"
    if parameter == "mu":
        return _mu_moment(derivation.r, order, coupled)
    return _sigma_moment(derivation.r, order, coupled)


def _mu_moment(r: sympy.Expr, order: int, coupled: bool) -> Compound:
    scale = 1 / (SIGMA * sympy.sqrt(2 * sympy.pi))
    plus, minus = r.subs(Z, MU + SIGMA * EPS), r.subs(Z, MU - SIGMA * EPS)
    if coupled:
        part = rayleigh_expectation((plus - minus) ** order)
        return Compound.of(lambda e: scale**order * e, part)
    plus_parts = [rayleigh_expectation(plus**j) for j in range(order + 1)]
    minus_parts = [rayleigh_expectation(minus**j) for j in range(order + 1)]
    return _difference_of_independent(scale, order, plus_parts, minus_parts)


def _sigma_moment(r: sympy.Expr, order: int, coupled: bool) -> Compound:
    scale = 1 / SIGMA
    sample = r.subs(Z, MU + SIGMA * EPS)
    if not coupled:
        maxwell = [maxwell_expectation(sample**j) for j in range(order + 1)]
        gaussian = [gaussian_expectation(sample**j) for j in range(order + 1)]
        return _difference_of_independent(scale, order, maxwell, gaussian)
    cross = [_coupled_cross(r, i, order - i) for i in range(order + 1)]

    def combine(*moments: sympy.Expr) -> sympy.Expr:
        return scale**order * sympy.Add(
            *(sympy.binomial(order, i) * (-1) ** (order - i) * moments[i] for i in range(order + 1))
        )

    return Compound.of(combine, *cross)


def _difference_of_independent(
    scale: sympy.Expr, order: int, first: list[Expectation], second: list[Expectation]
) -> Compound:
    """E[(scale (A - B))**order] for independent A, B from their moments."""

    def combine(*moments: sympy.Expr) -> sympy.Expr:
        a, b = moments[: order + 1], moments[order + 1 :]
        terms = (
            sympy.binomial(order, j) * a[j] * (-1) ** (order - j) * b[order - j]
            for j in range(order + 1)
        )
        return scale**order * sympy.Add(*terms)

    return Compound.of(combine, *first, *second)


def _coupled_cross(r: sympy.Expr, i: int, j: int) -> Expectation:
    """E[r(mu + sigma M)**i r(mu + sigma M U)**j] (see the module docstring)."""
    sample = r.subs(Z, MU + SIGMA * EPS)
    if j == 0:
        return maxwell_expectation(sample**i)
    if i == 0:
        return gaussian_expectation(sample**j)  # M U is standard normal
    found = antiderivative(r, j)
    if found is None:
        inner = sympy.Integral(r.subs(Z, MU + SIGMA * _INNER) ** j, (_INNER, 0, EPS))
        return gaussian_expectation(EPS * sample**i * inner)
    rise = found.subs(Z, MU + SIGMA * EPS) - found.subs(Z, MU)
    return gaussian_expectation(EPS * sample**i * rise / SIGMA)
