"""The box enclosures and the sign-preserving rewrite, against an independent oracle.

The oracle is mpmath at 50 digits on a fixed lattice of points inside each box: every
value must lie in the box's enclosure, and the rewritten formula must have the sign of
the original at every point.  Each check is shown catching a wrong input: a centred form
given a wrong derivative bound excludes true values, so does a second-order Taylor form
given a wrong Hessian, and a rewrite that drops the sign of a negative denominator
disagrees with the original.  A previously undecided
component (gaussian_bump, mu) now reaches at most 1% undecided area within a budget of
boxes examined (machine-independent: no time enters).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import mpmath
import pytest
import sympy
from flint import arb

from verify.analysis.regions import (
    UNDECIDED,
    SmearLabeller,
    VarianceForm,
    closed_form_labeller,
    search_regions,
    shares,
)
from verify.api.case import Case
from verify.api.regions import regions
from verify.cases.symbols import MU, SIGMA, Z, parameter_symbol
from verify.exact.balls import compile_balls
from verify.exact.box_compile import straight_line
from verify.exact.box_enclosure import Box, BoxFunction, box_function
from verify.exact.box_normal import sign_equivalent
from verify.exact.derivation import derive
from verify.exact.dimension import derive_case

K = parameter_symbol("k")
C = parameter_symbol("c")
CLIP = Z - sympy.Max(Z - C, 0) + sympy.Max(-Z - C, 0)
LATTICE = (0.0, 0.13, 0.5, 0.77, 1.0)  # fractions of each side, corners included
NO_LIMIT = 3600.0
# The conftest fixture: sign_oracle(expr, digits)(point) is the sign, proven by balls.
SignOracle = Callable[[sympy.Expr, int], Callable[[dict[sympy.Symbol, sympy.Rational]], int]]


def _difference(cost: sympy.Expr, component: str, fixed: dict[sympy.Symbol, int]) -> sympy.Expr:
    derivation = derive(cost)
    score = derivation.variance_formula("score", component)
    pathwise = derivation.variance_formula("pathwise", component)
    assert score is not None
    assert pathwise is not None
    return sympy.sympify(score - pathwise).xreplace(fixed)


def _product_difference(component: str) -> sympy.Expr:
    """A product of cos(2 z_i) over d = 64 coordinates: both variances carry
    E[cos(2 z)**2]**63, and the squared means E[cos(2 z)]**126 cancel exactly."""
    case = Case("cos(k*z)", parameters={"k": [2.0], "d": [64]}, dimension="d", combine="product")
    derivation = derive_case(case)
    score = derivation.variance_formula("score", component)
    pathwise = derivation.variance_formula("pathwise", component)
    assert score is not None
    assert pathwise is not None
    fixed = {K: 2, parameter_symbol("d"): 64}
    return sympy.sympify(score - pathwise).xreplace(fixed)


DIFFERENCES = {
    "cos product d=64 sigma": lambda: _product_difference("sigma"),
    "gaussian_bump mu": lambda: _difference(sympy.exp(-K * Z**2), "mu", {K: 1}),
    "gaussian_bump sigma": lambda: _difference(sympy.exp(-K * Z**2), "sigma", {K: 1}),
    "relu sigma": lambda: _difference(sympy.Max(Z - C, 0), "sigma", {C: 1}),
    "clip sigma": lambda: _difference(CLIP, "sigma", {C: sympy.Rational(1, 2)}),
}
DOMAIN: Box = ((-3.0, 3.0), (0.1, 3.0))
BOXES: tuple[Box, ...] = (
    ((0.25, 0.5), (0.75, 1.0)),
    ((-2.5, -2.25), (2.5, 2.75)),
    ((1.0, 1.0625), (0.1, 0.1625)),
    ((-0.03125, 0.03125), (1.5, 1.53125)),
    ((0.5, 0.5078125), (1.0, 1.0078125)),  # small: the centred form is the tightest
)


def _points(box: Box) -> list[dict[sympy.Symbol, sympy.Rational]]:
    sides = [[low + f * (high - low) for f in LATTICE] for low, high in box]
    return [
        {MU: sympy.Rational(mu), SIGMA: sympy.Rational(sigma)}
        for mu, sigma in itertools.product(*sides)
    ]


def _oracle(
    expr: sympy.Expr, digits: int = 50
) -> Callable[[dict[sympy.Symbol, sympy.Rational]], mpmath.mpf]:
    function = sympy.lambdify((MU, SIGMA), expr, modules="mpmath")

    def value(point: dict[sympy.Symbol, sympy.Rational]) -> mpmath.mpf:
        with mpmath.workdps(digits):
            return mpmath.re(function(mpmath.mpf(point[MU]), mpmath.mpf(point[SIGMA])))

    return value


def _outside(enclosure: arb, values: list[mpmath.mpf]) -> list[mpmath.mpf]:
    low, high = (
        mpmath.mpf(enclosure.lower().str(30, radius=False)),
        mpmath.mpf(enclosure.upper().str(30, radius=False)),
    )
    slack = mpmath.mpf(10) ** -25 * (1 + abs(high))  # the decimal printing of the ends
    return [v for v in values if not (low - slack <= v <= high + slack)]


@pytest.mark.parametrize("rewrite", [False, True])
@pytest.mark.parametrize("name", sorted(DIFFERENCES))
def test_every_value_in_a_box_lies_in_its_enclosure(name: str, rewrite: bool) -> None:
    difference = DIFFERENCES[name]()
    if rewrite:
        difference = sign_equivalent(difference, (MU, SIGMA), DOMAIN)
    function = box_function(difference, (MU, SIGMA))
    oracle = _oracle(difference)
    for box in BOXES:
        values = [oracle(point) for point in _points(box)]
        assert not _outside(function.enclose(box), values), box


def test_a_wrong_derivative_bound_is_caught() -> None:
    # The rewritten difference (what the labeller encloses): its gradient is tight.
    difference = sign_equivalent(DIFFERENCES["gaussian_bump mu"](), (MU, SIGMA), DOMAIN)
    true = box_function(difference, (MU, SIGMA))
    # d/dmu replaced by a tenth of itself: the centred form is then no enclosure.
    wrong_partial = compile_balls(sympy.diff(difference, MU) / 10, (MU, SIGMA))
    wrong = BoxFunction(true.value, (wrong_partial, true.partials[1]))
    oracle = _oracle(difference)
    caught = []
    for box in BOXES:
        values = [oracle(point) for point in _points(box)]
        assert not _outside(true.enclose(box), values)
        caught.extend(_outside(wrong.enclose(box), values))
    assert caught, "a derivative bound ten times too small went unnoticed"


@pytest.mark.parametrize("name", sorted(DIFFERENCES))
def test_every_value_in_a_box_lies_in_its_second_order_form(name: str) -> None:
    difference = sign_equivalent(DIFFERENCES[name](), (MU, SIGMA), DOMAIN)
    function = box_function(difference, (MU, SIGMA))
    oracle = _oracle(difference)
    for box in BOXES:
        second = function.second_order(box)
        assert second is not None, "a smooth rewritten difference has a second-order form"
        assert not _outside(second, [oracle(point) for point in _points(box)]), box


def test_a_formula_with_a_kink_has_no_second_order_form() -> None:
    # Max(mu, 0) has a Dirac mass in its second derivative: no Taylor form across it.
    assert box_function(sympy.Max(MU, 0) * SIGMA, (MU, SIGMA)).second_order(BOXES[0]) is None


def test_a_wrong_hessian_is_caught() -> None:
    difference = sign_equivalent(DIFFERENCES["gaussian_bump mu"](), (MU, SIGMA), DOMAIN)
    true = box_function(difference, (MU, SIGMA))
    # Every second derivative replaced by a tenth of itself: no longer an enclosure.
    wrong = BoxFunction(true.value, true.partials, (), true.formula, (MU, SIGMA), true.first)
    seconds = [sympy.diff(difference, *pair) for pair in ((MU, MU), (MU, SIGMA), (SIGMA, SIGMA))]
    wrong._hessian[(0, 1)] = straight_line([s / 10 for s in seconds], (MU, SIGMA))
    oracle = _oracle(difference)
    caught = []
    for box in (*BOXES, ((-2.0, -1.0), (1.0, 2.0))):
        values = [oracle(point) for point in _points(box)]
        assert not _outside(true.second_order(box), values)
        caught.extend(_outside(wrong.second_order(box), values))
    assert caught, "a Hessian ten times too small went unnoticed"


def test_clip_sigma_is_decided_to_1_percent_within_4000_boxes() -> None:
    # The first-order centred form left 66% undecided here: the partials' enclosures are
    # sums of large terms that nearly cancel; the second-order form needs them at a point.
    case = Case(str(CLIP), parameters={"c": [0.5]}, domain={"mu": [-3, 3], "sigma": [0.1, 3]})
    result = regions(case, max_boxes=4000, time_limit=NO_LIMIT)
    assert result.share("sigma")["undecided"] <= 0.01


def _disagreements(
    original: sympy.Expr, rewritten: sympy.Expr, box: Box, sign_oracle: SignOracle
) -> int:
    # At mu = -3, sigma = 0.1 the relu difference is 1e-348, left after terms of size 1
    # cancel: the oracle proves each sign by balls, and falls back to 1000 digits.
    first, second = sign_oracle(original, 1000), sign_oracle(rewritten, 1000)
    return sum(first(point) != second(point) for point in _points(box))


@pytest.mark.parametrize("name", sorted(DIFFERENCES))
def test_the_rewrite_keeps_the_sign_everywhere(name: str, sign_oracle: SignOracle) -> None:
    difference = DIFFERENCES[name]()
    rewritten = sign_equivalent(difference, (MU, SIGMA), DOMAIN)
    assert rewritten != difference, "nothing was rewritten: the test would prove nothing"
    for box in (*BOXES, DOMAIN):
        assert _disagreements(difference, rewritten, box, sign_oracle) == 0


def test_a_rewrite_that_drops_a_negative_denominator_is_caught(sign_oracle: SignOracle) -> None:
    # (mu - 1/3) exp(-mu**2) / (sigma - 5): sigma < 5 on the domain, so the sign flips.
    original = (MU - sympy.Rational(1, 3)) * sympy.exp(-(MU**2)) / (SIGMA - 5)
    rewritten = sign_equivalent(original, (MU, SIGMA), DOMAIN)
    assert _disagreements(original, rewritten, DOMAIN, sign_oracle) == 0
    careless = MU - sympy.Rational(1, 3)  # the numerator alone, sign not flipped
    assert _disagreements(original, careless, DOMAIN, sign_oracle) > 0


def test_gaussian_bump_mu_is_decided_to_1_percent_within_a_box_budget() -> None:
    # Before the rewrite this component stayed 73% undecided after 20000 boxes.
    case = Case("exp(-k*z**2)", parameters={"k": [1.0]}, domain={"mu": [-3, 3], "sigma": [0.1, 3]})
    result = regions(case, max_boxes=20_000, time_limit=NO_LIMIT)
    assert result.share("mu")["undecided"] <= 0.01


def test_bisection_across_the_zero_line_beats_the_widest_side() -> None:
    # mu - 1/3 vanishes on a vertical line: only splits across it (in mu) shrink the
    # undecided area, which the smear (|df/dmu| * width against 0 for sigma) chooses.
    forms = (VarianceForm(MU, ()), VarianceForm(sympy.Rational(1, 3), ()))
    domain: Box = ((-1.0, 1.0), (0.5, 1.5))
    smeared = closed_form_labeller(("a", "b"), forms, (MU, SIGMA), domain)
    assert isinstance(smeared, SmearLabeller)
    widest = smeared.label  # the same labels, without the smear
    by_smear = search_regions(smeared, domain, 2.0**-12, NO_LIMIT, max_boxes=60)
    by_width = search_regions(widest, domain, 2.0**-12, NO_LIMIT, max_boxes=60)
    assert shares(by_smear, ("a", "b"))[UNDECIDED] <= shares(by_width, ("a", "b"))[UNDECIDED] / 4


def test_a_common_factor_of_negative_sign_is_divided_out_with_its_sign(
    sign_oracle: SignOracle,
) -> None:
    # (sigma - 5)**3 < 0 on the domain and shared by both terms: dividing it out must
    # flip the sign; dividing it out without the flip is caught.
    factor = (SIGMA - 5) ** 3
    original = factor * (MU - sympy.Rational(1, 3)) + factor * MU**2 / 4
    rewritten = sign_equivalent(original, (MU, SIGMA), DOMAIN)
    assert not rewritten.has(SIGMA), "the common factor was not divided out"
    assert _disagreements(original, rewritten, DOMAIN, sign_oracle) == 0
    careless = MU - sympy.Rational(1, 3) + MU**2 / 4
    assert _disagreements(original, careless, DOMAIN, sign_oracle) > 0


def test_a_box_straddles_only_where_the_formula_has_both_signs_at_its_corners() -> None:
    # mu**2 - sigma vanishes on a parabola: a box across it straddles, one beside it does
    # not (and is decided); a straddling box is left undecided without any enclosure.
    function = box_function(MU**2 - SIGMA, (MU, SIGMA))
    across: Box = ((0.5, 1.5), (0.5, 1.0))
    beside: Box = ((1.5, 2.0), (0.5, 1.0))
    oracle = _oracle(MU**2 - SIGMA)
    signs = {mpmath.sign(oracle(point)) for point in _points(across)}
    assert {-1, 1} <= signs
    assert function.straddles(across)
    assert function.sign(across) is None
    assert not function.straddles(beside)
    assert function.sign(beside) == 1
