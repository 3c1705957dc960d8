"""The region searches' faster set-up and evaluation give the very same balls and labels.

The set-up is memoised on exact formulas (parameters already substituted), never on a
case: a search with every memo warm gives the boxes and labels of one with every memo
empty, at each parameter value, and each proven label agrees with the exact difference
of the variances at the box's centre -- which a set-up made for another parameter value
fails.

Straight-line code (:mod:`verify.exact.box_compile`) must return, bit for bit, the ball
the closures of :func:`verify.exact.balls.compile_balls` return (midpoint and radius):
the reports' regions are byte-identical only if every enclosure is.  The comparison is
shown catching a compiler that merely reassociates a sum.
"""

from __future__ import annotations

import mpmath
import pytest
import sympy
from flint import acb, arb

from verify.analysis import regions as regions_module
from verify.analysis.region_rows import MIN_WIDTH_AREA, region_row
from verify.analysis.regions import (
    INFINITE,
    UNDECIDED,
    Region,
    RegionSearch,
    component_labeller,
    search_regions,
    variance_form,
)
from verify.api.case import Case
from verify.cases.estimators import CLASSIC_ESTIMATORS
from verify.cases.symbols import MU, SIGMA
from verify.exact.balls import compile_balls, working_precision
from verify.exact.box_compile import straight_line, straight_line_value
from verify.exact.box_enclosure import (
    BOX_PRECISION,
    Box,
    BoxFunction,
    _factored_exponent,
    _interval_ball,
    box_function,
    interval_ball,
)
from verify.exact.box_erfc import ScaledBoxFunction, erfcx
from verify.exact.box_normal import _canonical, _factored, sign_equivalent
from verify.exact.dimension import derive_case
from verify.exact.evaluation import exact_point, point_symbol

U = (MU - 1) / SIGMA
FORMULAS = (
    # A rewritten difference of variances: erf and exp factors shared across terms.
    (4 * MU**2 + 18 * SIGMA**2) * (sympy.erf(U) - sympy.erf(-U)) + MU * sympy.exp(-(U**2)),
    sympy.sqrt(SIGMA) * sympy.log(1 + MU**2) - SIGMA ** sympy.Rational(-1, 2) + sympy.pi,
    sympy.Max(MU - 1, 0) * SIGMA + sympy.Heaviside(MU) * erfcx(SIGMA),
    sympy.Piecewise((MU**3, MU < 0), (sympy.cos(2 * MU) * SIGMA, True)) + sympy.I * MU,
    sympy.Abs(MU - SIGMA) ** sympy.Rational(3, 2) * sympy.atan(MU) + sympy.sign(MU) / 3,
)
BALLS = (
    [interval_ball(-0.25, 0.5), interval_ball(0.75, 1.0)],
    [acb(1.5), acb(0.1)],
    [interval_ball(-3.0, -2.5), interval_ball(2.5, 3.0)],
)


def _same(first: acb, second: acb) -> bool:
    """Equal midpoints and radii (exact comparisons of exact numbers)."""
    parts = ((first.real, second.real), (first.imag, second.imag))
    return all(a.mid() == b.mid() and a.rad() == b.rad() for a, b in parts)


def test_straight_line_code_gives_the_closures_balls_bit_for_bit() -> None:
    together = straight_line(FORMULAS, (MU, SIGMA))
    with working_precision(BOX_PRECISION):
        for balls in BALLS:
            for formula, ball in zip(FORMULAS, together(balls), strict=True):
                closures = compile_balls(formula, (MU, SIGMA))(balls)
                assert _same(ball, closures), (formula, balls)
                assert _same(straight_line_value(formula, (MU, SIGMA))(balls), closures)


def test_straight_line_code_takes_the_analytic_flag_as_the_closures_do() -> None:
    # acb.integral asks certified quadrature's integrands (straight-line code) for
    # analytic=True balls: non-finite across a kink or branch cut, as the closures give.
    with working_precision(BOX_PRECISION):
        for balls in BALLS:
            for formula in FORMULAS:
                closures = compile_balls(formula, (MU, SIGMA))(balls, True)
                ball = straight_line_value(formula, (MU, SIGMA))(balls, True)
                assert _same(ball, closures) or (
                    not closures.is_finite() and str(ball) == str(closures)
                ), (formula, balls)
        # The flag matters at the first balls (mu straddles the kinks of Abs and sign at
        # 0), so code that ignored it would fail above.
        kinked = straight_line_value(FORMULAS[4], (MU, SIGMA))
        assert kinked(BALLS[0]).is_finite()
        assert not kinked(BALLS[0], True).is_finite()


