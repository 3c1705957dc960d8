"""Symbolic dimension (verify.exact.dimension) against brute-force d-dimensional integrals.

The oracle integrates each estimator over all d coordinates at once with a tensor
Gauss-Hermite rule (numpy's hermegauss, 40 nodes per coordinate: exact for
polynomials of degree 79 and accurate to ~1e-12 for these smooth integrands), which
shares nothing with the lifting algebra (cumulants of the sum, powers of the product)
under test.  Tolerances are relative 1e-9: far above the rule's error, far below any
mistake in a coefficient of d.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from collections.abc import Callable, Sequence

import mpmath
import numpy as np
import pytest
import sympy
from numpy.polynomial.hermite_e import hermegauss

import verify
from verify.analysis.dimension_growth import dimension_growth
from verify.analysis.sweep import VarianceFunction
from verify.cases.budget import LOO_ESTIMATOR
from verify.exact.dimension import DimensionDerivation, derive_case, sum_moment
from verify.exact.evaluation import exact_point
from verify.montecarlo.check_plan import check_points
from verify.montecarlo.check_records import Check
from verify.montecarlo.checks import check_case, count_checks, plan_streams, run_streams
from verify.montecarlo.dimension_samplers import RestFunction, lifted_pair, rest_function
from verify.montecarlo.significance import threshold

NODES, WEIGHTS = hermegauss(40)
WEIGHTS = WEIGHTS / math.sqrt(2 * math.pi)


def brute_moments(g, d: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """E[g(eps)] and Var[g(eps)] over eps ~ N(0, I_d), g vectorised over an (n, d) array."""
    grid = np.array(list(itertools.product(NODES, repeat=d)))
    weight = np.prod(np.array(list(itertools.product(WEIGHTS, repeat=d))), axis=1)
    values = g(grid)
    mean = float(np.sum(weight * values))
    return mean, float(np.sum(weight * values**2)) - mean**2


COSTS = {
    "cos(k*z)": (lambda z, k: np.cos(k * z), lambda z, k: -k * np.sin(k * z)),
    "(z - k)**2": (lambda z, k: (z - k) ** 2, lambda z, k: 2 * (z - k)),
}


@pytest.mark.parametrize("text", sorted(COSTS))
@pytest.mark.parametrize("combine", ["sum", "product"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_score_and_pathwise_equal_the_d_dimensional_integrals(
    text: str, combine: str, d: int
) -> None:
    mu, sigma, k = 0.3, 0.8, 1.3
    f, df = COSTS[text]
    case = verify.Case(text, parameters={"k": [k], "d": [d]}, dimension="d", combine=combine)
    result = verify.evaluate(case, mu=mu, sigma=sigma)

    def cost(eps: np.ndarray) -> np.ndarray:
        values = f(mu + sigma * eps, k)
        return values.sum(axis=1) if combine == "sum" else values.prod(axis=1)

    def first_derivative(eps: np.ndarray) -> np.ndarray:
        first = df(mu + sigma * eps[:, 0], k)
        rest = f(mu + sigma * eps[:, 1:], k)
        return first if combine == "sum" else first * rest.prod(axis=1)

    estimators = {
        ("score", "mu"): lambda e: cost(e) * e[:, 0] / sigma,
        ("score", "sigma"): lambda e: cost(e) * (e[:, 0] ** 2 - 1) / sigma,
        ("pathwise", "mu"): first_derivative,
        ("pathwise", "sigma"): lambda e: first_derivative(e) * e[:, 0],
    }
    for (estimator, parameter), g in estimators.items():
        mean, variance = brute_moments(g, d)
        assert float(result.mean(estimator, parameter)) == pytest.approx(mean, rel=1e-9, abs=1e-12)
        assert float(result.variance(estimator, parameter)) == pytest.approx(
            variance, rel=1e-9, abs=1e-12
        )
    # The score function is unbiased: its mean is coordinate 1's gradient.
    assert float(result.gradient("mu")) == pytest.approx(
        float(result.mean("score", "mu")), rel=1e-12, abs=1e-15
    )


def test_baseline_mean_equals_the_integral() -> None:
    mu, sigma, k, d = 1.0, 1.0, 2.0, 3
    case = verify.Case("cos(k*z)", parameters={"k": [k], "d": [d]}, dimension="d", combine="sum")
    result = verify.evaluate(case, mu=mu, sigma=sigma)
    baseline = d * math.cos(k * mu) * math.exp(-(k**2) * sigma**2 / 2)  # E[r], by hand

    def g(eps: np.ndarray) -> np.ndarray:
        return (np.cos(k * (mu + sigma * eps)).sum(axis=1) - baseline) * eps[:, 0] / sigma

    _, variance = brute_moments(g, d)
    assert float(result.variance("score_baseline_mean", "mu")) == pytest.approx(variance, rel=1e-9)


def test_sum_moment_equals_the_multinomial_expansion() -> None:
    m = sympy.symbols("m1:7")
    for count in range(1, 5):
        for order in range(7):
            # E[(X_1 + ... + X_n)**order] by expanding over the independent copies.
            xs = sympy.symbols(f"x1:{count + 1}")
            expanded = sympy.Poly(sympy.expand(sum(xs) ** order), *xs)
            brute = sum(
                coefficient * sympy.Mul(*(m[e - 1] if e else 1 for e in exponents))
                for exponents, coefficient in expanded.terms()
            )
            assert sympy.expand(sum_moment(order, sympy.Integer(count), m) - brute) == 0


def test_the_json_block_traces_the_whole_covariance() -> None:
    record = json.loads(
        verify.evaluate("cases/dimension_sum_quadratic.toml", mu=0, sigma=1, d=8).to_json()
    )
    block = record["dimension"]
    assert (block["d"], block["combine"], block["coordinate"]) == (8, "sum", 1)
    for estimator, values in record["estimators"].items():
        assert block["trace"][estimator] == pytest.approx(
            8 * values["covariance"]["trace"], rel=1e-14
        )
        assert block["radius"][estimator] is not None


def test_growth_in_d_matches_the_independent_statement() -> None:
    # r = sum (z_i - k)**2 at mu = 0, sigma = 1, k = 1: the pathwise estimator of mu_1 is
    # 2 (z_1 - k), variance 4 at every d; the score function's variance is quadratic in d.
    case = verify.Case.from_file("cases/dimension_sum_quadratic.toml")
    values = [
        float(verify.evaluate(case, mu=0, sigma=1, d=d).variance("score", "mu"))
        for d in (1, 2, 3, 4)
    ]
    second_differences = np.diff(values, n=2)
    assert second_differences[0] == pytest.approx(second_differences[1]) != 0  # exactly quadratic
    assert np.diff(values, n=3)[0] == pytest.approx(0, abs=1e-9)
    assert {
        float(verify.evaluate(case, mu=0, sigma=1, d=d).variance("pathwise", "mu"))
        for d in (1, 512)
    } == {4.0}


def test_the_crossover_in_d_brackets_the_verdicts() -> None:
    case = verify.Case.from_file("cases/dimension_sum_cosine.toml")
    crossing = verify.crossover(case, "d", at={"mu": 1, "sigma": 1}, range=(1, 512))
    (mu,) = crossing.crossovers["mu"]
    below, above = math.floor(float(mu.at)), math.floor(float(mu.at)) + 1
    assert verify.evaluate(case, mu=1, sigma=1, d=below).lower("mu") == "score"
    assert verify.evaluate(case, mu=1, sigma=1, d=above).lower("mu") == "pathwise"


@pytest.mark.parametrize(
    ("keys", "field", "message"),
    [
        ({"dimension": 9}, "dimension", "from 1 to 8"),
        ({"dimension": 3}, "r", "unknown name 'z'; allowed names: z1, z2, z3"),
        ({"dimension": "q"}, "dimension", "must name a parameter"),
        ({"dimension": "d"}, "combine", "missing"),
        ({"dimension": "d", "combine": "max"}, "combine", "sum"),
        ({"combine": "sum"}, "combine", "needs dimension"),
    ],
)
def test_bad_dimension_keys_are_one_line(keys: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(verify.CaseError) as caught:
        verify.Case("cos(z)", parameters={"d": [1, 2]}, **keys)
    assert caught.value.field == field
    assert message in caught.value.message


def test_a_dimension_must_be_a_whole_number() -> None:
    with pytest.raises(verify.CaseError, match=r"parameters.d\[2\]: a dimension must be a whole"):
        verify.Case("cos(z)", parameters={"d": [1, 2.5]}, dimension="d", combine="sum")


@pytest.mark.parametrize("combine", ["sum", "product"])
def test_monte_carlo_passes_the_lifted_formulas_and_catches_a_wrong_one(combine: str) -> None:
    case = verify.Case(
        "cos(k*z)", parameters={"k": [2.0], "d": [3]}, dimension="d", combine=combine
    )
    assert not check_case(case, samples=2**17, seed=5).failed
    # A variance off by 50% in every estimator is caught: at 2^17 samples each variance
    # check has power above 0.99 against a 50% error (the robust test included).
    wrong = check_case(case, samples=2**17, seed=5, perturb={"variance": 1.5})
    assert wrong.failed
    assert sum(c.outcome.passed is False for c in wrong.checks) >= 6


# A product of 63 cosines is too heavy-tailed for any affordable sample to see a 2%
# error (its checks state their power); 1 + cos(2z)/10 keeps the product's kurtosis small.
LIFTED = {"sum": ("cos(k*z)", 1.0), "product": ("1 + cos(k*z)/10", 0.1)}


def _lifted_case(combine: str) -> verify.Case:
    text = LIFTED[combine][0]
    return verify.Case(text, parameters={"k": [2.0], "d": [64]}, dimension="d", combine=combine)


def _checks_at_d64(combine: str, rest: RestFunction | None) -> list[Check]:
    """Every check of the reference point at d = 64 through the real check path, with the
    score family's S or P drawn by ``rest`` (None: the real sampler)."""
    case = _lifted_case(combine)
    derivation = derive_case(case)
    assert isinstance(derivation, DimensionDerivation)
    streams = []
    for stream in plan_streams(case):
        if stream.key[0] != 0 or stream.estimator == LOO_ESTIMATOR:
            continue  # the reference point's single-sample estimators, to keep it short
        point = exact_point(stream.at)
        pair = lifted_pair(derivation, stream.estimator, point, rest)
        streams.append(dataclasses.replace(stream, pair=pair))
    return run_streams(case.name, streams, 2**17, 5, threshold(count_checks(case)))


