"""score_loo's variance and covariance as functions of M at one point, exact.

Contract: :func:`loo_forms` returns, for each of Var[g_mu], Var[g_sigma] and
Cov[g_mu, g_sigma] of the M-sample leave-one-out estimate
(:mod:`verify.exact.leave_one_out`), a :class:`LooForm`: the certified numbers V and X
with

    Cov(M) = V / M + X / (M (M - 1)),

and, where V and X are rational numbers at the point (polynomial costs at rational
points), their exact values and the rational function of M they make (``formula``);
elsewhere the report gives V and X as certified numbers.  V is the limit of M Cov(M)
(score_baseline_mean's single-sample value); X >= 0 for a variance, so M Var(M)
decreases to V.

>>> from verify.exact.derivation import derive
>>> from verify.exact.evaluation import exact_point
>>> from verify.cases.symbols import Z
>>> mu_form = loo_forms(derive((Z - 1) ** 2), exact_point({"mu": 1, "sigma": 1}))[0]
>>> mu_form.formula, mu_form.limit.value, mu_form.excess.value
(2*(5*M - 4)/(M*(M - 1)), mpf('10.0'), mpf('2.0'))
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from verify.exact.compound import Compound
from verify.exact.evaluation import ExactPoint, evaluate_expectation
from verify.exact.leave_one_out import M, limit_and_excess
from verify.exact.moment_source import MomentSource
from verify.exact.numbers import Number

PAIRS = (("mu", "mu"), ("sigma", "sigma"), ("mu", "sigma"))


@dataclass(frozen=True)
class LooForm:
    """Cov[g_first, g_second](M) = V / M + X / (M (M - 1)) at one point."""

    first: str
    second: str
    limit: Number  # V, certified
    excess: Number  # X, certified
    exact_limit: sympy.Expr | None  # V in closed form at the point (None: not available)
    exact_excess: sympy.Expr | None
    formula: sympy.Expr | None  # the rational function of M, when V and X are exact

    @property
    def is_variance(self) -> bool:
        return self.first == self.second


def exact_at(quantity: Compound, point: ExactPoint) -> sympy.Expr | None:
    """The exact value of ``quantity`` at ``point`` when it is a rational number (the
    polynomial costs at rational points); None otherwise, and the report gives the
    certified number.  Simplifying transcendental closed forms (expand_complex, then
    simplify or factor) took seconds per case, and over ten minutes for the sine case.
    """
    value = quantity.value
    if value is None:
        return None
    at = value.xreplace(point)
    return at if at.is_Rational else None


def loo_forms(source: MomentSource, point: ExactPoint) -> list[LooForm]:
    """The three forms (mu mu, sigma sigma, mu sigma) at ``point``."""
    forms = []
    for first, second in PAIRS:
        limit, excess = limit_and_excess(source, first, second)
        v, x = exact_at(limit, point), exact_at(excess, point)
        formula = None
        if v is not None and x is not None:
            formula = rational_in_m(v, x)
        forms.append(
            LooForm(
                first,
                second,
                evaluate_expectation(limit, point),
                evaluate_expectation(excess, point),
                v,
                x,
                formula,
            )
        )
    return forms


def rational_in_m(limit: sympy.Expr, excess: sympy.Expr) -> sympy.Expr | None:
    """``V / M + X / (M (M - 1))`` as one factored fraction in M when V and X are rational;
    None otherwise (the report then gives V and X as certified numbers): factoring or
    simplifying over transcendental coefficients (the sine case's exp(-k**2 ...)) ran for
    minutes.

    >>> rational_in_m(sympy.Integer(138), sympy.Integer(130))
    2*(69*M - 4)/(M*(M - 1))
    """
    if limit.is_Rational and excess.is_Rational:
        return sympy.factor(sympy.together(limit / M + excess / (M * (M - 1))))
    return None
