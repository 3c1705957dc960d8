"""A symbolic dimension: r(z) = sum_i f(z_i) or prod_i f(z_i) over d coordinates.

The contract: a case file may say

    dimension = "d"          # the name of a parameter: its values are the dimensions
    combine = "sum"          # or "product"

Then ``r`` is the one-coordinate function f, in the scalar ``z``; the Gaussian is
diagonal in d coordinates that all share ``mu`` and ``sigma``; and ``d`` is a case
parameter like any other, whose values must be whole numbers from 1 to
:data:`MAX_DIMENSION`.  Every reported ``mu``/``sigma`` quantity is then coordinate
1's (all coordinates are alike); the exact formulas are functions of d.

>>> spec = parse_dimension("d", "sum", {"d": (1.0, 2.0, 64.0)})
>>> spec.parameter, spec.combine
('d', 'sum')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from verify.cases import fields

Combine = Literal["sum", "product"]
COMBINES: tuple[Combine, ...] = ("sum", "product")
MAX_DIMENSION = 10**6


@dataclass(frozen=True)
class Dimension:
    """d coordinates, ``parameter`` naming d, combined by ``combine``."""

    parameter: str
    combine: Combine


def parse_dimension(
    value: object, combine: object, parameters: Mapping[str, tuple[float, ...]]
) -> Dimension | None:
    """The validated ``dimension``/``combine`` keys (None when both are absent).

    Raises :class:`verify.cases.fields.Invalid` naming the field.
    """
    if value is None:
        if combine is not None:
            raise fields.Invalid("combine", 'needs dimension = "d" (a parameter naming d)')
        return None
    # An integer dimension (explicit z1..zd) is verify.cases.coordinates'.
    name = fields.string(value, "dimension")
    if name not in parameters:
        raise fields.Invalid(
            "dimension", f"{fields.short(name)} must name a parameter listed under [parameters]"
        )
    for index, dimension in enumerate(parameters[name], start=1):
        if not (dimension == int(dimension) and 1 <= dimension <= MAX_DIMENSION):
            raise fields.Invalid(
                f"parameters.{name}[{index}]",
                f"a dimension must be a whole number from 1 to {MAX_DIMENSION}, "
                f"got {fields.short(dimension)}",
            )
    if combine is None:
        raise fields.Invalid("combine", 'missing; with dimension, say combine = "sum" or "product"')
    chosen = fields.choice(combine, "combine", COMBINES)
    return Dimension(name, "sum" if chosen == "sum" else "product")
