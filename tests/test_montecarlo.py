"""The Monte Carlo engine: streaming (co-)moments, reproducible streams, bounded memory."""

from __future__ import annotations

import math
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from verify.cases.expressions import parse_expression
from verify.cases.symbols import Z, parameter_symbol
from verify.exact.derivation import derive
from verify.exact.evaluation import exact_point
from verify.montecarlo.engine import (
    EMPTY,
    EMPTY_PAIR,
    Moments,
    PairMoments,
    chunk_moments,
    chunk_pair_moments,
    merge,
    merge_pairs,
    sample_moments,
    sample_pair,
    stream_seed,
)
from verify.montecarlo.samplers import estimator_function, estimator_pair

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


def cost_function(text: str, estimator: str, parameter: str, **at: float):  # type: ignore[no-untyped-def]
    derivation = derive(parse_expression(text, {"z": Z, "k": parameter_symbol("k")}))
    return estimator_function(derivation, estimator, parameter, exact_point(at))


@given(st.lists(finite, min_size=2, max_size=60), st.lists(st.integers(1, 20), max_size=8))
def test_merged_chunks_match_numpy_on_the_whole_sample(
    values: list[float], cuts: list[int]
) -> None:
    data = np.array(values)
    total, start = EMPTY, 0
    for size in [*cuts, len(values)]:
        piece = data[start : start + size].copy()
        if piece.size:
            total = merge(total, chunk_moments(piece))
        start += size
    scale = max(1.0, float(np.max(np.abs(data))))
    assert total.count == len(values)
    assert total.mean == pytest.approx(float(np.mean(data)), rel=1e-9, abs=1e-9 * scale)
    expected = float(np.var(data, ddof=1))
    assert total.variance == pytest.approx(expected, rel=1e-7, abs=1e-7 * scale**2)


@given(
    st.lists(st.tuples(finite, finite), min_size=2, max_size=60),
    st.lists(st.integers(1, 20), max_size=8),
)
def test_merged_pair_chunks_match_numpy_covariance(
    values: list[tuple[float, float]], cuts: list[int]
) -> None:
    data = np.array(values)
    total, start = EMPTY_PAIR, 0
    for size in [*cuts, len(values)]:
        piece = data[start : start + size]
        if piece.size:
            total = merge_pairs(total, chunk_pair_moments(piece[:, 0], piece[:, 1]))
        start += size
    scale = max(1.0, float(np.max(np.abs(data))))
    expected = np.cov(data[:, 0], data[:, 1], ddof=1)
    assert total.mu.count == len(values)
    assert total.covariance == pytest.approx(expected[0, 1], rel=1e-7, abs=1e-7 * scale**2)
    assert total.mu.variance == pytest.approx(expected[0, 0], rel=1e-7, abs=1e-7 * scale**2)
    assert total.sigma.variance == pytest.approx(expected[1, 1], rel=1e-7, abs=1e-7 * scale**2)


def test_pair_chunks_do_not_modify_shared_inputs() -> None:
    values = np.linspace(-1.0, 1.0, 11)
    copy = values.copy()
    moments = chunk_pair_moments(values, values)
    assert np.array_equal(values, copy)
    assert moments.comoment == pytest.approx(moments.mu.m2)


def test_merge_is_numerically_stable_far_from_zero() -> None:
    """The naive E[x^2] - E[x]^2 loses everything at an offset of 1e9; Chan's merge does not."""
    rng = np.random.default_rng(1)
    data = 1e9 + rng.standard_normal(100_000)
    total = EMPTY
    for piece in np.array_split(data.copy(), 37):
        total = merge(total, chunk_moments(piece))
    assert total.variance == pytest.approx(float(np.var(data, ddof=1)), rel=1e-6)
    naive = float(np.mean(data**2) - np.mean(data) ** 2)
    assert abs(naive - float(np.var(data))) > 1e-3  # the failure the merge avoids


def test_chunk_size_does_not_change_the_samples() -> None:
    function = cost_function("cos(k*z)", "score", "sigma", mu=0.5, sigma=1.0, k=2.0)
    seed = stream_seed(7, "cosine", 0, 0)
    small = sample_moments(function, seed, 50_000, chunk_size=1_000)
    large = sample_moments(function, stream_seed(7, "cosine", 0, 0), 50_000)
    assert small.count == large.count == 50_000
    assert small.mean == pytest.approx(large.mean, rel=1e-12, abs=1e-15)
    assert small.variance == pytest.approx(large.variance, rel=1e-12)