def test_a_box_function_evaluates_its_value_and_gradient_as_the_closures_do() -> None:
    function = box_function(FORMULAS[0], (MU, SIGMA))
    assert function.gradient is not None
    with working_precision(BOX_PRECISION):
        for balls in BALLS:
            assert _same(function.value(balls), compile_balls(FORMULAS[0], (MU, SIGMA))(balls))
            for slope, partial in zip(function.gradient(balls), function.partials, strict=True):
                assert _same(slope, partial(balls))


def test_jump_arguments_are_evaluated_as_the_closures_do() -> None:
    # The step Heaviside(mu): where a jump's argument may vanish, only the natural
    # extension is valid, so its balls decide which forms are used.
    function = box_function(FORMULAS[2], (MU, SIGMA))
    derivatives = [sympy.diff(function.formula, v) for v in (MU, SIGMA)]
    deltas = {d.args[0] for e in derivatives for d in e.atoms(sympy.DiracDelta)}
    arguments = sorted(deltas, key=str)
    assert len(function.jumps) == len(arguments) == 1
    with working_precision(BOX_PRECISION):
        for balls in BALLS:
            for jump, argument in zip(function.jumps, arguments, strict=True):
                assert _same(jump(balls), compile_balls(argument, (MU, SIGMA))(balls))


def test_the_comparison_catches_a_reassociated_sum() -> None:
    # (x + y) + z and x + (y + z) are one number but round differently: a compiler that
    # regrouped a sum would change the balls, and so the reports' regions.
    x, y, z = sympy.symbols("x y z")
    flat = x + y + z
    regrouped = sympy.Add(x, sympy.Add(y, z, evaluate=False), evaluate=False)
    balls = [acb(1), acb(arb(2) ** -100), acb(-1)]
    with working_precision(BOX_PRECISION):
        closures = compile_balls(flat, (x, y, z))(balls)
        assert _same(straight_line([flat], (x, y, z))(balls)[0], closures)
        assert not _same(straight_line([regrouped], (x, y, z))(balls)[0], closures)


# A parameter whose value moves the crossing: at mu = sigma = 1 the pathwise estimator
# wins for k = 1 and the score function for k = 10 (cases/gaussian_bump.toml).
BUMP = Case(
    "exp(-k*z**2)", parameters={"k": [1.0, 10.0]}, domain={"mu": [-2, 2], "sigma": [0.2, 2]}
)
SPANS = {"mu": (-2.0, 2.0), "sigma": (0.2, 2.0)}
BUDGET = (3600.0, 400)


def _clear_memos() -> None:
    """Every memo the set-up and the enclosures keep across searches."""
    memos = (sign_equivalent, box_function, _canonical, _factored, _interval_ball)
    for memo in (*memos, _factored_exponent):
        memo.cache_clear()


def _proven(search: RegionSearch) -> list[tuple[Box, str]]:
    return [(r.box, r.label) for r in search.regions if r.label != UNDECIDED]


def _wrong_labels(search: RegionSearch, component: str, k: float) -> int:
    """Proven boxes whose label disagrees with Var[score] - Var[pathwise] evaluated at
    the box's centre at 50 digits (exact formulas, exact k)."""
    derivation = derive_case(BUMP)
    forms = [variance_form(derivation, name, component) for name in CLASSIC_ESTIMATORS]
    assert forms[0] is not None
    assert forms[1] is not None
    difference = (forms[0].value - forms[1].value).xreplace(exact_point({"k": k}))
    evaluate = sympy.lambdify((MU, SIGMA), difference, "mpmath")
    wrong = 0
    with mpmath.workdps(50):
        for box, label in _proven(search):
            centre = [mpmath.mpf((low + high) / 2) for low, high in box[:2]]
            sign = mpmath.sign(evaluate(*centre))
            expected = CLASSIC_ESTIMATORS[0] if sign < 0 else CLASSIC_ESTIMATORS[1]
            wrong += label != expected
    return wrong


