"""What an estimator family needs from a cost to build its moments: one protocol.

Contract: a family's moment rule (:mod:`verify.exact.registry`) sees a cost only
through :class:`MomentSource`: the cost ``r``, its objective E[r], and the shared
product expectations ``E[f(z)**order * weight(eps)]`` with ``f`` = r or r'.
:class:`~verify.exact.derivation.Derivation` implements it; the families never
import the derivation, so the dependency points one way (derivation -> registry ->
families -> this protocol).
"""

from __future__ import annotations

from typing import Protocol

import sympy

from verify.exact.compound import Quantity


class MomentSource(Protocol):
    """A cost whose Gaussian expectations an estimator family combines."""

    @property
    def r(self) -> sympy.Expr:
        """The cost r(z)."""
        ...

    @property
    def objective(self) -> Quantity:
        """J = E[r(mu + sigma*eps)]."""
        ...

    def product_expectation(self, uses: str, order: int, weight: sympy.Expr) -> Quantity:
        """E[f(z)**order * weight(eps)] with f = r (``uses="r"``) or r' (``"dr"``)."""
        ...

    def raw_moment(self, estimator: str, parameter: str, order: int) -> Quantity:
        """E[g**order] for the named estimator's ``parameter`` component."""
        ...
