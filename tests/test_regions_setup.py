"""The region searches' faster set-up and evaluation give the very same balls and labels.

Straight-line code (:mod:`verify.exact.box_compile`) must return, bit for bit, the ball
the closures of :func:`verify.exact.balls.compile_balls` return (midpoint and radius):
the reports' regions are byte-identical only if every enclosure is.  The comparison is
shown catching a compiler that merely reassociates a sum.
"""

from __future__ import annotations

import sympy
from flint import acb, arb

from verify.cases.symbols import MU, SIGMA
from verify.exact.balls import compile_balls, working_precision
from verify.exact.box_compile import straight_line, straight_line_value
from verify.exact.box_enclosure import BOX_PRECISION, box_function, interval_ball
from verify.exact.box_erfc import erfcx

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


def test_a_box_function_evaluates_its_value_and_gradient_as_the_closures_do() -> None:
    function = box_function(FORMULAS[0], (MU, SIGMA))
    assert function.gradient is not None
    with working_precision(BOX_PRECISION):
        for balls in BALLS:
            assert _same(function.value(balls), compile_balls(FORMULAS[0], (MU, SIGMA))(balls))
            for slope, partial in zip(function.gradient(balls), function.partials, strict=True):
                assert _same(slope, partial(balls))


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
