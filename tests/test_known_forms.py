"""Closed forms known by hand, and exact infinity where an integral diverges."""

from __future__ import annotations

import sympy
from hypothesis import given
from hypothesis import strategies as st

from verify.cases.symbols import MU, SIGMA, Z, parameter_symbol
from verify.exact.derivation import derive
from verify.exact.evaluation import evaluate_variance, exact_point

K = parameter_symbol("k")


def test_quadratic_variances_match_the_hand_derivation() -> None:
    derivation = derive((Z - K) ** 2)
    d = MU - K
    pathwise = derivation.variance_formula("pathwise", "mu")
    score = derivation.variance_formula("score", "mu")
    assert pathwise is not None
    assert score is not None
    assert sympy.simplify(pathwise - 4 * SIGMA**2) == 0
    expected = (d**4 + 14 * d**2 * SIGMA**2 + 15 * SIGMA**4) / SIGMA**2
    assert sympy.simplify(score - expected) == 0
    # ... and the comparison is not vacuous: a wrong coefficient is not simplified away.
    assert sympy.simplify(score - expected * sympy.Rational(101, 100)) != 0


def test_heaviside_pathwise_estimator_is_identically_zero() -> None:
    derivation = derive(sympy.Heaviside(Z - K))
    assert derivation.is_discontinuous
    assert derivation.mean_formula("pathwise", "mu") == 0
    assert derivation.variance_formula("pathwise", "sigma") == 0


@given(sigma=st.integers(20, 300).map(lambda i: i / 100))
def test_variance_is_infinite_exactly_where_the_integral_diverges(sigma: float) -> None:
    # r = exp(z^2/3): E[g^2] has integrand growth exp((2 sigma^2/3 - 1/2) eps^2), so the
    # variance is infinite exactly when sigma^2 >= 3/4.  Decided in rational arithmetic.
    derivation = derive(sympy.exp(Z**2 / 3))
    point = exact_point({"mu": 0.0, "sigma": sigma})
    for estimator in ("score", "pathwise"):
        variance = evaluate_variance(derivation, estimator, "mu", point).value
        assert (variance == sympy.oo) == (sympy.Rational(repr(sigma)) ** 2 >= sympy.Rational(3, 4))


def test_divergence_boundary_itself_is_infinite() -> None:
    # sigma^2 = 3/4 exactly: b = 1/2, the integrand is a polynomial with no decay.
    derivation = derive(sympy.exp(Z**2 / 3))
    point = {MU: sympy.Integer(0), SIGMA: sympy.sqrt(3) / 2}
    assert evaluate_variance(derivation, "score", "mu", point).as_json() == "inf"
