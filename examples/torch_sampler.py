"""A PyTorch sampler checked by verify.testing: ``torch.distributions.Normal.rsample``
(pathwise) and ``log_prob`` (score function) with autograd, for r(z) = cos(k z).
Needs ``pip install 'verify[torch]'`` (optional: not run in CI, see the README).

Each sample gets its own copy of (mu, sigma), so one backward pass gives every
per-sample gradient.  Run ``python examples/torch_sampler.py``;
``tests/test_testing_examples.py`` runs :func:`main` where torch is importable.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.distributions import Normal

from verify.testing import Case, EstimatorCheck, assert_estimator

MU, SIGMA, K = 1.0, 1.0, 1.0
CASE = Case("cos(k*z)", parameters={"k": [K]})
AT = {"mu": MU, "sigma": SIGMA, "k": K}


def _parameters(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """mu and sigma repeated per sample, each a leaf whose .grad is per sample."""
    mu = torch.full((n,), MU, dtype=torch.float64, requires_grad=True)
    sigma = torch.full((n,), SIGMA, dtype=torch.float64, requires_grad=True)
    return mu, sigma


def pathwise(n: int, seed: int) -> torch.Tensor:
    mu, sigma = _parameters(n)
    with torch.random.fork_rng():  # seeded without disturbing the caller's generator
        torch.manual_seed(seed)
        z = Normal(mu, sigma).rsample()  # z = mu + sigma eps, differentiable in both
    torch.cos(K * z).sum().backward()
    return torch.stack([mu.grad, sigma.grad], dim=1)


def score(n: int, seed: int) -> torch.Tensor:
    mu, sigma = _parameters(n)
    distribution = Normal(mu, sigma)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        z = distribution.sample()  # no gradient through z
    (torch.cos(K * z) * distribution.log_prob(z)).sum().backward()  # r(z) d log q / d theta
    return torch.stack([mu.grad, sigma.grad], dim=1)


SAMPLERS: dict[str, Callable[[int, int], torch.Tensor]] = {"pathwise": pathwise, "score": score}


def main() -> list[EstimatorCheck]:
    """Check both; raises AssertionError naming the failed check if either is wrong."""
    return [assert_estimator(f, CASE, estimator=name, at=AT) for name, f in SAMPLERS.items()]


if __name__ == "__main__":
    for result in main():
        print(result.summary())
