"""An explicit dimension: r(z1, ..., zd) over a diagonal Gaussian in d <= 8 coordinates.

The contract: a case file may say ``dimension = 3`` (a whole number from 1 to
:data:`MAX_COORDINATES`).  Then ``r`` is written in ``z1``..``z3`` (never the scalar
``z``); the Gaussian is diagonal, ``z_i = mu_i + sigma_i eps_i``, with means ``mu1``..
``mu3`` and standard deviations ``sigma1``..``sigma3``; and every reported quantity is
per component, in the order :func:`component_names` gives: ``mu1``..``mud``, then
``sigma1``..``sigmad``.  A point may set every coordinate at once (``mu = 0.5``) or one
(``mu2 = 0.1``); :func:`coordinate_point` resolves that, the specific key winning.

The symbols are made here, once, so that every stage sees equal objects: ``z_i`` and
``mu_i`` real, ``sigma_i`` positive, and the noise ``eps_i`` real.

>>> coordinates = Coordinates(2)
>>> component_names(coordinates.count)
('mu1', 'mu2', 'sigma1', 'sigma2')
>>> coordinate_point(2, {"mu": 0.5, "sigma": 1.0, "mu2": 0.1})
{'mu1': 0.5, 'mu2': 0.1, 'sigma1': 1.0, 'sigma2': 1.0}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import sympy

from verify.cases import fields

MAX_COORDINATES = 8
KINDS = ("mu", "sigma")
_COMPONENT = re.compile(r"(mu|sigma)([1-9][0-9]*)")


@dataclass(frozen=True)
class Coordinates:
    """``count`` explicit coordinates z1..z{count}."""

    count: int

    @property
    def indices(self) -> range:
        """1..count."""
        return range(1, self.count + 1)

    def sample_names(self) -> dict[str, sympy.Symbol]:
        """``z1``..``zd`` by name, for the expression parser."""
        return {f"z{i}": sample_symbol(i) for i in self.indices}


def sample_symbol(index: int) -> sympy.Symbol:
    """z_index, real."""
    return sympy.Symbol(f"z{index}", real=True)


def mean_symbol(index: int) -> sympy.Symbol:
    """mu_index, real."""
    return sympy.Symbol(f"mu{index}", real=True)


def scale_symbol(index: int) -> sympy.Symbol:
    """sigma_index, positive (a standard deviation)."""
    return sympy.Symbol(f"sigma{index}", positive=True)


def noise_symbol(index: int) -> sympy.Symbol:
    """eps_index, the standard normal noise of coordinate ``index``."""
    return sympy.Symbol(f"eps{index}", real=True)


def component_names(count: int) -> tuple[str, ...]:
    """mu1..mud, then sigma1..sigmad: the order of every per-component output."""
    return tuple(f"{kind}{i}" for kind in KINDS for i in range(1, count + 1))


def split_component(name: str) -> tuple[str, int]:
    """``"sigma2"`` -> ``("sigma", 2)``; ValueError for anything else."""
    match = _COMPONENT.fullmatch(name)
    if match is None:
        raise ValueError(f"not a component name: {name!r}")
    return match.group(1), int(match.group(2))


def coordinate_point(
    count: int, values: Mapping[str, float], defaults: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Every mu_i and sigma_i from ``mu2`` (one), else ``mu``/``sigma`` (all coordinates),
    else ``defaults[mu2]``.

    KeyError names the first component that none of them sets.
    """
    point: dict[str, float] = {}
    for name in component_names(count):
        kind, _ = split_component(name)
        if name in values:
            point[name] = values[name]
        elif kind in values:
            point[name] = values[kind]
        elif defaults is not None and name in defaults:
            point[name] = defaults[name]
        else:
            raise KeyError(name)
    return point


def parse_coordinates(value: object) -> Coordinates:
    """The validated integer ``dimension``; raises :class:`fields.Invalid`."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise fields.Invalid("dimension", "must be a whole number or the name of a parameter")
    if not 1 <= value <= MAX_COORDINATES:
        raise fields.Invalid(
            "dimension",
            f"an explicit dimension (r in z1..zd) must be from 1 to {MAX_COORDINATES}, got "
            f'{value}; for more coordinates use a symbolic dimension, dimension = "d" with '
            'combine = "sum" or "product"',
        )
    return Coordinates(value)


def reference_components(
    count: int, table: Mapping[str, object], defaults: Mapping[str, float]
) -> dict[str, float]:
    """The ``[reference]`` point of an explicit case: mu/sigma for all, mu2 for one."""
    allowed = ("mu", "sigma", *component_names(count))
    given: dict[str, float] = dict(defaults)
    for key, raw in table.items():
        if key not in allowed and (_COMPONENT.fullmatch(key) or key in ("z",)):
            message = f"{fields.short(key)} is not a component of a {count}-dimensional case"
            raise fields.Invalid(f"reference.{key}", f"{message}; allowed: {', '.join(allowed)}")
        given[key] = fields.number(raw, f"reference.{key}")
    point = coordinate_point(count, given) | {k: v for k, v in given.items() if k not in allowed}
    for name in component_names(count):
        if name.startswith("sigma") and point[name] <= 0:
            raise fields.Invalid(f"reference.{name}", "must be > 0 (a standard deviation)")
    return point
