"""Certified numbers: balls contain an independent high-precision value, and catch wrong inputs.

The oracles are independent of the ball code: mpmath at 80 digits evaluating SymPy's
own lambdified formula (closed forms), and the closed-form Gaussian engine (for the
certified quadrature of integrands the engine also covers).  A ball that misses the
oracle by more than the oracle's own error (1e-70) is a wrong radius, however small.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import mpmath
import pytest
import sympy
from flint import arb
from hypothesis import example, given
from hypothesis import strategies as st

from verify.cases.symbols import EPS, MU, SIGMA
from verify.exact.balls import working_precision
from verify.exact.certified import RELATIVE_TARGET, closed_form_ball
from verify.exact.gaussian import gaussian_expectation
from verify.exact.growth import Growth, growth_bound
from verify.exact.quadrature import certified_expectation

ROOT = Path(__file__).resolve().parents[1]
ORACLE_DIGITS = 80
ORACLE_ERROR = mpmath.mpf(10) ** -70


def contains(ball: arb, value: mpmath.mpf) -> bool:
    """Whether the exact value lies in the ball, allowing the oracle's own error."""
    with mpmath.workdps(ORACLE_DIGITS):
        middle = mpmath.mpf(ball.mid().str(ORACLE_DIGITS, radius=False))
        radius = mpmath.mpf(ball.rad().str(10, radius=False)) * (1 + mpmath.mpf(10) ** -8)
        return bool(abs(middle - value) <= radius + ORACLE_ERROR)


def oracle(expr: sympy.Expr, point: dict[sympy.Symbol, sympy.Rational]) -> mpmath.mpf:
    with mpmath.workdps(ORACLE_DIGITS):
        return mpmath.re(sympy.N(expr.subs(point), ORACLE_DIGITS))


FORMULAS = {
    "tail cancellation": 1 + sympy.erf(MU / SIGMA),
    "variance-like cancellation": sympy.exp(SIGMA**2) - sympy.exp(SIGMA**2 / 2) ** 2 + MU**2,
    "trigonometric": sympy.cos(MU) * sympy.exp(-(SIGMA**2) / 2) - sympy.sin(MU) ** 3,
    "kinks": sympy.Abs(MU - 1) + sympy.Max(MU, SIGMA) * sympy.Heaviside(MU - SIGMA),
    # Two Piecewise share the pair (0, True): a shared subexpression that is no value
    # (it once failed to compile, as relu's moments did).
    "pieces sharing a branch": sympy.Piecewise((MU - 1, MU > 1), (0, True))
    + sympy.Piecewise((SIGMA * MU, MU > 1), (0, True)) ** 2,
}
coordinate = st.fractions(-8, 8, max_denominator=50).map(sympy.Rational)
positive = st.fractions("1/10", 4, max_denominator=50).map(sympy.Rational)


@pytest.mark.parametrize("name", sorted(FORMULAS))
@given(mu=coordinate, sigma=positive)
@example(
    mu=sympy.Integer(-8), sigma=sympy.Rational(1, 2)
)  # 1 + erf(-16): 1e-113 after cancellation
def test_closed_form_balls_contain_the_value(
    name: str, mu: sympy.Rational, sigma: sympy.Rational
) -> None:
    formula = FORMULAS[name]
    point = {MU: mu, SIGMA: sigma}
    ball = closed_form_ball(formula, point)
    assert contains(ball, oracle(formula, point))
    # Certified to the contract: 2^-116 (1.2e-35) relative, or tiny in absolute terms.
    assert ball.rad() <= RELATIVE_TARGET * abs(ball.mid()) or ball.rad() <= arb(10) ** -100


def test_a_ball_that_misses_the_value_is_caught() -> None:
    """The containment check itself can fail: a ball shifted by 1e-30 misses the value."""
    point = {MU: sympy.Rational(1, 3), SIGMA: sympy.Integer(1)}
    formula = FORMULAS["trigonometric"]
    ball = closed_form_ball(formula, point)
    assert contains(ball, oracle(formula, point))
    with working_precision(256):
        shifted = ball + arb(10) ** -30
    assert not contains(shifted, oracle(formula, point))


INTEGRANDS = {
    "polynomial times exponential": EPS**4 * sympy.exp(EPS / 3),
    "truncated far tail": sympy.exp(3 * EPS) * sympy.Heaviside(EPS - 4),
    "kink": sympy.Abs(EPS - sympy.Rational(1, 3)) ** 3,
    "oscillation": sympy.cos(5 * EPS) * EPS**2,
}


