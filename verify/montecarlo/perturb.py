"""Deliberately wrong exact values: what ``verify check --perturb`` checks against.

The contract: :func:`perturbed` multiplies an estimator's exact means, variances or
covariance by the given factors (``{"variance": 1.02}``) before a stream is sized
(:mod:`verify.montecarlo.sample_size`) and checked, exactly as a formula off by that factor would
be.  Only the named values change -- the third, fourth and sixth moments stay -- so a
perturbed variance may also be caught as impossible (kurtosis < 1) without sampling.
:func:`parse_perturbation` reads the command-line form ``NAME=FACTOR``.

A factor leaves an exact zero unchanged, so a variance that is exactly 0 (a component
that is constant, e.g. quadratic's coupled measure-valued mu at k = 1) is perturbed on
the estimator's own scale instead: ``variance=f`` makes it ``(f - 1) E[g^2]``, with
``E[g^2]`` the larger second moment of the estimator's two components (0 stays 0 only
where both components are identically 0, when there is no scale to err on).  A 2% error
there means "2% of the estimator's size", the usual mixed relative/absolute reading of
an error near 0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import mpmath

from verify.cases.assignments import parse_named_numbers
from verify.montecarlo.check_moments import ExactMoments
from verify.montecarlo.covariance_moments import ExactCovariance

PERTURBABLE = ("mean", "variance", "covariance")


def perturbed(exact: ExactCovariance, factors: Mapping[str, float]) -> ExactCovariance:
    """``exact`` with each value named in ``factors`` multiplied by its factor."""
    mean = mpmath.mpf(factors.get("mean", 1.0))
    variance = mpmath.mpf(factors.get("variance", 1.0))
    scale = max(m.variance + m.mean**2 for m in (exact.mu, exact.sigma))
    mu, sigma = (
        dataclasses.replace(
            m,
            mean=m.mean * mean,
            variance=(variance - 1) * scale if _zero(m, variance) else m.variance * variance,
        )
        for m in (exact.mu, exact.sigma)
    )
    covariance = exact.covariance * mpmath.mpf(factors.get("covariance", 1.0))
    return dataclasses.replace(exact, mu=mu, sigma=sigma, covariance=covariance)


def _zero(moments: ExactMoments, factor: mpmath.mpf) -> bool:
    """Whether ``factor`` is to perturb an exact zero variance (module docstring)."""
    return factor != 1 and moments.is_degenerate


def parse_perturbation(items: Sequence[str]) -> dict[str, float]:
    """``["variance=1.02", "mean=0.5"]`` to factors; ValueError naming what is wrong.

    >>> parse_perturbation(["variance=1.02"])
    {'variance': 1.02}
    """
    return parse_named_numbers(items, PERTURBABLE, kind="FACTOR", noun="factor")
