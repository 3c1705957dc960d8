"""Issue 23's demonstration: verify.testing catches wrong estimators that loose tests pass.

Each wrong implementation below is written as a library would write it, and shown to
fail; the correct ones pass.  All seeded: the same samples on every run.
"""

from __future__ import annotations

import numpy as np
import pytest

import verify
from verify.testing import Case, assert_estimator, check_estimator

COSINE = Case("cos(k*z)", parameters={"k": [1]})
STEP = Case("Heaviside(z - c)", parameters={"c": [0.5]})
AT = {"mu": 1.0, "sigma": 1.0}
K, C = 1.0, 0.5


def normals(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    eps = np.random.default_rng(seed).standard_normal(n)
    return eps, AT["mu"] + AT["sigma"] * eps


def cosine_pathwise(n: int, seed: int) -> np.ndarray:
    """g = r'(z) (dz/dmu, dz/dsigma) = r'(z) (1, eps)."""
    eps, z = normals(n, seed)
    derivative = -K * np.sin(K * z)
    return np.column_stack([derivative, derivative * eps])


def cosine_score(n: int, seed: int) -> np.ndarray:
    """g = r(z) d log q / d(mu, sigma) = r(z) (eps / sigma, (eps^2 - 1) / sigma)."""
    eps, z = normals(n, seed)
    r = np.cos(K * z)
    return np.column_stack([r * eps / AT["sigma"], r * (eps**2 - 1) / AT["sigma"]])


def failed(result: verify.testing.EstimatorCheck) -> list[tuple[str, str]]:
    return [(check["statistic"], check["parameter"]) for check in result.failures]


@pytest.mark.parametrize(
    ("sampler", "estimator"), [(cosine_pathwise, "pathwise"), (cosine_score, "score")]
)
def test_a_correct_implementation_passes_every_check(sampler, estimator):
    result = assert_estimator(sampler, COSINE, estimator=estimator, at=AT)
    assert [check["passed"] for check in result.checks] == [True] * 5  # none skipped


def test_a_one_percent_error_in_one_mean_fails_where_rtol_0_1_passes():
    exact = verify.evaluate(COSINE, **AT)
    gradient = np.array([float(exact.gradient("mu")), float(exact.gradient("sigma"))])

    def off_by_one_percent(n: int, seed: int) -> np.ndarray:
        rows = cosine_pathwise(n, seed)
        rows[:, 0] += 0.01 * gradient[0]  # a 1% error in the mean of the mu component
        return rows

    # The tolerance libraries use (mean within rtol 0.1 of the closed form) passes it.
    np.testing.assert_allclose(off_by_one_percent(10**5, 0).mean(axis=0), gradient, rtol=0.1)
    # N planned so that a 1% error in any mean or variance is flagged with probability 0.99.
    plan = {"estimator": "pathwise", "at": AT, "relative_error": 0.01}
    result = check_estimator(off_by_one_percent, COSINE, **plan)
    assert result.detectable["mean.mu"] <= 0.01
    assert failed(result) == [("mean", "mu")]
    with pytest.raises(AssertionError, match=r"mean of mu: exact -0\.5103\d+, empirical -0\.515"):
        assert_estimator(off_by_one_percent, COSINE, **plan)
    assert check_estimator(cosine_pathwise, COSINE, **plan).passed


def test_a_score_function_submitted_as_pathwise_fails_on_its_variance():
    # Both are unbiased for a smooth cost, so their means agree: only the variance tells.
    result = check_estimator(cosine_score, COSINE, estimator="pathwise", at=AT)
    assert failed(result) == [("variance", "mu"), ("variance", "sigma"), ("covariance", "mu,sigma")]
    means = [check["passed"] for check in result.checks if check["statistic"] == "mean"]
    assert means == [True, True]


def step_pathwise(n: int, seed: int) -> np.ndarray:
    """Autodiff of a step: r'(z) = 0 wherever it exists, so both components are 0."""
    eps, z = normals(n, seed)
    derivative = np.zeros_like(z)  # d/dz Heaviside(z - c) away from z = c
    return np.column_stack([derivative, derivative * eps])


def step_score(n: int, seed: int) -> np.ndarray:
    eps, z = normals(n, seed)
    r = np.heaviside(z - C, 0.5)
    return np.column_stack([r * eps / AT["sigma"], r * (eps**2 - 1) / AT["sigma"]])


def test_a_biased_pathwise_for_a_discontinuous_cost_is_caught_on_its_mean():
    # Claimed unbiased (its mean the exact gradient), the a.e. derivative fails on both means.
    result = check_estimator(step_pathwise, STEP, estimator="pathwise", at=AT, unbiased=True)
    assert failed(result) == [("mean", "mu"), ("mean", "sigma")]
    with pytest.raises(AssertionError, match=r"mean of mu: exact 0\.35206\d+, empirical 0"):
        assert_estimator(step_pathwise, STEP, estimator="pathwise", at=AT, unbiased=True)
    # An unbiased estimator of the same gradient passes the same claim ...
    assert_estimator(step_score, STEP, estimator="score", at=AT, unbiased=True)
    # ... and the biased one is exactly verify's pathwise estimator, whose bias verify knows.
    assert check_estimator(step_pathwise, STEP, estimator="pathwise", at=AT).passed
