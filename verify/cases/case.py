"""The validated case: :class:`Case`, its :class:`Domain` and :class:`Claim`; :class:`CaseError`.

Contract: a :class:`Case` holds only what passed validation (see
:mod:`verify.cases.case_files`, the one place that builds one from a file or a mapping).
Its ``r`` and a claim's ``equals`` are SymPy expressions over the shared symbols of
:mod:`verify.cases.symbols`; ``parameters`` maps each parameter name to its values, in
file order (a parameter given as a range, ``{range = [low, high]}``, has its two ends as
values and its interval in ``ranges``).  A rejected case is one :class:`CaseError`: ``str(e) ==
f"{path}: {field}: {message}"``, on one line.  A claim's ``quantity`` is one of
:data:`QUANTITY_NAMES`; a domain left out of the file is :data:`DEFAULT_DOMAIN`.

>>> DEFAULT_DOMAIN.sigma
(0.2, 2.0)
>>> str(CaseError("cases/x.toml", "domain.mu", "low (1.0) must be\\nless than high (0.0)"))
'cases/x.toml: domain.mu: low (1.0) must be less than high (0.0)'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import sympy

from verify.cases.budget import NO_BUDGET, Budget
from verify.cases.coordinates import Coordinates
from verify.cases.dimension import Dimension
from verify.cases.estimators import ESTIMATOR_NAMES
from verify.cases.parameterization import Parameterization
from verify.cases.phi import PhiParameterization
from verify.cases.symbols import GRADIENT_PARAMETERS

_STATISTICS = ("mean", "variance")
# objective, gradient.<p>, <estimator>.<mean|variance>.<p> for p in mu, sigma.
QUANTITY_NAMES: tuple[str, ...] = (
    "objective",
    *(f"gradient.{p}" for p in GRADIENT_PARAMETERS),
    *(f"{e}.{s}.{p}" for e in ESTIMATOR_NAMES for s in _STATISTICS for p in GRADIENT_PARAMETERS),
)


@dataclass(frozen=True)
class Domain:
    """The (mu, sigma) box that reports map, as (low, high) pairs."""

    mu: tuple[float, float]
    sigma: tuple[float, float]


DEFAULT_DOMAIN = Domain(mu=(-2.0, 2.0), sigma=(0.2, 2.0))


@dataclass(frozen=True)
class Claim:
    """``quantity`` equals ``equals`` (kind "equals"), or estimator ``lower`` has the
    lowest variance for the ``parameter`` component of the gradient (kind "lower")."""

    index: int
    kind: Literal["equals", "lower"]
    quantity: str | None = None
    equals_text: str | None = None
    equals: sympy.Expr | None = None
    lower: str | None = None
    parameter: str | None = None


@dataclass(frozen=True)
class Case:
    """One validated case file."""

    name: str
    path: Path
    title: str
    description: str
    source: str | None
    r_text: str
    r: sympy.Expr
    parameters: dict[str, tuple[float, ...]]
    domain: Domain
    reference: dict[str, float]
    claims: tuple[Claim, ...]
    parameterization: Parameterization | PhiParameterization | None = None
    dimension: Dimension | None = None  # r = sum or prod of f over d coordinates
    budget: Budget = NO_BUDGET  # [estimate] samples and [cost] derivative, if given
    coordinates: Coordinates | None = None  # dimension = d: r over z1..zd (explicit)
    # Parameters given as ``{range = [low, high]}``: mapped continuously by the reports;
    # their ``parameters`` entry is (low, high), the two ends, for everything pointwise.
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(self.parameters)

    @property
    def single_valued(self) -> dict[str, float]:
        """The parameters given exactly one value."""
        return {name: values[0] for name, values in self.parameters.items() if len(values) == 1}


class CaseError(Exception):
    """A case file was rejected: ``str(e) == f"{path}: {field}: {message}"``."""

    def __init__(self, path: str, field: str, message: str) -> None:
        self.path = path
        self.field = field
        self.message = " ".join(message.split())  # one line, whatever went in
        super().__init__(f"{path}: {field}: {self.message}")
