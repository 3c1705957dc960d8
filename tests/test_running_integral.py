"""The coupled measure-valued moments without nested quadrature, and the checks that catch errors.

``E[eps r(mu + sigma eps)**i K_j(eps)]`` with ``K_j(eps) = int_0^eps r(mu + sigma e)**j de``
is certified by :mod:`verify.exact.running_integral`.  Oracles, each independent of it:
the closed-form antiderivative path (cos, a quadratic, an exponential: SymPy finds
``R_j``), and mpmath's nested tanh-sinh quadrature of the defining double integral
``E[M**2 r(mu + sigma M)**i int_0^1 r(mu + sigma M u)**j du]`` split at every kink.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mpmath
import pytest
import sympy
from flint import acb, arb

from verify.cases.symbols import EPS, MU, SIGMA, Z
from verify.exact.antiderivatives import antiderivative
from verify.exact.balls import BallFunction, compile_balls, working_precision
from verify.exact.branches import on_piece
from verify.exact.evaluation import evaluate_expectation
from verify.exact.gaussian import gaussian_expectation
from verify.exact.measure_valued import _coupled_cross
from verify.exact.quadrature import certified_expectation
from verify.exact.running_integral import _chebyshev_model

ROOT = Path(__file__).resolve().parents[1]
INNER = sympy.Symbol("e_inner", real=True)
POINT = {MU: sympy.Integer(1), SIGMA: sympy.Rational(3, 4)}


def running(r: sympy.Expr, i: int, j: int) -> sympy.Expr:
    """The running-integral integrand of E[r(mu + sigma M)**i r(mu + sigma M U)**j]."""
    inner = sympy.Integral(r.subs(Z, MU + SIGMA * INNER) ** j, (INNER, 0, EPS))
    return EPS * r.subs(Z, MU + SIGMA * EPS) ** i * inner


def disjoint(a: arb, b: arb) -> bool:
    return not a.overlaps(b)


CLOSED = {
    "cosine": sympy.cos(2 * Z),
    "quadratic": (Z - 1) ** 2,
    "exponential": sympy.exp(Z / 2),
    "heavy tail": sympy.exp(Z**2 / 5),  # R_j has erfi (ball evaluation and growth bound)
}


@pytest.mark.parametrize("name", sorted(CLOSED))
@pytest.mark.parametrize(("i", "j"), [(1, 1), (2, 1), (1, 2)])
def test_running_integral_matches_the_antiderivative_path(name: str, i: int, j: int) -> None:
    r = CLOSED[name]
    closed = _coupled_cross(r, i, j)
    assert not closed.integrand.has(sympy.Integral)  # SymPy found R_j: an independent path
    expected = evaluate_expectation(closed, POINT).ball
    ball = certified_expectation(running(r, i, j), POINT)
    assert expected is not None
    assert ball.overlaps(expected)
    assert ball.rad() < 1e-28 * abs(ball.mid())


def test_an_off_by_one_power_is_caught() -> None:
    """The running integral of r**2 where the closed form integrates r: balls disjoint."""
    r = CLOSED["cosine"]
    expected = evaluate_expectation(_coupled_cross(r, 1, 1), POINT).ball
    assert expected is not None
    assert disjoint(certified_expectation(running(r, 1, 2), POINT), expected)
    assert disjoint(certified_expectation(running(r, 2, 1), POINT), expected)


def double_quadrature(function: object, i: int, j: int, kinks: list[float]) -> mpmath.mpf:
    """E[M**2 f(1 + M)**i int_0^1 f(1 + M u)**j du] at mu = sigma = 1, split at z = kinks."""
    f = function  # a callable on mpmath numbers

    def inner(m: mpmath.mpf) -> mpmath.mpf:
        cuts = [(k - 1) / m for k in kinks if m != 0 and 0 < (k - 1) / m < 1]
        return mpmath.quad(lambda u: f(1 + m * u) ** j, [0, *cuts, 1])  # type: ignore[operator]

    outer = [-mpmath.inf, *sorted(k - 1 for k in kinks), mpmath.inf]
    return mpmath.quad(lambda m: m**2 * mpmath.npdf(m) * f(1 + m) ** i * inner(m), outer)  # type: ignore[operator]


NO_ANTIDERIVATIVE = {
    # (r, the same in mpmath, kinks in z)
    "silu": (Z / (1 + sympy.exp(-Z)), lambda z: z / (1 + mpmath.exp(-z)), []),
    "softsign": (Z / (1 + sympy.Abs(Z)), lambda z: z / (1 + abs(z)), [0.0]),
    "elu": (
        sympy.Max(Z, 0) + sympy.Min(sympy.exp(Z) - 1, 0),
        lambda z: max(z, 0) + min(mpmath.exp(z) - 1, 0),
        [0.0],
    ),
}


# The nested mpmath oracle takes 5-25 s per cost: the kinked softsign runs by default,
# the others under `-m slow`.
ORACLE_CASES = [
    pytest.param(name, marks=[] if name == "softsign" else [pytest.mark.slow])
    for name in sorted(NO_ANTIDERIVATIVE)
]


@pytest.mark.parametrize("name", ORACLE_CASES)
def test_running_integral_matches_a_nested_mpmath_oracle(name: str) -> None:
    r, function, kinks = NO_ANTIDERIVATIVE[name]
    point = {MU: sympy.Integer(1), SIGMA: sympy.Integer(1)}
    assert _coupled_cross(r, 1, 1).integrand.has(sympy.Integral)  # no antiderivative here
    ball = certified_expectation(running(r, 1, 1), point)
    with mpmath.workdps(15):
        value = double_quadrature(function, 1, 1, kinks)
        middle = mpmath.mpf(ball.mid().str(30, radius=False))
        assert abs(middle - value) < mpmath.mpf(10) ** -12 * abs(value)
    assert ball.rad() < 1e-28 * abs(ball.mid())


def test_an_inner_integrand_perturbed_by_1e20_is_excluded() -> None:
    r = NO_ANTIDERIVATIVE["silu"][0]
    exact = certified_expectation(running(r, 1, 1), POINT)
    bump = sympy.exp(-(INNER**2))  # bounded, positive: K moves by up to 1e-20 * sqrt(pi)/2
    sample = r.subs(Z, MU + SIGMA * EPS)
    inner = r.subs(Z, MU + SIGMA * INNER) + sympy.Rational(1, 10**20) * bump
    perturbed = EPS * sample * sympy.Integral(inner, (INNER, 0, EPS))
    assert disjoint(certified_expectation(perturbed, POINT), exact)


def test_an_outer_integrand_perturbed_by_1e20_is_excluded() -> None:
    r = NO_ANTIDERIVATIVE["softsign"][0]
    exact = certified_expectation(running(r, 1, 1), POINT)
    perturbed = running(r, 1, 1) * (1 + sympy.Rational(1, 10**20) / (1 + EPS**2))
    assert disjoint(certified_expectation(perturbed, POINT), exact)


def chebyshev_error(wanted: float, keep_remainder: bool) -> tuple[float, float]:
    """(the largest actual error of K's model for the sigmoid on [0, 2], what the model
    allows: its remainder bound plus the interpolant's own radius, or the radius alone)."""
    g = 1 / (1 + sympy.exp(-EPS))
    with working_precision(128):
        middle, half = arb(1), arb(1)
        model = _chebyshev_model(compile_balls(g, (EPS,)), middle, half, arb(wanted), 128)
        assert model is not None
        antiderivative, bound, _ = model
        worst, radius = arb(0), arb(0)
        for k in range(-20, 21):
            tau = arb(k) / 20
            x = middle + half * tau
            exact = (1 + x.exp()).log() - arb(2).log()  # K(x) = int_0^x sigmoid
            modelled = half * (antiderivative(acb(tau)) - antiderivative(acb(-1))).real
            worst = max(worst, abs(exact - modelled).mid())
            radius = max(radius, (exact - modelled).rad())
        remainder = 2 * half * bound if keep_remainder else arb(0)  # |K - model| <= 2 |h| E
    return float(worst), float((remainder + radius).mid())


@pytest.mark.parametrize("wanted", [1e-3, 1e-10, 1e-16])
def test_the_chebyshev_remainder_bounds_the_actual_error(wanted: float) -> None:
    worst, allowed = chebyshev_error(wanted, keep_remainder=True)
    assert 0 < worst <= allowed


def test_a_dropped_remainder_is_caught() -> None:
    """A low-degree model without its remainder: the actual error exceeds what it allows."""
    worst, allowed = chebyshev_error(1e-3, keep_remainder=False)
    assert worst > allowed


def test_kinks_are_resolved_only_where_the_sign_is_proved() -> None:
    x = sympy.Symbol("x", real=True)
    elu = sympy.Max(x, 0) + sympy.Min(sympy.exp(x) - 1, 0)
    assert on_piece(elu, x, sympy.Integer(-3), sympy.Integer(0)) == sympy.exp(x) - 1
    assert on_piece(elu, x, sympy.Integer(0), sympy.Integer(2)) == x
    # Proved on sub-balls: one ball of exp over [-24, -1] contains 0 (it once stayed a Min).
    assert on_piece(elu, x, sympy.Integer(-24), sympy.Integer(-1)) == sympy.exp(x) - 1
    # The kink x = 0 inside the interval: neither branch holds, so nothing is resolved.
    assert on_piece(elu, x, sympy.Integer(-1), sympy.Integer(1)) == elu
    steps = sympy.Heaviside(x - 1) + sympy.Piecewise((x, x > 2), (-x, True))
    assert on_piece(steps, x, sympy.Integer(1), sympy.Integer(2)) == 1 - x
    assert on_piece(steps, x, sympy.Rational(3, 2), sympy.Integer(3)) == steps.subs(
        sympy.Heaviside(x - 1), 1
    )


def test_a_resolved_piece_integrates_like_the_kinked_formula() -> None:
    """acb.integral over (0, 2) of the resolved and of the kinked softsign agree."""
    x = sympy.Symbol("x", real=True)
    softsign = x / (1 + sympy.Abs(x))
    resolved = on_piece(softsign, x, sympy.Integer(0), sympy.Integer(2))
    assert not resolved.has(sympy.Abs)
    values = []
    with working_precision(128):
        for expr in (resolved, softsign):
            function = compile_balls(expr, (x,))

            def integrand(t: acb, analytic: bool, f: BallFunction = function) -> acb:
                return f([t], analytic)

            values.append(acb.integral(integrand, 0, 2).real)
    assert values[0].overlaps(values[1])
    assert values[0].rad() < 1e-30


def test_the_shifted_bump_is_certified_everywhere(tmp_path: Path) -> None:
    """It once had one number with radius null: its antiderivative's growth was unknown."""
    case = tmp_path / "bump.toml"
    case.write_text('r = "exp(-a*(z - b)**2)"\n[parameters]\na = 1.0\nb = 0.5\n')
    command = [sys.executable, "-m", "verify.cli", "evaluate", str(case), "--json"]
    points = ["--at=mu=1", "--at=sigma=1"]
    output = subprocess.run(
        [*command, *points], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    radii = json.loads(output)["radius"]
    assert radii
    assert all(radius is not None for radius in radii.values())


def test_no_closed_form_is_invented() -> None:
    """The running-integral path is quadrature, not a closed form."""
    expectation = gaussian_expectation(running(NO_ANTIDERIVATIVE["silu"][0], 1, 1))
    assert expectation.value is None
    assert expectation.method == "quadrature"


_POLYNOMIALS = {
    "numeric": 3 * Z**3 - Z / 2 + 7,
    "symbolic": (sympy.Symbol("y", real=True) - Z - MU - SIGMA * EPS) ** 2 / 2,
    "transcendental coefficient": sympy.exp(MU) * Z**2 + sympy.cos(SIGMA) * Z,
}


@pytest.mark.parametrize("name", sorted(_POLYNOMIALS))
@pytest.mark.parametrize("power", [1, 2, 3])
def test_a_polynomial_antiderivative_is_sympys_own_expression(name: str, power: int) -> None:
    # The polynomial rule must give what sympy.integrate gives, expression for
    # expression (the moments built on it are printed and evaluated as they stand).
    r = _POLYNOMIALS[name]
    expected = sympy.integrate(sympy.expand(r**power), Z, conds="none")
    assert sympy.srepr(_polynomial_antiderivative(r, power)) == sympy.srepr(expected)


def _polynomial_antiderivative(r: sympy.Expr, power: int) -> sympy.Expr | None:
    antiderivative.cache_clear()  # the rule itself, not an earlier answer
    return antiderivative(r, power)


def test_an_antiderivative_of_the_wrong_power_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    original = sympy.Poly.__pow__
    monkeypatch.setattr(sympy.Poly, "__pow__", lambda base, n: original(base, n + 1))
    with pytest.raises(AssertionError):
        test_a_polynomial_antiderivative_is_sympys_own_expression("numeric", 2)
