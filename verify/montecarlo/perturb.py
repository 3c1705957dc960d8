"""Deliberately wrong exact values: what ``verify check --perturb`` checks against.

The contract: :func:`perturbed` multiplies an estimator's exact means, variances or
covariance by the given factors (``{"variance": 1.02}``) before a stream is sized
(:mod:`verify.montecarlo.sample_size`) and checked, exactly as a formula off by that factor would
be.  Only the named values change -- the third, fourth and sixth moments stay -- so a
perturbed variance may also be caught as impossible (kurtosis < 1) without sampling.
:func:`parse_perturbation` reads the command-line form ``NAME=FACTOR``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import mpmath

from verify.cases.assignments import parse_named_numbers
from verify.montecarlo.covariance_moments import ExactCovariance

PERTURBABLE = ("mean", "variance", "covariance")


def perturbed(exact: ExactCovariance, factors: Mapping[str, float]) -> ExactCovariance:
    """``exact`` with each value named in ``factors`` multiplied by its factor."""
    mean = mpmath.mpf(factors.get("mean", 1.0))
    variance = mpmath.mpf(factors.get("variance", 1.0))
    mu, sigma = (
        dataclasses.replace(m, mean=m.mean * mean, variance=m.variance * variance)
        for m in (exact.mu, exact.sigma)
    )
    covariance = exact.covariance * mpmath.mpf(factors.get("covariance", 1.0))
    return dataclasses.replace(exact, mu=mu, sigma=sigma, covariance=covariance)


def parse_perturbation(items: Sequence[str]) -> dict[str, float]:
    """``["variance=1.02", "mean=0.5"]`` to factors; ValueError naming what is wrong.

    >>> parse_perturbation(["variance=1.02"])
    {'variance': 1.02}
    """
    return parse_named_numbers(items, PERTURBABLE, kind="FACTOR", noun="factor")
