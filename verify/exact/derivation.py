"""A cost's exact objective, gradient and estimator moments, as symbolic formulas.

The contract: :func:`derive` turns ``r(z)`` into a :class:`Derivation` whose every
quantity is an :class:`~verify.exact.gaussian.Expectation` (or, for the gradient, a
:class:`Formula`) in the symbols ``mu``, ``sigma`` and the case parameters:

- ``objective``: J = E[r(z)], z = mu + sigma*eps;
- ``gradient[theta]``: dJ/dtheta, the derivative of the closed form; where J has
  none, E[score estimator] by quadrature (the score identity is exact);
- ``raw_moment(estimator, theta, p)``: E[g_theta**p] for p = 1..4, from which the
  mean, variance and the central moments the Monte Carlo checks need follow.

``r`` and ``r'`` are substituted and expanded into Gaussian terms once; every
estimator moment is a product of a power of that expansion with a polynomial
weight in ``eps`` (see :mod:`verify.cases.estimators`), so the expensive step is shared.

>>> from verify.cases.symbols import Z, SIGMA
>>> derivation = derive((Z - 1) ** 2)
>>> sympy.simplify(derivation.variance_formula("pathwise", "mu"))
4*sigma**2
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import sympy

from verify.cases.symbols import EPS, GRADIENT_PARAMETERS, MU, SIGMA, Z
from verify.exact import registry
from verify.exact.compound import Quantity
from verify.exact.gaussian import Method, expectation_of_terms, gaussian_expectation
from verify.exact.term_sums import TermSum, multiply, power
from verify.exact.terms import NoClosedForm, expand_terms

MAX_MOMENT_ORDER = 4


def pathwise_derivative(r: sympy.Expr) -> sympy.Expr:
    """r'(z) where it exists: Dirac deltas from jumps of r are dropped, not integrated.

    >>> from verify.cases.symbols import Z
    >>> pathwise_derivative(sympy.Heaviside(Z - 1))
    0
    """
    derivative = sympy.diff(r, Z)
    without_deltas = derivative.replace(
        lambda e: isinstance(e, sympy.DiracDelta), lambda e: sympy.S.Zero
    )
    return sympy.sympify(without_deltas)


@dataclass(frozen=True)
class Formula:
    """A symbolic quantity that is not itself one expectation (the gradient).

    ``value`` is ``None`` when it must be computed by quadrature of ``via``.
    """

    value: sympy.Expr | None
    method: Method
    divergence: tuple[sympy.Expr, ...]
    via: Quantity | None = None


@dataclass(eq=False)  # hashed by identity: derivations are cached, one per cost
class Derivation:
    """Exact formulas for one cost ``r``; see the module docstring for the contract."""

    r: sympy.Expr
    _moments: dict[tuple[str, str, int], Quantity] = field(default_factory=dict, repr=False)
    _sample_powers: dict[tuple[str, int], TermSum | None] = field(default_factory=dict, repr=False)

    @cached_property
    def dr(self) -> sympy.Expr:
        """r'(z) as the pathwise estimator uses it."""
        return pathwise_derivative(self.r)

    @cached_property
    def is_discontinuous(self) -> bool:
        """Whether differentiating r produced Dirac deltas (jumps): then pathwise is biased."""
        return bool(sympy.diff(self.r, Z).has(sympy.DiracDelta))

    def sample_function(self, uses: str) -> sympy.Expr:
        """r or r' as a function of eps."""
        function = self.r if uses == "r" else self.dr
        return function.subs(Z, MU + SIGMA * EPS)

    @property
    def measure_valued_components_independent(self) -> bool:
        """Whether a measure-valued estimator's mu and sigma components are independent.

        In one coordinate they are sampled independently, so their covariance is 0.
        """
        return True

    @cached_property
    def objective(self) -> Quantity:
        """J = E[r(mu + sigma*eps)]."""
        return self.product_expectation("r", 1, sympy.Integer(1))

    @cached_property
    def gradient(self) -> dict[str, Formula]:
        """dJ/dmu and dJ/dsigma."""
        objective = self.objective
        if objective.value is not None:
            symbols = {"mu": MU, "sigma": SIGMA}
            return {
                name: Formula(
                    sympy.diff(objective.value, symbols[name]),
                    "closed-form",
                    objective.divergence,
                )
                for name in GRADIENT_PARAMETERS
            }
        return {
            name: Formula(None, "quadrature", (), self.raw_moment("score", name, 1))
            for name in GRADIENT_PARAMETERS
        }

    def raw_moment(self, estimator: str, parameter: str, order: int) -> Quantity:
        """E[g**order] for the named estimator's ``parameter`` component."""
        key = (estimator, parameter, order)
        if key not in self._moments:
            self._moments[key] = self._raw_moment(estimator, parameter, order)
        return self._moments[key]

    def _raw_moment(self, estimator: str, parameter: str, order: int) -> Quantity:
        return registry.raw_moment(self, estimator, parameter, order)

    def cross_moment(self, estimator: str) -> Quantity:
        """E[g_mu * g_sigma], for the covariance of the two components."""
        return registry.cross_moment(self, estimator)

    def mean_formula(self, estimator: str, parameter: str) -> sympy.Expr | None:
        """The closed-form mean, or None where quadrature is needed."""
        return self.raw_moment(estimator, parameter, 1).value

    def variance_formula(self, estimator: str, parameter: str) -> sympy.Expr | None:
        """The closed-form variance E[g**2] - E[g]**2, or None where quadrature is needed."""
        first = self.raw_moment(estimator, parameter, 1).value
        second = self.raw_moment(estimator, parameter, 2).value
        if first is None or second is None:
            return None
        return second - first**2

    def product_expectation(self, uses: str, order: int, weight: sympy.Expr) -> Quantity:
        """E[f(z)**order * weight(eps)] with f = r or r', sharing the expansion of f**order."""
        integrand = self.sample_function(uses) ** order * weight
        sample_terms = self._sample_power(uses, order)
        if sample_terms is None:
            return gaussian_expectation(integrand)  # labelled as quadrature
        try:
            terms = multiply(sample_terms, expand_terms(sympy.expand(weight)))
        except NoClosedForm:
            return gaussian_expectation(integrand)
        return expectation_of_terms(terms, integrand)

    def _sample_power(self, uses: str, order: int) -> TermSum | None:
        """The expansion of f(eps)**order, computed once and shared by all estimators."""
        key = (uses, order)
        if key not in self._sample_powers:
            try:
                base = expand_terms(self.sample_function(uses))
                self._sample_powers[key] = power(base, order)
            except NoClosedForm:
                self._sample_powers[key] = None
        return self._sample_powers[key]


@lru_cache(maxsize=64)
def derive(r: sympy.Expr) -> Derivation:
    """The derivation of cost ``r``, shared by every caller: formulas are built lazily, once."""
    return Derivation(r)
