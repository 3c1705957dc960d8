"""Every derived mean, variance and gradient against an independent oracle: 30-digit quadrature.

The oracle shares nothing with the engine: it integrates the estimators as the
issue defines them (``r(z)(z-mu)/sigma**2`` etc.) against the N(mu, sigma**2)
density in ``z``, with ``r`` and ``r'`` written by hand below rather than derived
by SymPy, splitting the line at the cost's kinks.  The gradient's oracle is the
score identity dJ/dtheta = E[r(z) d/dtheta log N(z | mu, sigma**2)], a theorem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import mpmath
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from verify.cases.expressions import parse_expression
from verify.cases.symbols import Z, parameter_symbol
from verify.exact.derivation import derive
from verify.exact.evaluation import evaluate_gradient, evaluate_mean, evaluate_variance, exact_point

RealFunction = Callable[[mpmath.mpf], mpmath.mpf]
CostFunction = Callable[[mpmath.mpf, mpmath.mpf], mpmath.mpf]

# Quadrature at 30 digits, split at kinks, agrees with itself to ~25 digits on these
# integrands, while a wrong formula is off by far more than 1e-12 relative.  Near
# zero the tolerance is relative to sqrt(E[g**2]), the natural size of g.
RELATIVE_TOLERANCE = mpmath.mpf("1e-12")


def grid(low: float, high: float) -> st.SearchStrategy[float]:
    """Values on a 0.01 grid.  Hypothesis once drew k = 1e-150, where mpmath's quadrature,
    whose tolerance is absolute, stopped early at a relative error of 2e-3 while the
    closed form was right: the oracle needs values of ordinary magnitude."""
    return st.integers(round(low * 100), round(high * 100)).map(lambda i: i / 100)


@dataclass(frozen=True)
class Cost:
    text: str
    r: CostFunction  # r(z, k)
    dr: CostFunction  # r'(z, k) where it exists (no Dirac deltas)
    kinks: Callable[[mpmath.mpf], list[mpmath.mpf]]
    k: st.SearchStrategy[float]


def no_kinks(_: mpmath.mpf) -> list[mpmath.mpf]:
    return []


def kink_at_k(k: mpmath.mpf) -> list[mpmath.mpf]:
    return [k]


exp = mpmath.exp
COSTS = {
    "quadratic": Cost(
        "(z - k)**2", lambda z, k: (z - k) ** 2, lambda z, k: 2 * (z - k), no_kinks, grid(-2, 2)
    ),
    "bump": Cost(
        "exp(-k*z**2)",
        lambda z, k: exp(-k * z**2),
        lambda z, k: -2 * k * z * exp(-k * z**2),
        no_kinks,
        grid(0.1, 3),
    ),
    "cosine": Cost(
        "cos(k*z)",
        lambda z, k: mpmath.cos(k * z),
        lambda z, k: -k * mpmath.sin(k * z),
        no_kinks,
        grid(0.1, 3),
    ),
    "cubic": Cost("z**3 + k", lambda z, k: z**3 + k, lambda z, k: 3 * z**2, no_kinks, grid(-1, 1)),
    "exponential": Cost(
        "exp(k*z)", lambda z, k: exp(k * z), lambda z, k: k * exp(k * z), no_kinks, grid(-1.5, 1.5)
    ),
    "absolute": Cost(
        "Abs(z - k)",
        lambda z, k: abs(z - k),
        lambda z, k: mpmath.sign(z - k),
        kink_at_k,
        grid(-2, 2),
    ),
    "step": Cost(
        "Heaviside(z - k)",
        lambda z, k: mpmath.mpf(z > k),
        lambda z, k: mpmath.mpf(0),
        kink_at_k,
        grid(-2, 2),
    ),
    "relu": Cost(
        "Max(z - k, 0)",
        lambda z, k: max(z - k, 0),
        lambda z, k: mpmath.mpf(z > k),
        kink_at_k,
        grid(-2, 2),
    ),
    # Finite variance while 2*k*sigma**2 < 1/2: drawn k*sigma**2 stays below 1/4 here;
    # the divergent side is tested in test_infinite_variance.py.
    "heavy": Cost(
        "exp(k*z**2)",
        lambda z, k: exp(k * z**2),
        lambda z, k: 2 * k * z * exp(k * z**2),
        no_kinks,
        grid(0.01, 0.1),
    ),
}


def estimator_sample(
    cost: Cost, estimator: str, parameter: str, mu: mpmath.mpf, sigma: mpmath.mpf, k: mpmath.mpf
) -> RealFunction:
    """g(z) exactly as the issue defines each single-sample estimator."""
    if estimator == "score" and parameter == "mu":
        return lambda z: cost.r(z, k) * (z - mu) / sigma**2
    if estimator == "score":
        return lambda z: cost.r(z, k) * ((z - mu) ** 2 - sigma**2) / sigma**3
    if parameter == "mu":
        return lambda z: cost.dr(z, k)
    return lambda z: cost.dr(z, k) * (z - mu) / sigma


def remembered(function: Callable[..., mpmath.mpf]) -> Callable[..., mpmath.mpf]:
    """``function`` with its values kept: the eight integrals of one example are taken
    over the same intervals, so tanh-sinh asks for r, r' and the density at the same
    nodes each time (the values, and so the integrals, are exactly those recomputed)."""
    values: dict[tuple[mpmath.mpf, ...], mpmath.mpf] = {}

    def value(*arguments: mpmath.mpf) -> mpmath.mpf:
        if arguments not in values:
            values[arguments] = function(*arguments)
        return values[arguments]

    return value


def gaussian_quad(
    function: RealFunction, density: RealFunction, kinks: list[mpmath.mpf]
) -> mpmath.mpf:
    nodes = [-mpmath.inf, *sorted(kinks), mpmath.inf]
    return mpmath.quad(lambda z: function(z) * density(z), nodes)


def assert_close(exact: mpmath.mpf, oracle: mpmath.mpf, scale: mpmath.mpf, what: str) -> None:
    tolerance = RELATIVE_TOLERANCE * max(abs(oracle), scale)
    assert abs(exact - oracle) <= tolerance, f"{what}: exact {exact} vs quadrature {oracle}"


def check_cost(name: str, mu: float, sigma: float, k: float) -> None:
    cost = COSTS[name]
    derivation = derive(parse_expression(cost.text, {"z": Z, "k": parameter_symbol("k")}))
    point = exact_point({"mu": mu, "sigma": sigma, "k": k})
    with mpmath.workdps(30):
        m, s, kk = (mpmath.mpf(repr(v)) for v in (mu, sigma, k))
        kinks = cost.kinks(kk)
        cost = replace(cost, r=remembered(cost.r), dr=remembered(cost.dr))
        density = remembered(lambda z: mpmath.npdf(z, m, s))
        for estimator in ("score", "pathwise"):
            for parameter in ("mu", "sigma"):
                label = f"{name} {estimator}.{parameter} at mu={mu} sigma={sigma} k={k}"
                g = estimator_sample(cost, estimator, parameter, m, s, kk)
                first = gaussian_quad(g, density, kinks)
                second = gaussian_quad(lambda z, g=g: g(z) ** 2, density, kinks)
                scale = mpmath.sqrt(second)
                mean = evaluate_mean(derivation, estimator, parameter, point)
                variance = evaluate_variance(derivation, estimator, parameter, point)
                assert mean.method == variance.method == "closed-form", label
                assert_close(mean.value, first, scale, f"mean {label}")
                assert_close(variance.value, second - first**2, scale**2, f"variance {label}")
                if estimator == "score":
                    gradient = evaluate_gradient(derivation, parameter, point)
                    assert gradient.method == "closed-form"
                    assert_close(gradient.value, first, scale, f"gradient {label}")


@pytest.mark.parametrize("name", sorted(COSTS))
def test_exact_moments_match_quadrature(name: str) -> None:
    @given(mu=grid(-2, 2), sigma=grid(0.3, 1.5), k=COSTS[name].k)
    @example(mu=0.3, sigma=0.7, k=0.05)
    @example(mu=0.0, sigma=1.0, k=0.01)  # the smallest k on the grid
    def run(mu: float, sigma: float, k: float) -> None:
        check_cost(name, mu, sigma, k)

    run()


def test_oracle_comparison_catches_a_perturbed_formula() -> None:
    """The comparison above can fail: a variance off by one part in 1e9 is rejected."""
    with pytest.raises(AssertionError, match="exact"):
        assert_close(mpmath.mpf(4) * (1 + mpmath.mpf("1e-9")), mpmath.mpf(4), mpmath.mpf(2), "x")
