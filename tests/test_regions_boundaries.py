"""erfcx, the erf rewrite and the divergence boundary of the proven regions, each
against an independent oracle and each shown catching a wrong input.

- erfcx's ball encloses exp(x^2) erfc(x) (mpmath, 50 digits) at every point of a ball,
  far out in both tails; a ball from the midpoint alone misses values (caught);
- so do its derivatives (kept whole, erfcx_derivative), against mpmath's numerical
  derivatives; the erf rewrites are identities at every point, and a rewrite with the
  wrong exponent is caught;
- the boundary sigma = 1 of heavy_tail (a = 1/4): every box labelled ``"infinite"``
  diverges at every point of a lattice on it by the engine's exact test, every box given
  to an estimator is finite there with the sign mpmath finds; a finite box relabelled
  ``"infinite"`` is caught by the same check;
- an irrational boundary (sqrt 2) is bracketed by the two floats around it;
- relu's mu labels, proven through erfcx where 1 + erf cancels, hold on the original
  formula at 600 digits; a relabelled box is caught.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable

import mpmath
import pytest
import sympy
from flint import acb, arb

from verify.analysis.regions import INFINITE, Region, RegionSearch, shares, variance_form
from verify.api.case import Case
from verify.api.regions import RegionsResult, regions
from verify.cases.symbols import MU, SIGMA, Z, parameter_symbol
from verify.exact.balls import compile_balls, working_precision
from verify.exact.box_divergence import divergence_over, finite_part
from verify.exact.box_enclosure import interval_ball
from verify.exact.box_erfc import erf_scaled, erfcx
from verify.exact.derivation import derive
from verify.exact.evaluation import diverges

X = sympy.Symbol("x", real=True)
A = parameter_symbol("a")
LATTICE = (0.0, 0.13, 0.5, 0.77, 1.0)
NO_LIMIT = 3600.0
# The conftest fixture: sign_oracle(expr, digits)(point) is the sign, proven by balls.
SignOracle = Callable[[sympy.Expr, int], Callable[[dict[sympy.Symbol, sympy.Rational]], int]]
INTERVALS = ((-21.0, -20.5), (-1.0, 1.0), (0.0, 0.1), (5.3, 6.2), (20.0, 20.1), (25.0, 30.0))
MPMATH = [{"erfcx": lambda x: mpmath.exp(x**2) * mpmath.erfc(x)}, "mpmath"]


def _erfcx_exact(x: float, order: int) -> mpmath.mpf:
    """The order-th derivative of exp(x^2) erfc(x), by mpmath's numerical differentiation
    of the definition (independent of the recurrence the ball compiler uses)."""
    with mpmath.workdps(60):
        value = mpmath.diff(lambda t: mpmath.exp(t**2) * mpmath.erfc(t), mpmath.mpf(x), order)
    return mpmath.mpf(value)


def _misses(enclosure: arb, low: float, high: float, order: int) -> list[float]:
    """The lattice points of [low, high] whose value lies outside ``enclosure``."""
    lower = mpmath.mpf(enclosure.lower().str(40, radius=False))
    upper = mpmath.mpf(enclosure.upper().str(40, radius=False))
    slack = mpmath.mpf(10) ** -30 * (1 + abs(upper))  # the decimal printing of the ends
    points = [low + f * (high - low) for f in LATTICE]
    return [x for x in points if not lower - slack <= _erfcx_exact(x, order) <= upper + slack]


@pytest.mark.parametrize("order", [0, 1, 2, 3])
@pytest.mark.parametrize("interval", INTERVALS)
def test_erfcx_and_its_derivatives_enclose_every_value_of_a_ball(
    interval: tuple[float, float], order: int
) -> None:
    function = compile_balls(sympy.diff(erfcx(X), X, order), (X,))
    with working_precision(96):
        enclosure = function([interval_ball(*interval)]).real
    assert enclosure.is_finite()
    assert not _misses(enclosure, *interval, order)


@pytest.mark.parametrize("order", [0, 2])
def test_an_erfcx_ball_that_misses_values_is_caught(order: int) -> None:
    # The value at the midpoint alone is no enclosure of a ball: the check flags it.
    function = compile_balls(sympy.diff(erfcx(X), X, order), (X,))
    caught = []
    for low, high in INTERVALS:
        with working_precision(96):
            middle = function([acb((low + high) / 2)]).real
        caught.extend(_misses(middle, low, high, order))
    assert caught


def test_erfcx_is_tight_where_the_product_of_its_factors_is_not() -> None:
    # Over [20, 20.1], exp(x^2) and erfc(x) each vary by e^4: their product's ball is
    # wide, the endpoint enclosure is as narrow as erfcx's own variation (0.5%).
    scaled = compile_balls(erfcx(X), (X,))
    product = compile_balls(sympy.exp(X**2) * sympy.erfc(X), (X,))
    with working_precision(96):
        ball = interval_ball(20.0, 20.1)
        tight, wide = scaled([ball]).real, product([ball]).real
    assert float(tight.rad()) < 0.01 * float(tight.mid())
    assert float(wide.rad()) > 10 * float(wide.mid())


def _agree(original: sympy.Expr, rewritten: sympy.Expr) -> bool:
    first = sympy.lambdify(X, original, modules=MPMATH)
    second = sympy.lambdify(X, rewritten, modules=MPMATH)
    with mpmath.workdps(50):
        return all(
            abs(first(mpmath.mpf(x)) - second(mpmath.mpf(x))) < mpmath.mpf(10) ** -40
            for x in (-6.0, -1.25, 0.0, 0.5, 3.0)
        )


@pytest.mark.parametrize("sign", [-1, 1])
def test_the_erf_rewrites_are_identities(sign: int) -> None:
    original = (X**2 + 1) * (1 + sympy.erf(X / 2)) - X * sympy.exp(-(X**2) / 4)
    rewritten = erf_scaled(original, (sign,))
    assert rewritten.has(erfcx)
    assert _agree(original, rewritten)
    # The same rewrite with exp(+a^2) in place of exp(-a^2) is caught.
    careless = rewritten.replace(
        lambda e: isinstance(e, sympy.exp), lambda e: sympy.exp(-e.args[0])
    )
    assert not _agree(original, careless)


def _heavy_tail_search() -> tuple[RegionSearch, list[sympy.Expr], tuple[sympy.Expr, ...]]:
    derivation = derive(sympy.exp(A * Z**2))
    quarter = {A: sympy.Rational(1, 4)}
    forms = [variance_form(derivation, e, "sigma") for e in ("score", "pathwise")]
    assert forms[0] is not None
    assert forms[1] is not None
    values = [sympy.sympify(f.value).xreplace(quarter) for f in forms]
    conditions = tuple(sympy.sympify(b).xreplace(quarter) for f in forms for b in f.divergence)
    domain = {"mu": [-2, 2], "sigma": [0.1, 1.4]}
    case = Case("exp(a*z**2)", parameters={"a": [0.25]}, domain=domain)
    search = regions(case, max_boxes=4000, time_limit=NO_LIMIT).rows[0].searches["sigma"]
    return search, values, conditions


def _wrong_labels(
    regions_found: tuple[Region, ...],
    values: list[sympy.Expr],
    conditions: tuple[sympy.Expr, ...],
    sign_oracle: SignOracle,
    digits: int = 50,
) -> list[Region]:
    """The regions whose label a lattice point contradicts (exact divergence; the sign
    proven by balls, else mpmath at ``digits`` digits: the conftest fixture)."""
    sign = sign_oracle(values[0] - values[1], digits)
    wrong = []
    for region in regions_found:
        if region.label not in (INFINITE, "score", "pathwise"):
            continue
        sides = [[low + f * (high - low) for f in LATTICE] for low, high in region.box[:2]]
        for mu, sigma in itertools.product(*sides):
            point = {MU: sympy.Rational(mu), SIGMA: sympy.Rational(sigma)}
            divergent = diverges(conditions, point)
            if region.label == INFINITE:
                bad = not divergent
            else:
                bad = divergent or (sign(point) < 0) != (region.label == "score")
            if bad:
                wrong.append(region)
                break
    return wrong


def test_heavy_tail_boundary_labels_hold_at_every_lattice_point(sign_oracle: SignOracle) -> None:
    search, values, conditions = _heavy_tail_search()
    assert shares(search, ("pathwise", "score"))["undecided"] <= 0.01
    near = [r for r in search.regions if r.label == INFINITE and r.box[1][0] == 1.0]
    assert near, "no infinite box starts at the boundary sigma = 1 itself"
    assert not _wrong_labels(search.regions, values, conditions, sign_oracle)
    # The check can fail: a finite box just below the boundary relabelled infinite.
    below = next(r for r in search.regions if r.label == "pathwise" and r.box[1][1] > 0.99)
    tampered = (Region(below.box, INFINITE),)
    assert _wrong_labels(tampered, values, conditions, sign_oracle) == [tampered[0]]


def test_an_irrational_boundary_is_bracketed_by_two_floats() -> None:
    # sigma**2/4 >= 1/2 from sigma = sqrt(2) on (a = 1/8 in exp(a z^2)).
    condition = (SIGMA**2 / 4,)
    domain = ((-2.0, 2.0), (0.1, 1.6))
    part = finite_part(condition, (MU, SIGMA), domain)
    low, high = part.cuts[1]
    assert math.nextafter(low, math.inf) == high
    assert sympy.Rational(low) < sympy.sqrt(2) < sympy.Rational(high)
    assert part.box[1] == (0.1, low)
    assert divergence_over(condition, (MU, SIGMA), (domain[0], (0.1, low)), part) == "finite"
    assert divergence_over(condition, (MU, SIGMA), (domain[0], (high, 1.6)), part) == "divergent"
    assert divergence_over(condition, (MU, SIGMA), (domain[0], (low, high)), part) is None
    assert part.in_a_bracket((domain[0], (low, high)))


@functools.cache
def _erf_tail_regions(cost: str, c: float) -> RegionsResult:
    """Both components' regions of ``cost`` at c, searched once for the tests below: the
    search is a pure function of the case and the box budget (no time limit enters)."""
    case = Case(cost, parameters={"c": [c]}, domain={"mu": [-2, 2], "sigma": [0.1, 2]})
    return regions(case, max_boxes=4000, time_limit=NO_LIMIT)


@pytest.mark.parametrize(
    ("cost", "parameters", "component"),
    [
        ("Heaviside(z - c)", {"c": [1.0]}, "sigma"),
        ("Heaviside(z - c)", {"c": [1.0]}, "mu"),
        ("Max(z - c, 0)", {"c": [1.0]}, "sigma"),
        ("Max(z - c, 0)", {"c": [1.0]}, "mu"),
    ],
)
def test_erf_tails_are_decided_to_1_percent_within_4000_boxes(
    cost: str, parameters: dict[str, list[float]], component: str
) -> None:
    # Where (mu - c)/sigma is very negative, 1 + erf cancels: 5-23% stayed undecided.
    result = _erf_tail_regions(cost, parameters["c"][0])
    assert result.share(component)["undecided"] <= 0.01


def test_relu_mu_labels_hold_where_1_plus_erf_cancels(sign_oracle: SignOracle) -> None:
    # Proven by the erfcx rewrite; checked on the original formula by balls, else at 600
    # digits, as at mu = -1.45, sigma = 0.127 the difference is 1e-81 after terms of
    # size 1 cancel.
    derivation = derive(sympy.Max(Z - parameter_symbol("c"), 0))
    one = {parameter_symbol("c"): sympy.Integer(1)}
    forms = [variance_form(derivation, e, "mu") for e in ("score", "pathwise")]
    assert forms[0] is not None
    assert forms[1] is not None
    values = [sympy.sympify(f.value).xreplace(one) for f in forms]
    search = _erf_tail_regions("Max(z - c, 0)", 1.0).rows[0].searches["mu"]
    low = [r for r in search.regions if r.box[1][1] < 0.3][::16]  # where erf cancels
    assert len(low) > 10
    assert not _wrong_labels(tuple(low), values, (), sign_oracle, digits=600)
    # The check can fail: a box relabelled for the score function is caught.
    tampered = (Region(low[0].box, "score"),)
    assert _wrong_labels(tampered, values, (), sign_oracle, digits=600) == [tampered[0]]
