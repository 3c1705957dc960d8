"""Kinks inside functions (``exp(Min(eps, 0))``, the ELU) get closed forms by splitting the line.

The oracle is independent of the term engine: mpmath's tanh-sinh quadrature of the
integrand against the normal density at 30 digits, split at the kink.  Agreement to
1e-20 is far looser than either side's accuracy (exact against 30 digits) and far
tighter than any wrong branch could hide in (those move the value by more than 1e-3).
"""

from __future__ import annotations

import mpmath
import pytest
import sympy

from verify.cases.symbols import EPS, MU, SIGMA
from verify.exact import terms
from verify.exact.gaussian import gaussian_expectation

X = MU + SIGMA * EPS
POINT = {MU: sympy.Rational(1, 3), SIGMA: sympy.Rational(3, 4)}
INTEGRANDS = [
    sympy.exp(sympy.Min(X, 0)),  # ELU's negative side
    (sympy.Max(X, 0) + sympy.exp(sympy.Min(X, 0)) - 1) ** 2 * EPS,  # ELU squared, score-weighted
    sympy.cos(sympy.Abs(X - 1)),
    sympy.exp(-sympy.Abs(X)) * sympy.sign(X),
    sympy.exp(2 * sympy.Heaviside(X) * X),
    sympy.exp(sympy.Max(X, 0) - sympy.Max(-X, 1)),  # two kinks, lifted one after the other
]


def closed_form(integrand: sympy.Expr) -> mpmath.mpf:
    expectation = gaussian_expectation(integrand)
    assert expectation.value is not None, "expected a closed form"
    return mpmath.mpf(sympy.N(expectation.value.subs(POINT), 30).as_real_imag()[0])


def oracle(integrand: sympy.Expr) -> mpmath.mpf:
    function = sympy.lambdify(EPS, integrand.subs(POINT), modules="mpmath")
    # Every kink above is at X = -1, 0 or 1: split there, where tanh-sinh loses accuracy.
    kinks = [(x - POINT[MU]) / POINT[SIGMA] for x in (-1, 0, 1)]
    with mpmath.workdps(30):
        nodes = [-mpmath.inf, *(mpmath.mpf(sympy.N(k, 30)) for k in kinks), mpmath.inf]
        return mpmath.quad(lambda e: function(e) * mpmath.npdf(e), nodes)


@pytest.mark.parametrize("integrand", INTEGRANDS, ids=str)
def test_a_lifted_kink_matches_the_quadrature_oracle(integrand: sympy.Expr) -> None:
    with mpmath.workdps(30):
        assert abs(closed_form(integrand) - oracle(integrand)) < 1e-20


def test_a_wrong_branch_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    swapped = dict(terms._KINK_BRANCHES)
    swapped[sympy.Min] = lambda a, b: (a - b, a, b)  # Max's branches under Min's name
    monkeypatch.setattr(terms, "_KINK_BRANCHES", swapped)
    terms.expand_terms.cache_clear()
    try:
        with mpmath.workdps(30):
            wrong = closed_form(INTEGRANDS[0])
    finally:
        terms.expand_terms.cache_clear()
    with mpmath.workdps(30):
        assert abs(wrong - oracle(INTEGRANDS[0])) > 1e-3


def test_a_kink_with_a_nonlinear_gap_stays_without_closed_form() -> None:
    assert gaussian_expectation(sympy.exp(sympy.Min(EPS**2, 1))).value is None
