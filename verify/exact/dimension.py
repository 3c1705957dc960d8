"""Exact moments in a symbolic dimension d: r(z) = sum_i f(z_i) or prod_i f(z_i).

The contract: :class:`DimensionDerivation` is a :class:`~verify.exact.derivation.Derivation`
of coordinate 1 of a diagonal Gaussian in d coordinates that share mu and sigma
(:mod:`verify.cases.dimension`), built from the one-coordinate derivation of f.  Every
quantity is a function of the parameter symbol d, exact wherever f's moments are:

- the estimators are per coordinate (Mohamed et al. 2020, Sections 4, 5, 6.2 and
  7.4.1): score ``r(z) w(eps_1)``, pathwise ``dr/dz_1 w(eps_1)``, baselines as in one
  dimension with ``b = E[r]`` or ``E[r s_1**2] / E[s_1**2]``, measure-valued as in
  deepmind/mc_gradients: coordinate 1 is replaced by the weak-derivative draws and
  the other coordinates keep the shared base sample ``z_2..z_d``;
- **sum**: with ``S = f(z_2) + ... + f(z_d)`` independent of coordinate 1,
  ``E[r**j W(eps_1)] = sum_k C(j, k) E[f**k W] E[S**(j-k)]``, and the moments of S
  follow from its cumulants, ``(d - 1)`` times f's: polynomials in d.  ``dr/dz_1 =
  f'(z_1)``, so the pathwise and measure-valued moments do not depend on d;
- **product**: with ``P = f(z_2)...f(z_d)``, ``E[r**j W] = E[f**j W] E[f**j]**(d-1)``
  and ``E[(dr/dz_1)**j W] = E[f'**j W] E[f**j]**(d-1)``; a measure-valued moment of
  order j is its one-coordinate moment times ``E[f**j]**(d-1)``, and its two
  components share P, so they are no longer uncorrelated.

The objective is ``d E[f]`` or ``E[f]**d``; the gradient is coordinate 1's,
``dJ/dmu_1 = (1/d) dJ/dmu`` by symmetry.  The trace of the 2d x 2d covariance is d
times coordinate 1's.

For r = z_1**2 + ... + z_d**2 at mu = 0, sigma = 1, the score function's variance
for mu_1 is E[(eps_1**2 + S)**2 eps_1**2] with S chi-squared on d - 1 degrees of
freedom, (d + 2)(d + 4); the pathwise estimator's, 2 z_1, is 4 sigma**2 in any d:

>>> from verify.cases.symbols import Z, parameter_symbol
>>> lifted = DimensionDerivation(Z**2, combine="sum", dimension=parameter_symbol("d"))
>>> sympy.factor(lifted.variance_formula("score", "mu").subs({MU: 0, SIGMA: 1}))
(d + 2)*(d + 4)
>>> lifted.variance_formula("pathwise", "mu")
4*sigma**2
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import sympy

from verify.cases.case import Case
from verify.cases.dimension import Combine
from verify.cases.estimators import ESTIMATORS, MEASURE_VALUED_ESTIMATORS
from verify.cases.symbols import GRADIENT_PARAMETERS, MU, SIGMA, parameter_symbol
from verify.exact import registry
from verify.exact.compound import Compound, Quantity
from verify.exact.derivation import Derivation, Formula, derive
from verify.exact.gaussian import gaussian_expectation


@dataclass(eq=False)
class DimensionDerivation(Derivation):
    """Coordinate 1 of r = combine_i f(z_i) over ``dimension`` coordinates (a symbol)."""

    combine: Combine = "sum"
    dimension: sympy.Symbol = field(default_factory=lambda: parameter_symbol("d"))

    @cached_property
    def base(self) -> Derivation:
        """The one-coordinate derivation of f."""
        return derive(self.r)

    @property
    def measure_valued_components_independent(self) -> bool:
        # A product shares P between the mu and sigma components.
        return self.combine == "sum"

    def _moment_of_f(self, order: int) -> Quantity:
        """E[f**order] (order 0: exactly 1)."""
        return self.base.product_expectation("r", order, sympy.Integer(1))

    @cached_property
    def objective(self) -> Quantity:
        """J = d E[f] or E[f]**d."""
        d = self.dimension
        if self.combine == "sum":
            return Compound.of(lambda m: d * m, self.base.objective)
        return Compound.of(lambda m: m**d, self.base.objective)

    @cached_property
    def gradient(self) -> dict[str, Formula]:
        """Coordinate 1's gradient: f's, times E[f]**(d-1) for a product."""
        objective = self.objective
        if objective.value is None:
            return {
                name: Formula(None, "quadrature", (), self.raw_moment("score", name, 1))
                for name in GRADIENT_PARAMETERS
            }
        symbols = {"mu": MU, "sigma": SIGMA}
        return {
            name: Formula(
                sympy.diff(objective.value, symbols[name]) / self.dimension,
                "closed-form",
                objective.divergence,
            )
            for name in GRADIENT_PARAMETERS
        }

    def _raw_moment(self, estimator: str, parameter: str, order: int) -> Quantity:
        if ESTIMATORS[estimator].family != "measure_valued":
            return registry.raw_moment(self, estimator, parameter, order)
        one_coordinate = self.base.raw_moment(estimator, parameter, order)
        if self.combine == "sum":
            return one_coordinate
        return self._times_rest(one_coordinate, order)

    def cross_moment(self, estimator: str) -> Quantity:
        """E[g_mu g_sigma]; measure-valued: independent draws on coordinate 1, shared P."""
        if estimator not in MEASURE_VALUED_ESTIMATORS:
            return registry.cross_moment(self, estimator)
        means = [self.base.raw_moment(estimator, p, 1) for p in GRADIENT_PARAMETERS]
        product = Compound.of(lambda a, b: a * b, *means)
        return product if self.combine == "sum" else self._times_rest(product, 2)

    def measure_valued_mixed_moment(self, estimator: str, p: int, q: int) -> Quantity:
        """E[g_mu**p g_sigma**q] of a measure-valued estimator of a product: the
        coordinate-1 draws are independent, and both components multiply the same P."""
        parts = [
            self.base.raw_moment(estimator, "mu", p),
            self.base.raw_moment(estimator, "sigma", q),
        ]
        return self._times_rest(Compound.of(lambda a, b: a * b, *parts), p + q)

    def product_expectation(self, uses: str, order: int, weight: sympy.Expr) -> Quantity:
        """E[F**order * weight(eps_1)] with F = r or dr/dz_1 of the d-coordinate cost."""
        one_coordinate = self.base.product_expectation(uses, order, weight)
        if self.combine == "product":
            return self._times_rest(one_coordinate, order)
        if uses == "dr":
            return one_coordinate
        parts = [self.base.product_expectation("r", k, weight) for k in range(order + 1)]
        parts[0] = gaussian_expectation(weight)
        rest = self._moments_of_rest(order)

        def expand(*values: sympy.Expr) -> sympy.Expr:
            firsts, sums = values[: order + 1], values[order + 1 :]
            return sympy.Add(
                *(sympy.binomial(order, k) * firsts[k] * sums[order - k] for k in range(order + 1))
            )

        return Compound.of(expand, *parts, *rest)

    def _times_rest(self, quantity: Quantity, order: int) -> Quantity:
        """``quantity * E[f**order]**(d-1)``: the other coordinates' share of a product."""
        n = self.dimension - 1
        return Compound.of(lambda q, m: q * m**n, quantity, self._moment_of_f(order))

    def _moments_of_rest(self, order: int) -> list[Quantity]:
        """E[S**q] for q = 0..order, S a sum of d-1 independent copies of f."""
        n = self.dimension - 1
        raws = [self._moment_of_f(j) for j in range(1, order + 1)]

        def moment(q: int) -> Compound:
            return Compound.of(lambda *m: sum_moment(q, n, m), *raws)

        return [moment(q) for q in range(order + 1)]