def test_memoised_set_up_gives_the_direct_labels_at_each_parameter_value() -> None:
    # Direct: every memo empty before each parameter value.  Memoised: k = 10 searched
    # right after k = 1, every memo warm.  The boxes and labels must be the same.
    direct = {}
    for k in (1.0, 10.0):
        _clear_memos()
        direct[k] = region_row(BUMP, CLASSIC_ESTIMATORS, {"k": k}, SPANS, MIN_WIDTH_AREA, BUDGET)
    warm = {
        k: region_row(BUMP, CLASSIC_ESTIMATORS, {"k": k}, SPANS, MIN_WIDTH_AREA, BUDGET)
        for k in (1.0, 10.0)
    }
    for k in (1.0, 10.0):
        for component in ("mu", "sigma"):
            assert warm[k].searches[component].regions == direct[k].searches[component].regions
            assert _proven(direct[k].searches[component]), "nothing proven: nothing compared"
            assert _wrong_labels(direct[k].searches[component], component, k) == 0


def test_a_set_up_made_for_the_wrong_parameter_value_is_caught() -> None:
    # The labeller built for k = 1, served for k = 10 (a memo keyed without the value):
    # its proven labels disagree with the exact difference at k = 10.
    names = ("mu", "sigma", "k")
    variables = tuple(point_symbol(n) for n in names)
    domain: Box = (SPANS["mu"], SPANS["sigma"], (10.0, 10.0))
    derivation = derive_case(BUMP)
    stale = component_labeller(
        derivation, CLASSIC_ESTIMATORS, "mu", exact_point({"k": 1.0}), variables, domain
    )
    assert stale is not None
    search = search_regions(stale, domain, MIN_WIDTH_AREA, *BUDGET)
    assert _wrong_labels(search, "mu", 1.0) == 0
    assert _wrong_labels(search, "mu", 10.0) > 0


# exp(z**2/4): both variances diverge from sigma = 1 on (tests/test_regions_boundaries.py).
HEAVY = Case("exp(a*z**2)", parameters={"a": [0.25]}, domain={"mu": [-2, 2], "sigma": [0.1, 1.4]})
HEAVY_SPANS = {"mu": (-2.0, 2.0), "sigma": (0.1, 1.4)}


def _heavy_regions() -> dict[str, tuple[Region, ...]]:
    row = region_row(HEAVY, CLASSIC_ESTIMATORS, {"a": 0.25}, HEAVY_SPANS, MIN_WIDTH_AREA, BUDGET)
    return {component: search.regions for component, search in row.searches.items()}


def test_divergence_shared_per_projection_gives_the_labels_decided_box_by_box(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A box's divergence is memoised per labeller on its sides in the conditions'
    # variables.  Keyed on every side (nothing shared) the regions are the same; keyed
    # on none (one answer for every box) they are not: the comparison can fail.
    shared = _heavy_regions()
    assert any(r.label == INFINITE for r in shared["sigma"])
    monkeypatch.setattr(regions_module, "_sides_used", lambda reduced, variables: (0, 1, 2))
    assert _heavy_regions() == shared
    monkeypatch.setattr(regions_module, "_sides_used", lambda reduced, variables: ())
    assert _heavy_regions() != shared


# relu at c = 1: one erf argument, (mu - 1)/sigma, of both signs over the domain.
RELU = Case("Max(z - c, 0)", parameters={"c": [1.0]}, domain={"mu": [-2, 2], "sigma": [0.2, 2]})


def _relu_regions() -> dict[str, tuple[Region, ...]]:
    row = region_row(RELU, CLASSIC_ESTIMATORS, {"c": 1.0}, SPANS, MIN_WIDTH_AREA, (3600.0, 150))
    return {component: search.regions for component, search in row.searches.items()}


def test_the_erf_rewrite_kept_for_the_last_box_is_the_one_each_box_gets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The rewrite chosen for a box is kept for its smear.  Chosen afresh for every ask,
    # the regions are the same; kept without its box (the first choice served to every
    # later box), they are not.
    kept = _relu_regions()
    monkeypatch.setattr(ScaledBoxFunction, "_for", ScaledBoxFunction._chosen)
    assert _relu_regions() == kept

    def first_choice(function: ScaledBoxFunction, box: Box) -> BoxFunction:
        if not function._last:
            function._last[box] = function._chosen(box)
        return next(iter(function._last.values()))

    monkeypatch.setattr(ScaledBoxFunction, "_for", first_choice)
    assert _relu_regions() != kept
