"""A numpy sampler checked by verify.testing: the score function and the pathwise
estimator of r(z) = cos(k z) for z ~ N(mu, sigma^2), one row per sample.

Run ``python examples/numpy_sampler.py``; ``tests/test_testing_examples.py`` runs
:func:`main` in every ``nox -s tests``.
"""

from __future__ import annotations

import numpy as np

from verify.testing import Case, EstimatorCheck, assert_estimator

MU, SIGMA, K = 1.0, 1.0, 1.0
CASE = Case("cos(k*z)", parameters={"k": [K]})
AT = {"mu": MU, "sigma": SIGMA, "k": K}


def pathwise(n: int, seed: int) -> np.ndarray:
    """g = r'(z) dz/d(mu, sigma) with z = mu + sigma eps: r'(z) (1, eps)."""
    eps = np.random.default_rng(seed).standard_normal(n)
    derivative = -K * np.sin(K * (MU + SIGMA * eps))
    return np.column_stack([derivative, derivative * eps])


def score(n: int, seed: int) -> np.ndarray:
    """g = r(z) d log q(z) / d(mu, sigma) = r(z) (z - mu, ((z - mu)^2 - sigma^2) / sigma) / sigma^2.

    The score function estimator.
    """
    z = MU + SIGMA * np.random.default_rng(seed).standard_normal(n)
    r = np.cos(K * z)
    return np.column_stack([r * (z - MU) / SIGMA**2, r * ((z - MU) ** 2 - SIGMA**2) / SIGMA**3])


def main() -> list[EstimatorCheck]:
    """Check both; raises AssertionError naming the failed check if either is wrong."""
    return [
        assert_estimator(sampler, CASE, estimator=name, at=AT)
        for sampler, name in ((pathwise, "pathwise"), (score, "score"))
    ]


if __name__ == "__main__":
    for result in main():
        print(result.summary())
