"""The looser quadrature target of the Monte Carlo sizing moments, and the guards around it.

:func:`verify.exact.quadrature.quadrature_target` lets the checks ask for radius 2^-40
instead of 2^-100: the ball must still contain the exact value (closed forms here are the
oracle, by Stein's identity or the normal's moment generating function), be narrow enough to
exclude a value off by more than its radius, never replace a value already known at the tight
target, and never leak into a reported value.  The sizing guards
(:func:`verify.montecarlo.check_moments.central_pinned` and :func:`for_sizing`) must reject
balls too wide for what they size, and then compute again at the tight target.
"""

from __future__ import annotations

import mpmath
import pytest
import sympy
from flint import arb

from verify.cases.symbols import EPS, Z
from verify.exact.balls import working_precision
from verify.exact.derivation import derive
from verify.exact.evaluation import exact_point, raw_moments
from verify.exact.numbers import Number
from verify.exact.quadrature import TIGHT, certified_expectation, clear_cache, quadrature_target
from verify.montecarlo import check_moments
from verify.montecarlo.check_moments import (
    SIZING_GUARD_BITS,
    SIZING_TARGET,
    ExactMoments,
    central_pinned,
    for_sizing,
    sixth_pinned,
)
from verify.montecarlo.checks import exact_stream
from verify.montecarlo.covariance_moments import Terms, _mu22_pinned
from verify.montecarlo.loo_check import _pinned as loo_pinned
from verify.montecarlo.loo_check import loo_exact
from verify.montecarlo.loo_moments import loo_mixed_moments
from verify.montecarlo.samplers import estimator_pair

INNER = sympy.Symbol("e_inner", real=True)
HALF = sympy.Rational(1, 2)
THIRD = sympy.Rational(1, 3)
# (integrand, its exact expectation under N(0, 1)).
ORACLES = {
    "cos(eps)": (sympy.cos(EPS), sympy.exp(-HALF)),
    "exp(eps/3) eps^2": (sympy.exp(THIRD * EPS) * EPS**2, sympy.exp(THIRD**2 / 2) * (1 + THIRD**2)),
    "|eps| eps^2": (sympy.Abs(EPS) * EPS**2, 2 * sympy.sqrt(2 / sympy.pi)),
    # A running integral (no antiderivative used): E[eps int_0^eps cos] = E[cos(eps)].
    "eps int_0^eps cos": (
        EPS * sympy.Integral(sympy.cos(INNER), (INNER, 0, EPS)),
        sympy.exp(-HALF),
    ),
}


def exact_ball(value: sympy.Expr) -> arb:
    """The oracle at 300 bits, as a ball far narrower than any quadrature radius here."""
    with working_precision(300):
        return arb(str(sympy.N(value, 90)))


def loose(integrand: sympy.Expr) -> arb:
    with quadrature_target(*SIZING_TARGET):
        return certified_expectation(integrand, {})


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_the_loose_target_still_certifies_and_is_looser(name: str) -> None:
    integrand, value = ORACLES[name]
    clear_cache()
    ball, exact = loose(integrand), exact_ball(value)
    assert ball.contains(exact)
    relative, absolute, _ = SIZING_TARGET
    assert ball.rad() <= arb(2) ** -relative * abs(exact) or ball.rad() <= arb(2) ** -absolute
    # It is a different computation: wider than what the reported values get.
    assert ball.rad() > arb(2) ** -TIGHT.relative * abs(exact)


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_a_value_off_by_more_than_the_loose_radius_is_excluded(name: str) -> None:
    integrand, value = ORACLES[name]
    clear_cache()
    ball, exact = loose(integrand), exact_ball(value)
    with working_precision(300):
        # 2^-36 relative: 16 times the loose target, far below any Monte Carlo resolution.
        for factor in (1 + arb(2) ** -36, 1 - arb(2) ** -36):
            assert not ball.overlaps(exact * factor)
        assert not ball.overlaps(exact + 3 * ball.rad())
        assert not ball.overlaps(exact - 3 * ball.rad())


def test_a_tight_value_serves_the_loose_target_and_not_the_reverse() -> None:
    integrand, value = ORACLES["exp(eps/3) eps^2"]
    clear_cache()
    first = loose(integrand)
    tight = certified_expectation(integrand, {})  # not the loose ball: computed again
    assert tight.rad() < first.rad()
    assert tight.rad() <= arb(2) ** -TIGHT.relative * abs(tight.mid())
    assert loose(integrand).rad() == tight.rad()  # the tight ball is reused
    assert tight.contains(exact_ball(value))


def test_the_target_is_restored_after_the_block_even_on_an_error() -> None:
    integrand, _ = ORACLES["cos(eps)"]
    clear_cache()
    with pytest.raises(RuntimeError), quadrature_target(*SIZING_TARGET):
        raise RuntimeError
    assert certified_expectation(integrand, {}).rad() <= arb(2) ** -TIGHT.relative


def _moments(radius: float) -> list[Number]:
    """E[g**k], k = 1..4, of g = 1 + eps (third central 0, fourth 3), as quadrature balls."""
    values = [1, 2, 4, 10]
    return [Number(mpmath.mpf(v), "quadrature", arb(v, radius)) for v in values]


def test_central_pinned_accepts_narrow_balls_and_rejects_wide_ones() -> None:
    assert central_pinned(_moments(1e-15))
    assert not central_pinned(_moments(1e-6))  # skewness uncertain to ~1e-5: too wide
    closed = [Number(n.value, "closed-form", n.ball) for n in _moments(1e-6)]
    assert central_pinned(closed)  # closed forms do not depend on the quadrature target
    uncertified = [Number(n.value, n.method) for n in _moments(0.0)]
    assert not central_pinned(uncertified)