@pytest.mark.parametrize("name", sorted(INTEGRANDS))
def test_certified_quadrature_contains_the_closed_form(name: str) -> None:
    integrand = INTEGRANDS[name]
    exact = gaussian_expectation(integrand).value
    ball = certified_expectation(integrand, {})
    assert contains(ball, oracle(exact, {}))
    assert ball.rad() <= arb(10) ** -25 * abs(ball.mid())


@pytest.mark.parametrize("name", sorted(INTEGRANDS))
def test_a_wrong_integrand_is_caught_by_its_certified_bound(name: str) -> None:
    """A quadrature of a subtly wrong integrand (off by 1e-20 of eps**2) disagrees with
    the closed form: the certified ball excludes the true value."""
    integrand = INTEGRANDS[name]
    exact = gaussian_expectation(integrand).value
    wrong = certified_expectation(integrand + sympy.Rational(1, 10**20) * EPS**2, {})
    assert not contains(wrong, oracle(exact, {}))


def bound_holds(expr: sympy.Expr, growth: Growth, samples: list[float]) -> bool:
    """Whether |expr(x)| <= A exp(B|x| + C x^2) at every sample (40 digits)."""
    function = sympy.lambdify(EPS, expr, modules="mpmath")
    scale, linear, quadratic = (mpmath.mpf(sympy.N(v, 40)) for v in growth.__dict__.values())
    with mpmath.workdps(40):
        return all(
            abs(function(mpmath.mpf(x)))
            <= scale * mpmath.exp(linear * abs(x) + quadratic * mpmath.mpf(x) ** 2) * (1 + 1e-30)
            for x in samples
        )


GROWING = {
    "softplus squared": sympy.log(1 + sympy.exp(2 * EPS)) ** 2 * EPS**2,
    "sigmoid": EPS**3 / (1 + sympy.exp(-3 * EPS)),
    "gaussian bump": sympy.exp(-(EPS**2) / 3) * EPS**6,
    "polynomial exponential": (EPS - 2) ** 3 * sympy.exp(EPS / 2 - 1),
    "erf and atan": sympy.erf(EPS) * sympy.atan(3 * EPS) * EPS,
    "dilogarithm": sympy.polylog(2, -sympy.exp(EPS + 1)),
    "log-sigmoid antiderivative": sympy.polylog(2, -sympy.exp(-2 * EPS)) / 2,
    "softsign": EPS / (1 + sympy.Abs(EPS)),
    "log above a half": sympy.log(sympy.Rational(1, 2) + (EPS - 1) ** 2),
    "rational": (EPS**3 + 1) / (2 + EPS**2 + sympy.exp(EPS)) ** 2,
    "erfi": sympy.erfi(EPS / 2 + sympy.Rational(1, 3)),
    "erf of an imaginary argument": sympy.erf(sympy.I * EPS / 3),
    "shifted bump antiderivative": sympy.erf(EPS - sympy.Rational(1, 2)) * sympy.exp(-EPS),
    "mish": EPS * sympy.tanh(sympy.log(1 + sympy.exp(EPS))),
    "piecewise": sympy.Piecewise((EPS**2, EPS > 1), (sympy.exp(EPS) - 1, True)),
    "ELU": sympy.Max(EPS + 1, 0) + sympy.exp(sympy.Min(0, EPS + 1)) - 1,
    "log above an irrational floor": sympy.log(sympy.exp(-1) + sympy.exp(-2 * EPS - 2)) / 2,
    "kinks inside exp": sympy.exp(sympy.Max(EPS, -EPS / 2) - sympy.Abs(EPS - 1) / 3),
}
SAMPLES = [x / 4 for x in range(-200, 201)]


@pytest.mark.parametrize("name", sorted(GROWING))
def test_growth_bounds_hold(name: str) -> None:
    growth = growth_bound(GROWING[name], EPS)
    assert growth is not None
    assert bound_holds(GROWING[name], growth, SAMPLES)


def test_a_wrong_growth_bound_is_caught() -> None:
    """The sampled check fails a bound that is too small (eps**2 is not bounded by 1)."""
    wrong = Growth(sympy.Integer(1), sympy.Integer(0), sympy.Integer(0))
    assert not bound_holds(EPS**2, wrong, SAMPLES)


def test_no_bound_is_claimed_for_super_exponential_growth() -> None:
    assert growth_bound(sympy.exp(sympy.exp(EPS)), EPS) is None


