"""Proven regions for costs without a closed form (box quadrature), against the engine.

The enclosure over a box must contain the engine's certified point values (its own
128-bit quadrature, :func:`verify.exact.quadrature.certified_expectation`) at the box's
corners and centre, and a point enclosure must exclude a value 1e-6 off; every box the
regions prove must agree with the engine's certified variances at its corners.
"""

from __future__ import annotations

import itertools

import pytest
import sympy

from verify.api.case import Case
from verify.api.evaluation import evaluate
from verify.api.regions import regions
from verify.cases.symbols import MU, SIGMA, parameter_symbol
from verify.exact.box_quadrature import box_expectation
from verify.exact.derivation import derive
from verify.exact.gaussian import Expectation
from verify.exact.quadrature import certified_expectation

K = parameter_symbol("k")
DOMAIN = ((0.0, 1.0), (0.5, 1.5), (1.0, 1.0))


def _score_second_moment() -> sympy.Expr:
    case = Case("sigmoid(k*z)", parameters={"k": [1.0]})
    quantity = derive(case.r).raw_moment("score", "mu", 2)
    assert isinstance(quantity, Expectation)
    return sympy.sympify(quantity.integrand).xreplace({K: sympy.Integer(1)})


def test_a_box_enclosure_contains_the_engines_point_values() -> None:
    integrand = _score_second_moment()
    prepared = box_expectation(integrand, (MU, SIGMA, K), DOMAIN)
    assert prepared is not None
    box = ((0.25, 0.375), (0.75, 0.875), (1.0, 1.0))
    enclosure = prepared.enclose(box)
    for mu, sigma in [*itertools.product(box[0], box[1]), (0.3125, 0.8125)]:
        point = {MU: sympy.Rational(mu), SIGMA: sympy.Rational(sigma)}
        assert enclosure.contains(certified_expectation(integrand, point))


def test_a_point_enclosure_excludes_a_value_1e_6_off() -> None:
    integrand = _score_second_moment()
    prepared = box_expectation(integrand, (MU, SIGMA, K), DOMAIN)
    wrong = box_expectation(integrand * (1 + sympy.Rational(1, 10**6)), (MU, SIGMA, K), DOMAIN)
    assert prepared is not None
    assert wrong is not None
    point = ((0.5, 0.5), (1.0, 1.0), (1.0, 1.0))
    truth = certified_expectation(integrand, {MU: sympy.Rational(1, 2), SIGMA: sympy.Integer(1)})
    assert prepared.enclose(point).contains(truth)
    assert not wrong.enclose(point).overlaps(truth)


@pytest.mark.parametrize("cost", ["sigmoid(k*z)", "erf(k*z)"])  # erf: a closed-form pathwise
def test_proven_boxes_agree_with_the_engine_at_their_corners(cost: str) -> None:
    # A quarter of the domain the search once covered ([0, 1] x [0.5, 1.5]): 4 and 11
    # boxes decided for sigma (the first 4 are checked), the same box quadrature, a
    # third to a quarter of the boxes.
    case = Case(
        cost,
        parameters={"k": [1.0]},
        domain={"mu": [0.0, 0.5], "sigma": [0.5, 1.0]},
    )
    result = regions(
        case, min_width=2.0**-3, time_limit=3600.0
    )  # ends at the size limit on any machine
    decided = [
        r for r in result.rows[0].searches["sigma"].regions if r.label in ("score", "pathwise")
    ]
    assert len(decided) >= 4
    for region in decided[:4]:
        (mu_low, mu_high), (sigma_low, sigma_high), _ = region.box
        for mu, sigma in itertools.product((mu_low, mu_high), (sigma_low, sigma_high)):
            assert evaluate(case, mu=mu, sigma=sigma).lower("sigma") == region.label