def test_central_pinned_rejects_a_two_point_distribution_near_kurtosis_one() -> None:
    # g = +-1: variance 1, fourth central 1, so mu4 - sigma^4 = 0 and no loose ball pins it.
    values = [0, 1, 0, 1]
    balls = [Number(mpmath.mpf(v), "quadrature", arb(v, 1e-30)) for v in values]
    assert not central_pinned(balls)


def test_for_sizing_computes_again_at_the_tight_target_when_not_pinned() -> None:
    integrand, _ = ORACLES["cos(eps)"]
    clear_cache()
    accepted = for_sizing(lambda: certified_expectation(integrand, {}), lambda ball: True)
    assert accepted.rad() > arb(2) ** -TIGHT.relative
    clear_cache()
    refused = for_sizing(lambda: certified_expectation(integrand, {}), lambda ball: False)
    assert refused.rad() <= arb(2) ** -TIGHT.relative


# A quadrature cost: softplus(2z), at a point where its moments have no closed form.
SOFTPLUS = sympy.log(1 + sympy.exp(2 * Z))
POINT = {"mu": 0.5, "sigma": 1.0}


def _widened(number: Number, relative: float) -> Number:
    """The same midpoint with a radius ``relative`` times the value (a looser ball)."""
    assert number.ball is not None
    return Number(
        number.value, number.method, arb(number.ball.mid(), relative * abs(float(number.value)))
    )


@pytest.mark.parametrize("estimator", ["score", "pathwise", "measure_valued"])
def test_loose_sizing_moments_agree_with_tight_ones_within_the_guard(
    estimator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    derivation, point = derive(SOFTPLUS), exact_point(POINT)
    pair = estimator_pair(derivation, estimator, point)
    clear_cache()
    loose_stream = exact_stream(derivation, estimator, point, pair)
    # Everything at the reported values' target, as before the sizing target existed.
    monkeypatch.setattr(
        check_moments, "SIZING_TARGET", (TIGHT.relative, TIGHT.absolute, TIGHT.ladder)
    )
    clear_cache()
    tight_stream = exact_stream(derivation, estimator, point, pair)
    guard = mpmath.ldexp(1, -SIZING_GUARD_BITS)
    for loose_m, tight_m in (
        (loose_stream.mu, tight_stream.mu),
        (loose_stream.sigma, tight_stream.sigma),
    ):
        assert loose_m.method == "quadrature"
        assert (loose_m.mean, loose_m.variance) == (tight_m.mean, tight_m.variance)  # reported
        assert loose_m.third != tight_m.third  # a different, looser computation ...
        assert abs(loose_m.third - tight_m.third) <= guard * tight_m.variance**1.5  # ... pinned
        excess = tight_m.fourth - tight_m.variance**2
        assert abs(loose_m.fourth - tight_m.fourth) <= guard * excess
    spread = tight_stream.mu22 - tight_stream.covariance**2
    assert abs(loose_stream.mu22 - tight_stream.mu22) <= guard * spread


def test_the_raw_moment_guard_refuses_the_looser_balls_of_a_real_cost() -> None:
    derivation, point = derive(SOFTPLUS), exact_point(POINT)
    clear_cache()
    raw = raw_moments(derivation, "score", "sigma", point, range(1, 5))
    assert central_pinned(raw)
    assert not central_pinned([*raw[:2], *(_widened(n, 1e-7) for n in raw[2:])])
    mean = raw[0].value
    with quadrature_target(*SIZING_TARGET):
        six = raw_moments(derivation, "score", "sigma", point, range(1, 7))
    assert sixth_pinned(six, mean)
    assert not sixth_pinned([*six[:5], _widened(six[5], 1e-6)], mean)


def test_the_mu22_guard_refuses_wide_parts() -> None:
    # X = eps, Y = eps^2 - 1: E[X^2 Y] = 2, E[X Y^2] = 0, E[X^2 Y^2] = 10 = mu22, c = 0.
    mu = ExactMoments(
        mpmath.mpf(0), mpmath.mpf(1), mpmath.mpf(0), mpmath.mpf(3), 15.0, "quadrature"
    )
    sigma = ExactMoments(
        mpmath.mpf(0), mpmath.mpf(2), mpmath.mpf(8), mpmath.mpf(60), 1.0, "quadrature"
    )
    one = mpmath.mpf(1)

    def terms(radius: float) -> Terms:
        return {
            order: [(one, Number(mpmath.mpf(v), "quadrature", arb(v, radius)))]
            for order, v in (((2, 1), 2), ((1, 2), 0), ((2, 2), 10))
        }

    assert _mu22_pinned(terms(1e-20), mpmath.mpf(0), mu, sigma)
    assert not _mu22_pinned(terms(1e-6), mpmath.mpf(0), mu, sigma)


def test_the_score_loo_guard_refuses_wide_mixed_moments() -> None:
    derivation, point, samples = derive(SOFTPLUS), exact_point(POINT), 4
    clear_cache()
    with quadrature_target(*SIZING_TARGET):
        found, method = loo_mixed_moments(derivation, point, samples)
    assert method == "quadrature"
    exact = loo_exact(derivation, point, samples)
    means = [exact.mu.mean, exact.sigma.mean]
    variances = [exact.mu.variance, exact.sigma.variance]
    assert loo_pinned(found, means, variances)
    widened = {order: _widened(number, 1e-8) for order, number in found.items()}
    assert not loo_pinned(widened, means, variances)
