"""The estimator table the derivation reads: each estimator's moments, by family.

Contract: :data:`verify.cases.estimators.ESTIMATORS` is the one table of estimators
(name, what it samples, its weights, its family).  Here each family gets its moment
rule, and :func:`raw_moment` / :func:`cross_moment` dispatch an estimator to its
family's rule through that table, so adding an estimator is one row there (and, for
a new family, one rule here):

- ``product``: ``E[(f w_theta)**p]`` and ``E[f**2 w_mu w_sigma]`` are product
  expectations of the cost (:class:`~verify.exact.moment_source.MomentSource`);
- ``baseline``: binomial compounds of those (:mod:`verify.exact.baselines`);
- ``measure_valued``: Rayleigh and Maxwell expectations
  (:mod:`verify.exact.measure_valued`); the two components are sampled
  independently, so ``E[g_mu g_sigma] = E[g_mu] E[g_sigma]``.

>>> from verify.exact.derivation import derive
>>> from verify.cases.symbols import Z
>>> raw_moment(derive(Z**2), "pathwise", "mu", 1).value
2*mu
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from verify.cases.estimators import ESTIMATORS, Family
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact import baselines, measure_valued
from verify.exact.compound import Compound, Quantity
from verify.exact.moment_source import MomentSource


@dataclass(frozen=True)
class MomentRule:
    """How a family builds ``E[g_theta**p]`` and ``E[g_mu g_sigma]`` from a cost."""

    raw_moment: Callable[[str, MomentSource, str, int], Quantity]
    cross_moment: Callable[[str, MomentSource], Quantity]


def _product_raw_moment(
    estimator: str, source: MomentSource, parameter: str, order: int
) -> Quantity:
    spec = ESTIMATORS[estimator]
    return source.product_expectation(spec.uses, order, spec.weights[parameter] ** order)


def _product_cross_moment(estimator: str, source: MomentSource) -> Quantity:
    spec = ESTIMATORS[estimator]
    return source.product_expectation(spec.uses, 2, spec.weights["mu"] * spec.weights["sigma"])


def _independent_cross_moment(estimator: str, source: MomentSource) -> Quantity:
    means = (source.raw_moment(estimator, p, 1) for p in GRADIENT_PARAMETERS)
    return Compound.of(lambda a, b: a * b, *means)


MOMENT_RULES: dict[Family, MomentRule] = {
    "product": MomentRule(_product_raw_moment, _product_cross_moment),
    "baseline": MomentRule(baselines.raw_moment, baselines.cross_moment),
    "measure_valued": MomentRule(measure_valued.raw_moment, _independent_cross_moment),
}


def raw_moment(source: MomentSource, estimator: str, parameter: str, order: int) -> Quantity:
    """E[g**order] for ``estimator``'s ``parameter`` component, by its family's rule."""
    rule = MOMENT_RULES[ESTIMATORS[estimator].family]
    return rule.raw_moment(estimator, source, parameter, order)


def cross_moment(source: MomentSource, estimator: str) -> Quantity:
    """E[g_mu * g_sigma], for the covariance of the two components."""
    return MOMENT_RULES[ESTIMATORS[estimator].family].cross_moment(estimator, source)