@pytest.mark.parametrize(
    "expr",
    [1 / (1 - sympy.exp(EPS)), sympy.log(1 - EPS**2), 1 / (sympy.Abs(EPS) - 1), sympy.tan(EPS)],
)
def test_no_bound_is_claimed_without_a_positive_floor(expr: sympy.Expr) -> None:
    """Denominators and logarithms that reach 0 (poles, log singularities) get no bound."""
    assert growth_bound(expr, EPS) is None


@pytest.mark.parametrize(
    ("case", "at"),
    [("quadratic", ["k=1"]), ("softplus", ["k=1"]), ("two_kinks", [])],
)
def test_every_reported_value_has_a_certified_radius(case: str, at: list[str]) -> None:
    """The JSON's radius map covers every value, within 1e-25 relative or 1e-30 absolute."""
    arguments = [f"--at={a}" for a in ("mu=1", "sigma=1", *at)]
    command = [sys.executable, "-m", "verify.cli", "evaluate", f"cases/{case}.toml", "--json"]
    output = subprocess.run(
        [*command, *arguments], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    record = json.loads(output)
    values = _flatten(record)
    assert set(record["methods"]) <= set(record["radius"])
    for name, radius in record["radius"].items():
        value = values[name]
        assert radius is not None, name
        if isinstance(value, str):
            assert radius == 0.0, name  # infinities and nan decided exactly
        else:
            assert radius <= max(1e-25 * abs(value), 1e-30), (name, value, radius)


def _flatten(record: dict[str, object]) -> dict[str, object]:
    values: dict[str, object] = {"objective": record["objective"]}
    values |= {f"gradient.{p}": v for p, v in record["gradient"].items()}  # type: ignore[attr-defined]
    for estimator, table in record["estimators"].items():  # type: ignore[attr-defined]
        for statistic in ("mean", "variance", "baseline"):
            for p, v in table.get(statistic, {}).items():
                values[f"{estimator}.{statistic}.{p}"] = v
        values[f"{estimator}.covariance"] = table["covariance"]["mu_sigma"]
        values[f"{estimator}.trace"] = table["covariance"]["trace"]
        for p, v in record["bias"][estimator].items():  # type: ignore[index]
            values[f"{estimator}.bias.{p}"] = v
    for estimator, table in record["efficiency"].items():  # type: ignore[attr-defined]
        values |= {f"efficiency.{estimator}.{p}": v for p, v in table.items()}
    assert all(math.isfinite(v) for v in values.values() if isinstance(v, float))
    return values


def test_a_loose_growth_bound_still_gives_a_finite_ball() -> None:
    """The sigmoid's pathwise fourth moment at slope 8: its growth bound
    4096 exp(32 + 32|x|) certifies the tails only beyond |x| = 68 (it once came out nan,
    and the Monte Carlo checks were skipped as 'fourth moment infinite')."""
    # In the form the derivation gives r'(z)**4 (as (8 l (1 - l))**4 the bound is tighter).
    x = EPS + 1
    integrand = 8**4 * sympy.exp(-32 * x) / (1 + sympy.exp(-8 * x)) ** 8
    ball = certified_expectation(integrand, {})
    with mpmath.workdps(ORACLE_DIGITS):
        function = sympy.lambdify(EPS, integrand, "mpmath")
        value = mpmath.quad(lambda e: function(e) * mpmath.npdf(e), [-mpmath.inf, -1, mpmath.inf])
    assert ball.is_finite()
    assert contains(ball, value)


def test_memoised_closed_forms_and_divergence_answer_for_their_own_point() -> None:
    # closed_form_ball and diverges are memoised on (formula, point): asked again, or at
    # a point differing in one coordinate only, each gives that point's own answer --
    # the ladder run afresh, and the exact test -- which a memo keyed on the formula
    # alone, or on some coordinates only, would not.
    from verify.exact.certified import _ladder
    from verify.exact.evaluation import diverges

    formula = sympy.exp(MU + SIGMA**2 / 2) * sympy.erf(MU / SIGMA)
    points = [{MU: sympy.Rational(1, 3), SIGMA: s} for s in (sympy.Integer(1), sympy.Integer(2))]
    for _ in range(2):
        balls = [closed_form_ball(formula, point) for point in points]
        for ball, point in zip(balls, points, strict=True):
            fresh = _ladder(formula, point, {})
            assert ball.mid() == fresh.mid()
            assert ball.rad() == fresh.rad()
        assert balls[0].mid() != balls[1].mid()
        condition = (SIGMA**2 / 4,)  # re(b) >= 1/2 exactly when sigma >= sqrt(2)
        assert [diverges(condition, point) for point in points] == [False, True]
