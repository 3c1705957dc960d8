"""Points of a case's domain, shared by the Monte Carlo checks, the claims and the tests.

The contract: mu and sigma range over the case's ``[domain]`` intervals and each
parameter over its listed values.  :func:`points` is the hypothesis strategy of such
points (mu and sigma on a grid of :data:`GRID_STEPS` steps, so that counterexamples
read well and shrink towards the lower corner); :func:`fixed_points` the reference
point and the four corners; :func:`parameter_combinations` at most
:data:`MAX_COMBINATIONS` combinations of parameter values, evenly spread and
deterministic, computed without listing the (possibly huge) product.
"""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hypothesis import strategies as st

from verify.cases.case import Case

MAX_COMBINATIONS = 8
GRID_STEPS = 1000
Point = dict[str, float]


def grid(low: float, high: float) -> st.SearchStrategy[float]:
    """Values of [low, high] on a grid of GRID_STEPS steps, shrinking towards ``low``."""

    def value(step: int) -> float:
        return min(max(round(low + (high - low) * step / GRID_STEPS, 6), low), high)

    from hypothesis import strategies as st  # imported on use: 0.1 s the CLI need not pay

    return st.integers(0, GRID_STEPS).map(value)


def points(case: Case) -> st.SearchStrategy[Point]:
    """Points of the case's domain: mu, sigma on grids, parameters from their values."""
    from hypothesis import strategies as st

    coordinates: dict[str, st.SearchStrategy[float]] = {
        "mu": grid(*case.domain.mu),
        "sigma": grid(*case.domain.sigma),
    }
    coordinates |= {name: st.sampled_from(values) for name, values in case.parameters.items()}
    order = list(coordinates)
    # fixed_dictionaries may build the dict in another order: restore mu, sigma, parameters.
    return st.fixed_dictionaries(coordinates).map(lambda at: {name: at[name] for name in order})


def fixed_points(case: Case) -> list[Point]:
    """The reference point and the four domain corners, for every parameter combination."""
    corners = [{"mu": mu, "sigma": sigma} for mu in case.domain.mu for sigma in case.domain.sigma]
    locations = [{"mu": case.reference["mu"], "sigma": case.reference["sigma"]}, *corners]
    combinations = parameter_combinations(case)
    return [location | combination for location in locations for combination in combinations]


def parameter_combinations(case: Case, cap: int = MAX_COMBINATIONS) -> list[Point]:
    """Combinations of the parameter values, at most ``cap``, evenly spread and in order.

    >>> from verify.cases.case import DEFAULT_DOMAIN
    >>> case = Case("c", None, "c", "", None, "z", None, {"k": (1.0, 2.0, 3.0)},
    ...             DEFAULT_DOMAIN, {"mu": 1.0, "sigma": 1.0}, ())
    >>> parameter_combinations(case, cap=2)
    [{'k': 1.0}, {'k': 3.0}]
    """
    total = prod(len(values) for values in case.parameters.values())
    if total <= cap:
        indices = list(range(total))
    else:  # evenly spaced, first and last included; never the whole (possibly huge) product
        indices = sorted({round(i * (total - 1) / (cap - 1)) for i in range(cap)})
    return [_combination(case, index) for index in indices]


def _combination(case: Case, index: int) -> Point:
    """The ``index``-th combination in itertools.product order (last name varies fastest)."""
    combination: Point = {}
    for name in reversed(case.parameter_names):
        values = case.parameters[name]
        index, position = divmod(index, len(values))
        combination[name] = values[position]
    return {name: combination[name] for name in case.parameter_names}
