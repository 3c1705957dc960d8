"""The noise samplers draw the right distributions, and their quadrature rules integrate them.

Each sampled statistic is compared with its exact moments by the suite's own mean and
variance checks (:func:`verify.montecarlo.significance.judge`, at the threshold of a large run),
and each check is shown to fail for a plausible wrong sampler.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import mpmath
import numpy as np
import pytest

from verify.montecarlo.check_moments import ExactMoments, tail_grows
from verify.montecarlo.engine import Component, sample_moments, stream_seed
from verify.montecarlo.noise import FloatArray, Noise, rule, tensor_rule
from verify.montecarlo.samplers import coupled_maxwell
from verify.montecarlo.significance import judge, threshold

T = threshold(4096)
SAMPLES = 2**18


Raw = Callable[[int], mpmath.mpf]


def rayleigh(power: int) -> mpmath.mpf:
    """E[R**power] = 2**(power/2) Gamma(1 + power/2)."""
    return mpmath.mpf(2) ** (mpmath.mpf(power) / 2) * mpmath.gamma(1 + mpmath.mpf(power) / 2)


def normal(power: int) -> mpmath.mpf:
    """E[eps**power]: (power - 1)!! for even powers, 0 for odd."""
    return mpmath.mpf(0) if power % 2 else mpmath.fac2(power - 1)


def maxwell(power: int) -> mpmath.mpf:
    """E[M**power] = E[eps**(power + 2)] for the density m**2 phi(m)."""
    return normal(power + 2)


def exact_of(raw: Raw, power: int) -> ExactMoments:
    """The exact moments of X**power from the raw moments of X."""
    moments = [raw(power * j) for j in range(7)]  # E[(X**power)**j], j = 0..6
    mean = moments[1]

    def central(order: int) -> mpmath.mpf:
        return mpmath.fsum(
            math.comb(order, j) * moments[j] * (-mean) ** (order - j) for j in range(order + 1)
        )

    variance = central(2)
    sixth = float(central(6) / variance**3)
    return ExactMoments(mean, variance, central(3), central(4), sixth, "closed-form")


Variable = Callable[..., FloatArray]


def verdicts(
    noise: tuple[Noise, ...], variable: Variable, power: int, exact: ExactMoments
) -> list[bool | None]:
    component = Component(noise, lambda *arrays: variable(*arrays) ** power)
    sample = sample_moments(component, stream_seed(11, "noise", power, len(noise)), SAMPLES)
    return [outcome.passed for outcome in judge(exact, sample, SAMPLES, T)]


def uniform(power: int) -> mpmath.mpf:
    return mpmath.mpf(1) / (power + 1)


@pytest.mark.parametrize(
    ("noise", "variable", "raw", "power"),
    [
        (("rayleigh",), lambda r: r, rayleigh, 1),
        (("rayleigh",), lambda r: r, rayleigh, 2),  # E[R**2] = 2
        (("maxwell",), lambda m: m, maxwell, 1),
        (("maxwell",), lambda m: m, maxwell, 2),  # E[M**2] = 3
        (("maxwell",), lambda m: m, maxwell, 3),
        (("maxwell", "uniform"), lambda m, u: m * u, normal, 1),  # M U is standard normal
        (("maxwell", "uniform"), lambda m, u: m * u, normal, 2),
        (("maxwell", "uniform"), lambda m, u: m * u, normal, 3),
        (("normal",), lambda e: e, normal, 2),
        (("uniform",), lambda u: u, uniform, 1),
    ],
)
def test_sampled_noise_has_the_exact_moments(
    noise: tuple[Noise, ...], variable: Variable, raw: Raw, power: int
) -> None:
    assert verdicts(noise, variable, power, exact_of(raw, power)) == [True, True]


@pytest.mark.parametrize(
    ("noise", "variable", "raw", "power", "what"),
    [
        (("normal",), np.abs, rayleigh, 1, "a half-normal is not a Rayleigh"),
        (("maxwell",), np.abs, maxwell, 1, "a Maxwell without its random sign"),
        (("rayleigh", "uniform"), lambda r, u: r * u, normal, 2, "R U is not normal"),
        (("maxwell", "normal"), lambda m, e: m * e / 3**0.5, normal, 2, "nor is M eps"),
    ],
)
def test_a_wrong_sampler_is_caught(
    noise: tuple[Noise, ...], variable: Variable, raw: Raw, power: int, what: str
) -> None:
    assert False in verdicts(noise, variable, power, exact_of(raw, power)), what


@pytest.mark.parametrize(
    ("kind", "raw"),
    [("normal", normal), ("rayleigh", rayleigh), ("maxwell", maxwell)],
)
def test_quadrature_rules_integrate_the_noise(kind: Noise, raw: Raw) -> None:
    nodes, weights = rule(kind)
    for power in (0, 2, 4, 6):
        assert float(np.sum(weights * nodes**power)) == pytest.approx(float(raw(power)), rel=1e-6)


def test_the_product_rule_integrates_independent_noise() -> None:
    (maxwell_nodes, uniform_nodes), weights = tensor_rule(("maxwell", "uniform"))
    product = maxwell_nodes * uniform_nodes
    assert float(np.sum(weights * product**2)) == pytest.approx(1.0, rel=1e-12)
    assert float(np.sum(weights * product**4)) == pytest.approx(3.0, rel=1e-12)


@pytest.mark.parametrize("kind", ["normal", "rayleigh", "maxwell"])
def test_a_sixth_moment_that_diverges_in_any_noise_variable_is_detected(kind: Noise) -> None:
    """E[exp(6 x**2 / c)] under a density with tail exp(-x**2/2) diverges iff c <= 12."""
    for scale, diverges in ((4.0, True), (20.0, False)):
        grows = Component(("uniform", kind), lambda u, x, c=scale: u + np.exp(x**2 / c))
        assert tail_grows(grows) is diverges, (kind, scale)


def coupled_product(power: int) -> mpmath.mpf:
    """E[(M E)**power] for E = M U: E[M**(2 power)] E[U**power]."""
    return maxwell(2 * power) / (power + 1)


@pytest.mark.parametrize(
    ("variable", "raw", "power"),
    [
        (coupled_maxwell, maxwell, 1),  # M is a double-sided Maxwell
        (coupled_maxwell, maxwell, 2),
        (coupled_maxwell, maxwell, 3),
        (lambda e, r: e / coupled_maxwell(e, r), uniform, 1),  # E / M = U is uniform
        (lambda e, r: e / coupled_maxwell(e, r), uniform, 2),
        (lambda e, r: e / coupled_maxwell(e, r), uniform, 3),
        (lambda e, r: e * coupled_maxwell(e, r), coupled_product, 1),  # and E = M U jointly
    ],
)
def test_the_coupled_pair_has_the_law_of_m_and_m_u(
    variable: Variable, raw: Raw, power: int
) -> None:
    """(M, e) from (e, R) has the law of (M, M U), as the exact coupled formulas assume."""
    assert verdicts(("normal", "rayleigh"), variable, power, exact_of(raw, power)) == [True, True]


def unsigned(e: FloatArray, r: FloatArray) -> FloatArray:
    return np.sqrt(e * e + r * r)


@pytest.mark.parametrize(
    ("variable", "raw", "power", "what"),
    [
        (lambda e, r: e / unsigned(e, r), uniform, 1, "without the sign of e, E / M is not U"),
        (lambda e, r: e * np.hypot(r, r), coupled_product, 1, "an M with R**2 twice over"),
        (lambda e, r: e / np.hypot(e, 2 * r), uniform, 1, "nor a chi of the wrong scale"),
    ],
)
def test_a_wrong_coupled_pair_is_caught(
    variable: Variable, raw: Raw, power: int, what: str
) -> None:
    assert False in verdicts(("normal", "rayleigh"), variable, power, exact_of(raw, power)), what