def sum_moment(order: int, count: sympy.Expr, raw: tuple[sympy.Expr, ...]) -> sympy.Expr:
    """E[S**order] for S a sum of ``count`` iid copies of X with E[X**j] = raw[j-1].

    Cumulants add, so S's are ``count`` times X's; both conversions use the recursion
    ``m_q = sum_{j=1..q} C(q-1, j-1) k_j m_{q-j}``.

    >>> m = sympy.symbols("m1:5")
    >>> sympy.expand(sum_moment(2, sympy.Integer(3), m) - (3*m[1] + 6*m[0]**2))
    0
    """
    moments = [sympy.Integer(1), *raw[:order]]
    cumulants: list[sympy.Expr] = [sympy.Integer(0)]
    for q in range(1, order + 1):
        lower = sum(
            sympy.binomial(q - 1, j - 1) * cumulants[j] * moments[q - j] for j in range(1, q)
        )
        cumulants.append(moments[q] - lower)
    of_sum = [sympy.Integer(1)]
    for q in range(1, order + 1):
        of_sum.append(
            sum(
                sympy.binomial(q - 1, j - 1) * count * cumulants[j] * of_sum[q - j]
                for j in range(1, q + 1)
            )
        )
    return sympy.expand(of_sum[order])


def derive_case(case: Case) -> Derivation:
    """The derivation a case's numbers come from: f's own, or lifted to d coordinates.

    An explicit r(z1..zd) has no one-coordinate derivation (see :mod:`verify.exact.explicit`).
    """
    if case.coordinates is not None:
        raise ValueError(f"{case.name}: an explicit r(z1..zd) is derived by derive_explicit")
    if case.dimension is None:
        return derive(case.r)
    return _lifted(case.r, case.dimension.combine, parameter_symbol(case.dimension.parameter))


@lru_cache(maxsize=64)
def _lifted(r: sympy.Expr, combine: Combine, dimension: sympy.Symbol) -> DimensionDerivation:
    return DimensionDerivation(r, combine=combine, dimension=dimension)
