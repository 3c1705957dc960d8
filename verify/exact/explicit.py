"""Exact moments of every estimator for an explicit r(z1, ..., zd), coordinate by coordinate.

The contract: :func:`derive_explicit` gives an :class:`ExplicitDerivation` of a cost in
``z1``..``zd`` (:mod:`verify.cases.coordinates`) under the diagonal Gaussian
``z_i = mu_i + sigma_i eps_i``.  Its :meth:`~ExplicitDerivation.coordinate` ``i`` is a
:class:`~verify.exact.derivation.Derivation` whose ``mu`` and ``sigma`` components are
``mu_i`` and ``sigma_i``, so every stage that evaluates a derivation (certified
evaluation, the Monte Carlo checks' exact moments) works per coordinate unchanged.
Expectations over all coordinates are iterated one-dimensional closed forms
(:mod:`verify.exact.multivariate`), or one labelled one-dimensional quadrature.

The estimators, per coordinate i (Mohamed et al. 2020, Sections 4, 5, 6.2, 7.4.1):

- score: ``r(z) eps_i / sigma_i`` and ``r(z) (eps_i**2 - 1) / sigma_i``;
- pathwise: ``dr/dz_i`` and ``(dr/dz_i) eps_i``;
- baselines: ``(r(z) - b) w(eps_i)`` with ``b = E[r]``, or per component
  ``E[r s_i**2] / E[s_i**2]``;
- measure-valued: coordinate i replaced by its weak-derivative draws, every other
  coordinate kept at one base sample ``z`` shared by all 2d components, and fresh
  draws per component -- as deepmind/mc_gradients does (``measure_valued_loss`` passes
  one ``dist_samples`` to the mean and the scale gradients).  Conditionally on the base
  coordinates each component is the one-dimensional estimator of
  :mod:`verify.exact.measure_valued` applied to ``r`` as a function of z_i; its moments
  are those conditional closed forms integrated over the base coordinates.  Two
  different components are conditionally independent given the base coordinates
  they share, so ``E[g_a g_b] = E[E[g_a | shared] E[g_b | shared]]``.

>>> from verify.cases.coordinates import sample_symbol
>>> z1, z2 = sample_symbol(1), sample_symbol(2)
>>> derivation = derive_explicit(z1**2 * z2, 2)
>>> derivation.coordinate(1).mean_formula("pathwise", "mu")
2*mu1*mu2
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import sympy

from verify.cases.coordinates import mean_symbol, noise_symbol, sample_symbol, scale_symbol
from verify.cases.estimators import ESTIMATORS, MEASURE_VALUED_ESTIMATORS
from verify.cases.symbols import EPS, GRADIENT_PARAMETERS, MU, SIGMA, Z
from verify.exact import measure_valued, registry
from verify.exact.baselines import baseline_value
from verify.exact.compound import Compound, Quantity
from verify.exact.derivation import Derivation, Formula
from verify.exact.evaluation import ExactPoint
from verify.exact.gaussian import Expectation
from verify.exact.multivariate import expect_over
from verify.exact.terms import NoClosedForm


@dataclass(eq=False)
class ExplicitDerivation:
    """The cost ``r`` in z1..z{count}; see the module docstring."""

    r: sympy.Expr
    count: int

    @cached_property
    def noises(self) -> tuple[sympy.Symbol, ...]:
        """eps_1..eps_d."""
        return tuple(noise_symbol(i) for i in range(1, self.count + 1))

    @cached_property
    def reparameterized(self) -> dict[sympy.Symbol, sympy.Expr]:
        """z_i -> mu_i + sigma_i eps_i."""
        return {
            sample_symbol(i): mean_symbol(i) + scale_symbol(i) * noise_symbol(i)
            for i in range(1, self.count + 1)
        }

    @cached_property
    def is_discontinuous(self) -> bool:
        """Whether r jumps in some coordinate (the pathwise estimator is then biased)."""
        return any(self.coordinate(i).is_discontinuous for i in range(1, self.count + 1))

    @cached_property
    def objective(self) -> Expectation:
        """J = E[r(z)]."""
        return self.expect(self.r.xreplace(self.reparameterized))

    def expect(self, integrand: sympy.Expr) -> Expectation:
        """E[integrand] over every coordinate's noise."""
        return expect_over(integrand, self.noises)

    def coordinate_point(self, point: ExactPoint, index: int) -> ExactPoint:
        """``point`` with the one-coordinate mu, sigma set to mu_i, sigma_i: a few shared
        formulas (a baseline's denominator E[s**2] = 1/sigma**2) keep those symbols."""
        return point | {MU: point[mean_symbol(index)], SIGMA: point[scale_symbol(index)]}

    def coordinate(self, index: int) -> CoordinateDerivation:
        """Coordinate ``index`` (1-based) as a one-coordinate derivation."""
        return _coordinate(self, index)

    def cross_moment_between(
        self, estimator: str, first: tuple[str, int], second: tuple[str, int]
    ) -> Quantity:
        """E[g_a g_b] for components a = (kind, i), b = (kind, j) of different coordinates."""
        (kind_a, i), (kind_b, j) = first, second
        view_a, view_b = self.coordinate(i), self.coordinate(j)
        family = ESTIMATORS[estimator].family
        if family == "measure_valued" and self.count == 2:
            # No base coordinate is shared: g_a sees (its draws, z_j), g_b (its draws, z_i),
            # all independent, so E[g_a g_b] = E[g_a] E[g_b] -- the covariance is 0.
            means = (
                view_a.raw_moment(estimator, kind_a, 1),
                view_b.raw_moment(estimator, kind_b, 1),
            )
            return Compound.of(lambda a, b: a * b, *means)
        if family == "measure_valued":
            mean_a = view_a.conditional_mean(estimator, kind_a)
            mean_b = view_b.conditional_mean(estimator, kind_b)
            given_a = _closed(expect_over(mean_a, (noise_symbol(j),)))
            given_b = _closed(expect_over(mean_b, (noise_symbol(i),)))
            return self.expect(given_a * given_b)
        spec = ESTIMATORS[estimator]
        weight = view_a.weight(spec.weights[kind_a]) * view_b.weight(spec.weights[kind_b])
        if family == "product":
            sample_a = view_a.sample_function(spec.uses)
            return self.expect(sample_a * view_b.sample_function(spec.uses) * weight)
        r = view_a.sample_function("r")
        powers = [self.expect(r**k * weight) for k in range(3)]
        baselines = (
            baseline_value(estimator, view_a, kind_a),
            baseline_value(estimator, view_b, kind_b),
        )
        return Compound.of(
            lambda b_a, b_b, m0, m1, m2: m2 - (b_a + b_b) * m1 + b_a * b_b * m0,
            *(view.renamed(b) for view, b in zip((view_a, view_b), baselines, strict=True)),
            *powers,
        )


