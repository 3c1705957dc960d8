"""A JAX sampler checked by verify.testing: ``jax.random`` noise and ``jax.grad`` through
``z = mu + sigma * eps`` (pathwise) and through ``log q(z)`` (score function), for
r(z) = cos(k z).  Needs ``pip install 'verify[jax]'``.

JAX computes in float32 unless ``jax_enable_x64`` is set: rows are read as float64,
and float32 rounding (relative 1e-7) is far below what the checks can see.  Run
``python examples/jax_sampler.py``; ``tests/test_testing_examples.py`` runs :func:`main`
in every ``nox -s tests`` (the ``tests`` session installs the ``jax`` extra).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
from jax.scipy.stats import norm

from verify.testing import Case, EstimatorCheck, assert_estimator

MU, SIGMA, K = 1.0, 1.0, 1.0
CASE = Case("cos(k*z)", parameters={"k": [K]})
AT = {"mu": MU, "sigma": SIGMA, "k": K}
THETA = jnp.array([MU, SIGMA])


def cost(z: jax.Array) -> jax.Array:
    return jnp.cos(K * z)


def reparameterized(theta: jax.Array, eps: jax.Array) -> jax.Array:
    """r(mu + sigma eps): its gradient in theta is the pathwise estimator."""
    return cost(theta[0] + theta[1] * eps)


def log_density(theta: jax.Array, z: jax.Array) -> jax.Array:
    return norm.logpdf(z, theta[0], theta[1])


@partial(jax.jit, static_argnums=0)
def _pathwise(n: int, seed: int) -> jax.Array:
    eps = jax.random.normal(jax.random.key(seed), (n,))
    return jax.vmap(jax.grad(reparameterized), in_axes=(None, 0))(THETA, eps)


@partial(jax.jit, static_argnums=0)
def _score(n: int, seed: int) -> jax.Array:
    z = THETA[0] + THETA[1] * jax.random.normal(jax.random.key(seed), (n,))
    scores = jax.vmap(jax.grad(log_density), in_axes=(None, 0))(THETA, z)
    return cost(z)[:, None] * scores


def pathwise(n: int, seed: int) -> jax.Array:
    return _pathwise(n, seed)


def score(n: int, seed: int) -> jax.Array:
    return _score(n, seed)


SAMPLERS: dict[str, Callable[[int, int], jax.Array]] = {"pathwise": pathwise, "score": score}


def main() -> list[EstimatorCheck]:
    """Check both; raises AssertionError naming the failed check if either is wrong."""
    return [assert_estimator(f, CASE, estimator=name, at=AT) for name, f in SAMPLERS.items()]


if __name__ == "__main__":
    for result in main():
        print(result.summary())