def _wrong_sigma(combine: str) -> RestFunction:
    """S or P with coordinates 2..d drawn at 1.1 sigma."""
    scale = LIFTED[combine][1]
    f = lambda x: (1 - scale) + scale * np.cos(2.0 * x)  # noqa: E731
    add = np.add if combine == "sum" else np.multiply

    def rest(normals: Sequence[np.ndarray]) -> np.ndarray:  # type: ignore[type-arg]
        total = f(1.0 + 1.1 * normals[0])
        for eps in normals[1:]:
            add(total, f(1.0 + 1.1 * eps), out=total)
        return np.asarray(total)

    return rest


def _one_draw_reused(combine: str) -> RestFunction:
    """S or P drawn correctly once per chunk and reused for every sample of the chunk."""
    case = _lifted_case(combine)
    derivation = derive_case(case)
    assert isinstance(derivation, DimensionDerivation)
    right = rest_function(derivation, exact_point(check_points(case)[0]))

    def rest(normals: Sequence[np.ndarray]) -> np.ndarray:  # type: ignore[type-arg]
        return np.full(normals[0].shape, right(normals)[0])

    return rest


@pytest.mark.parametrize("combine", ["sum", "product"])
def test_every_d_is_checked_and_a_wrong_sampler_of_the_other_coordinates_is_caught(
    combine: str,
) -> None:
    # The real sampler passes every check at d = 64 (none skipped) ...
    right = _checks_at_d64(combine, None)
    assert right
    assert all(c.outcome.passed is True for c in right), [
        (c.estimator, c.parameter, c.outcome.statistic, c.outcome.z, c.outcome.reason)
        for c in right
        if c.outcome.passed is not True
    ]
    # ... and a sampler of S or P with the wrong sigma, or one draw reused across the
    # samples, fails the score family's checks there.
    for wrong in (_wrong_sigma(combine), _one_draw_reused(combine)):
        checks = _checks_at_d64(combine, wrong)
        failed = {c.estimator for c in checks if c.outcome.passed is False}
        assert {"score", "score_baseline_mean"} <= failed, failed