@dataclass(eq=False)
class CoordinateDerivation(Derivation):
    """Coordinate ``index`` of an explicit cost: ``mu``/``sigma`` mean mu_i/sigma_i."""

    parent: ExplicitDerivation = field(default=None, repr=False)  # type: ignore[assignment]
    index: int = 1

    @cached_property
    def sample(self) -> sympy.Symbol:
        return sample_symbol(self.index)

    @cached_property
    def dr(self) -> sympy.Expr:
        """dr/dz_i where it exists (jumps add no Dirac delta)."""
        derivative = sympy.diff(self.r, self.sample)
        return sympy.sympify(
            derivative.replace(lambda e: isinstance(e, sympy.DiracDelta), lambda e: 0)
        )

    @cached_property
    def is_discontinuous(self) -> bool:
        return bool(sympy.diff(self.r, self.sample).has(sympy.DiracDelta))

    @property
    def measure_valued_components_independent(self) -> bool:
        # Independent only when there is no shared base coordinate.
        return self.parent.count == 1

    @cached_property
    def renaming(self) -> dict[sympy.Symbol, sympy.Expr]:
        """The one-coordinate symbols to this coordinate's."""
        return {
            MU: mean_symbol(self.index),
            SIGMA: scale_symbol(self.index),
            EPS: noise_symbol(self.index),
        }

    def weight(self, weight: sympy.Expr) -> sympy.Expr:
        """A one-coordinate weight in (eps, sigma) as this coordinate's."""
        return weight.xreplace(self.renaming)

    def sample_function(self, uses: str) -> sympy.Expr:
        """r or dr/dz_i as a function of every coordinate's noise."""
        function = self.r if uses == "r" else self.dr
        return function.xreplace(self.parent.reparameterized)

    @cached_property
    def objective(self) -> Quantity:
        return self.parent.objective

    @cached_property
    def gradient(self) -> dict[str, Formula]:
        """dJ/dmu_i and dJ/dsigma_i: the closed form's derivative, else the score identity."""
        objective = self.parent.objective
        if objective.value is None:
            return {
                name: Formula(None, "quadrature", (), self.raw_moment("score", name, 1))
                for name in GRADIENT_PARAMETERS
            }
        symbols = {"mu": mean_symbol(self.index), "sigma": scale_symbol(self.index)}
        return {
            name: Formula(
                sympy.diff(objective.value, symbols[name]), "closed-form", objective.divergence
            )
            for name in GRADIENT_PARAMETERS
        }

    def product_expectation(self, uses: str, order: int, weight: sympy.Expr) -> Quantity:
        """E[F**order * weight(eps_i)] with F = r or dr/dz_i, over every coordinate."""
        return self.parent.expect(self.sample_function(uses) ** order * self.weight(weight))

    def _raw_moment(self, estimator: str, parameter: str, order: int) -> Quantity:
        if estimator in MEASURE_VALUED_ESTIMATORS:
            conditional = self._conditional_moment(estimator, parameter, order)
            return self.parent.expect(conditional)
        return self.renamed(registry.raw_moment(self, estimator, parameter, order))

    def cross_moment(self, estimator: str) -> Quantity:
        """E[g_mu_i g_sigma_i]; measure-valued: they share the base coordinates."""
        if estimator not in MEASURE_VALUED_ESTIMATORS:
            return self.renamed(registry.cross_moment(self, estimator))
        means = [self.conditional_mean(estimator, p) for p in GRADIENT_PARAMETERS]
        return self.parent.expect(means[0] * means[1])

    def measure_valued_mixed_moment(self, estimator: str, p: int, q: int) -> Quantity:
        """E[g_mu_i**p g_sigma_i**q]: conditionally independent given the shared base."""
        mu = self._conditional_moment(estimator, "mu", p)
        return self.parent.expect(mu * self._conditional_moment(estimator, "sigma", q))

    def conditional_mean(self, estimator: str, parameter: str) -> sympy.Expr:
        """E[g | the other coordinates' base noise], a closed form in that noise."""
        return self._conditional_moment(estimator, parameter, 1)

    def _conditional_moment(self, estimator: str, parameter: str, order: int) -> sympy.Expr:
        conditional = measure_valued.raw_moment(estimator, self._given_others, parameter, order)
        return _closed(conditional).xreplace(self.renaming)  # mu, sigma, eps -> coordinate i

    @cached_property
    def _given_others(self) -> Derivation:
        """r as a one-coordinate cost of z_i, the other coordinates at their base draw."""
        others = {s: v for s, v in self.parent.reparameterized.items() if s != self.sample}
        return Derivation(self.r.xreplace(others).xreplace({self.sample: Z}))

    def renamed(self, quantity: Quantity) -> Quantity:
        """``quantity`` with the one-coordinate mu, sigma (in baselines' and the
        measure-valued constants) as this coordinate's mu_i, sigma_i."""
        names = {MU: mean_symbol(self.index), SIGMA: scale_symbol(self.index)}
        if isinstance(quantity, Expectation):
            return _renamed_expectation(quantity, names)
        parts = tuple((s, _renamed_expectation(p, names)) for s, p in quantity.parts)
        return Compound(quantity.formula.xreplace(names), parts)


def _renamed_expectation(
    expectation: Expectation, names: dict[sympy.Symbol, sympy.Expr]
) -> Expectation:
    value = None if expectation.value is None else expectation.value.xreplace(names)
    return Expectation(
        expectation.integrand.xreplace(names),
        value,
        tuple(b.xreplace(names) for b in expectation.divergence),
        expectation.method,
        expectation.reason,
    )


def _closed(quantity: Quantity) -> sympy.Expr:
    """The closed form of a conditional quantity; NoClosedForm where it has none."""
    if quantity.value is None:
        raise NoClosedForm(
            "a measure-valued moment has no closed form given the other coordinates, and "
            "nested quadrature is not done"
        )
    return quantity.value


@lru_cache(maxsize=64)
def _coordinate(parent: ExplicitDerivation, index: int) -> CoordinateDerivation:
    return CoordinateDerivation(parent.r, parent=parent, index=index)


@lru_cache(maxsize=64)
def derive_explicit(r: sympy.Expr, count: int) -> ExplicitDerivation:
    """The derivation of cost ``r`` in z1..z{count}, shared by every caller."""
    return ExplicitDerivation(r, count)