@pytest.mark.parametrize("estimator", ["measure_valued", "measure_valued_coupled", "score"])
def test_chunk_size_does_not_change_multi_noise_samples(estimator: str) -> None:
    """Every lane draws one value per sample, so several noise arrays per chunk are fine."""
    derivation = derive(parse_expression("cos(k*z)", {"z": Z, "k": parameter_symbol("k")}))
    pair = estimator_pair(derivation, estimator, exact_point({"mu": 0.5, "sigma": 1.0, "k": 2.0}))
    seed = (7, "cosine", 0, 4)
    small = sample_pair(pair, stream_seed(*seed), 30_000, chunk_size=777)
    large = sample_pair(pair, stream_seed(*seed), 30_000)
    for first, second in [(small.mu, large.mu), (small.sigma, large.sigma)]:
        assert first.mean == pytest.approx(second.mean, rel=1e-12, abs=1e-15)
        assert first.variance == pytest.approx(second.variance, rel=1e-12)
    assert small.covariance == pytest.approx(large.covariance, rel=1e-9, abs=1e-15)


def test_streams_are_reproducible_and_distinct() -> None:
    function = cost_function("(z - k)**2", "pathwise", "mu", mu=1.0, sigma=1.0, k=0.0)
    base = (20200101, "quadratic", 2, 1)
    first = sample_moments(function, stream_seed(*base), 20_000)
    assert sample_moments(function, stream_seed(*base), 20_000) == first
    for changed in [
        (20200102, "quadratic", 2, 1),
        (20200101, "quadratics", 2, 1),
        (20200101, "quadratic", 3, 1),
        (20200101, "quadratic", 2, 0),
    ]:
        assert sample_moments(function, stream_seed(*changed), 20_000).mean != first.mean


def test_stream_keys_do_not_depend_on_the_process_hash_salt() -> None:
    """crc32, not hash(): the same case name gives the same stream in every process."""
    seed = stream_seed(5, "cosine", 1, 0)
    assert seed.entropy == 5
    assert seed.spawn_key == (zlib.crc32(b"cosine"), 1, 0)


def test_overflow_is_counted_not_hidden() -> None:
    function = cost_function("exp(k*z)", "pathwise", "mu", mu=0.0, sigma=200.0, k=5.0)
    moments = sample_moments(function, stream_seed(1, "overflow", 0, 0), 10_000)
    assert moments.nonfinite > 0
    assert math.isnan(moments.mean)


def test_constant_and_special_function_estimators_are_vectorised() -> None:
    eps = np.linspace(-2.0, 2.0, 9)
    constant = cost_function("k*z", "pathwise", "mu", mu=0.0, sigma=1.0, k=3.0)
    assert np.array_equal(constant(eps.copy()), np.full(9, 3.0))
    with_erf = cost_function("erf(z)", "score", "mu", mu=0.0, sigma=1.0)
    expected = [math.erf(x) * x for x in eps]
    assert np.allclose(with_erf(eps.copy()), expected, rtol=1e-15, atol=0)


def test_memory_is_bounded_by_the_chunk_not_the_sample_size() -> None:
    function = cost_function("cos(k*z)", "score", "sigma", mu=1.0, sigma=1.0, k=1.0)
    pair = estimator_pair(
        derive(parse_expression("cos(z)", {"z": Z})),
        "measure_valued",
        exact_point({"mu": 1.0, "sigma": 1.0}),
    )
    chunk = 2**12
    tracemalloc.start()
    try:
        moments = sample_moments(function, stream_seed(3, "memory", 0, 0), 2**19, chunk)
        joint = sample_pair(pair, stream_seed(3, "memory", 0, 1), 2**19, chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert moments.count == joint.mu.count == 2**19
    # A few dozen chunk-sized float64 temporaries; the whole sample would be 4 MiB.
    assert peak < 32 * chunk * 8 + 200_000


def test_moments_of_a_tiny_sample() -> None:
    assert math.isnan(Moments(1, 2.0, 0.0).variance)
    assert merge(EMPTY, Moments(3, 1.0, 2.0)) == Moments(3, 1.0, 2.0)
    single = PairMoments(Moments(1, 2.0, 0.0), Moments(1, 1.0, 0.0), 0.0)
    assert math.isnan(single.covariance)
    assert merge_pairs(EMPTY_PAIR, single) == single


@pytest.mark.parametrize("estimator", ["score", "pathwise", "score_baseline_optimal"])
def test_the_joint_evaluation_matches_the_components(estimator: str) -> None:
    derivation = derive(parse_expression("cos(k*z)", {"z": Z, "k": parameter_symbol("k")}))
    pair = estimator_pair(derivation, estimator, exact_point({"mu": 0.5, "sigma": 1.5, "k": 2.0}))
    assert pair.joint is not None
    eps = np.linspace(-4.0, 4.0, 33)
    for joint, single in zip(
        pair.joint(eps), (pair.mu.function(eps), pair.sigma.function(eps)), strict=True
    ):
        assert np.allclose(joint, single, rtol=1e-13, atol=1e-13)