# One-coordinate costs for the hand combination: a closed form, and one that needs
# quadrature in every moment (its formulas in d combine quadrature parts).
ONE_COORDINATE = {
    "cos(k*z)": mpmath.cos,
    "sigmoid(k*z)": lambda x: 1 / (1 + mpmath.exp(-x)),
}


def one_coordinate_moments(
    text: str, mu: float, sigma: float, k: float
) -> Callable[[int, int], mpmath.mpf]:
    """E[f(z)^j eps^weight] by mpmath quadrature at 30 digits (shares nothing with verify)."""
    f = ONE_COORDINATE[text]

    def moment(j: int, weight: int) -> mpmath.mpf:
        with mpmath.workdps(30):
            density = lambda e: mpmath.exp(-(e**2) / 2) / mpmath.sqrt(2 * mpmath.pi)  # noqa: E731
            return mpmath.quad(
                lambda e: f(k * (mu + sigma * e)) ** j * e**weight * density(e),
                [-mpmath.inf, 0, mpmath.inf],
            )

    return moment


def score_variance_by_hand(
    moment: Callable[[int, int], mpmath.mpf], combine: str, d: int | mpmath.mpf, sigma: float
) -> mpmath.mpf:
    """The score function's variance for mu_1, from one-coordinate moments m_j = E[f^j] and
    a_j = E[f^j eps^2] combined by hand: for a sum r = f_1 + S,
    E[r^2 eps_1^2] = a_2 + 2 a_1 E[S] + E[S^2] with E[S] = (d-1) m_1 and
    E[S^2] = (d-1) m_2 + (d-1)(d-2) m_1^2; for a product, a_2 m_2^(d-1)."""
    m1, m2, a1, a2, b1 = moment(1, 0), moment(2, 0), moment(1, 2), moment(2, 2), moment(1, 1)
    if combine == "sum":
        second = a2 + 2 * a1 * (d - 1) * m1 + (d - 1) * m2 + (d - 1) * (d - 2) * m1**2
        mean = b1
    else:
        second = a2 * m2 ** (d - 1)
        mean = b1 * m1 ** (d - 1)
    return (second - mean**2) / sigma**2


@pytest.mark.parametrize("d", [1, 3, 50])
@pytest.mark.parametrize("combine", ["sum", "product"])
@pytest.mark.parametrize("text", sorted(ONE_COORDINATE))
def test_one_coordinate_moments_combined_by_hand(text: str, combine: str, d: int) -> None:
    mu, sigma, k = 0.4, 0.9, 1.7
    case = verify.Case(text, parameters={"k": [k], "d": [d]}, dimension="d", combine=combine)
    result = verify.evaluate(case, mu=mu, sigma=sigma)
    variance = score_variance_by_hand(one_coordinate_moments(text, mu, sigma, k), combine, d, sigma)
    assert float(result.variance("score", "mu")) == pytest.approx(float(variance), rel=1e-12)


@pytest.mark.parametrize("combine", ["sum", "product"])
def test_a_variance_in_d_from_quadrature_parts_sweeps_like_the_hand_combination(
    combine: str,
) -> None:
    # The scans behind the d plot and the d crossover (VarianceFunction with d free) on a
    # cost whose one-coordinate moments all need quadrature: mpmath (value) and the
    # float64 grid (values, a fixed Gauss-Legendre rule good to ~1e-10) against the hand
    # combination of mpmath.quad moments.
    mu, sigma, k = 0.4, 0.9, 1.7
    case = verify.Case("sigmoid(k*z)", parameters={"k": [k], "d": [1]}, dimension="d",
                       combine=combine)  # fmt: skip
    derivation = derive_case(case)
    function = VarianceFunction.compile(derivation, "score", "mu", {"mu": mu, "sigma": sigma,
                                        "k": k}, ["d"])  # fmt: skip
    assert function.method == "quadrature"
    moment = one_coordinate_moments("sigmoid(k*z)", mu, sigma, k)
    dimensions = [1.0, 3.0, 50.0]
    expected = [float(score_variance_by_hand(moment, combine, d, sigma)) for d in dimensions]
    assert [float(function.value([d])) for d in dimensions] == pytest.approx(expected, rel=1e-9)
    assert list(function.values([np.array(dimensions)])) == pytest.approx(expected, rel=1e-7)


def test_growth_in_d_from_quadrature_parts_matches_the_independent_statement() -> None:
    # sum of sigmoids: the score function's variance is quadratic in d (the sum's mean is
    # not zero), the baselines' linear, the pathwise estimator's constant.
    case = verify.Case("sigmoid(k*z)", parameters={"k": [2.0], "d": [1, 8]}, dimension="d",
                       combine="sum")  # fmt: skip
    assert case.dimension is not None
    growth = dimension_growth(derive_case(case), case.dimension,
                              {"mu": 1.0, "sigma": 1.0, "k": 2.0}, 8).growth  # fmt: skip
    assert growth["score"] == {"mu": "d^2", "sigma": "d^2"}
    assert growth["score_baseline_mean"] == {"mu": "d", "sigma": "d"}
    assert growth["pathwise"] == {"mu": "constant", "sigma": "constant"}


def test_a_symbolic_dimension_reports_coordinate_one_under_mu1_and_sigma1() -> None:
    case = verify.Case("cos(z)", parameters={"d": [3]}, dimension="d", combine="sum")
    record = json.loads(verify.evaluate(case, mu=0.5, sigma=1.0).to_json())
    for table in (record["gradient"], record["estimators"]["score"]["variance"]):
        assert table["mu1"] == table["mu"]
        assert table["sigma1"] == table["sigma"]
    assert record["dimension"]["trace"]["score"] == pytest.approx(
        3 * record["estimators"]["score"]["covariance"]["trace"], rel=1e-14
    )
