"""The proven regions of every gradient component at one assignment of the other names.

The contract: :func:`region_row` searches (:func:`verify.analysis.regions.search_regions`)
each gradient component's sign regions of ``Var[first] - Var[second]`` over ``spans``
(the free names: ``mu`` and ``sigma`` over the case's domain, or one varied name over
its range), every other name fixed at its value in ``fixed``, which must already be
complete and checked (the API does that, :func:`verify.api.case.complete_point`).  A
component whose variances can be enclosed by neither closed forms nor box quadrature
is one undecided box with the method ``"uncertified"``.  The budget is the pair
``(seconds, boxes)`` of :func:`~verify.analysis.regions.search_regions`, the second
used alone by the reports (machine-independent); ``quadrature_boxes``, when given,
replaces the box budget of a component enclosed by box quadrature (slower per box by
orders of magnitude); ``enough`` (boxes, share) lets a closed-form search end once that
many boxes are examined and at most that share is undecided (the reports' rule);
``costs`` (evaluations of r per estimate of first and second) compare
``c_first Var[first] - c_second Var[second]`` instead, the efficiency regions.  Both
``verify regions`` and the reports call it.

For a cost in explicit coordinates z1..zd it searches over a common shift and scale of
all of them (``mu_i = mu``, ``sigma_i = sigma``), one search per component
``mu1``..``sigmad`` of score against pathwise; closed forms only (a component without
one is ``"uncertified"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sympy

from verify.analysis.regions import (
    RegionSearch,
    VarianceForm,
    closed_form_labeller,
    component_labeller,
    scaled,
    search_regions,
    variance_form,
)
from verify.cases.case import Case
from verify.cases.coordinates import component_names, mean_symbol, scale_symbol, split_component
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.box_enclosure import Box
from verify.exact.dimension import derive_case
from verify.exact.evaluation import exact_point, point_symbol
from verify.exact.explicit import derive_explicit

# Sides are split down to these fractions of the domain's: 2-D maps reach well under 1%
# undecided area, and a crossing along one name is enclosed to about 1e-7 of its range.
MIN_WIDTH_AREA = 2.0**-10
MIN_WIDTH_LINE = 2.0**-26
# A component's method: ball arithmetic on closed forms, box quadrature, or neither.
CLOSED_FORM, QUADRATURE, UNCERTIFIED = "closed-form", "quadrature", "uncertified"


# The names searched over, the fixed values among them, the box, the names' symbols.
SearchBox = tuple[tuple[str, ...], dict[str, float], Box, tuple[sympy.Symbol, ...]]


@dataclass(frozen=True)
class RegionsRow:
    """The proven regions of every component at one fixed assignment of the other names."""

    at: dict[str, float]
    names: tuple[str, ...]
    searches: dict[str, RegionSearch]
    methods: dict[str, str]

    @property
    def domain(self) -> dict[str, list[float]]:
        """Each name's interval; a fixed name's is [v, v]."""
        first = next(iter(self.searches.values()))
        return {n: [low, high] for n, (low, high) in zip(self.names, first.domain, strict=True)}


def region_row(
    case: Case,
    pair: tuple[str, str],
    fixed: Mapping[str, float],
    spans: Mapping[str, tuple[float, float]],
    min_width: float,
    budget: tuple[float, int | None],
    quadrature_boxes: int | None = None,
    enough: tuple[int, float] | None = None,
    costs: tuple[float, float] = (1.0, 1.0),
) -> RegionsRow:
    """The regions of both components, or of every component of an explicit-coordinate
    case (see the module docstring)."""
    box = _search_box(case, fixed, spans)
    if case.coordinates is not None:
        return _explicit_row(case, pair, box, min_width, budget, enough, costs)
    names, values, domain, variables = box
    exact = exact_point(values)
    derivation = derive_case(case)
    searches, methods = {}, {}
    for component in GRADIENT_PARAMETERS:
        labeller = component_labeller(derivation, pair, component, exact, variables, domain, costs)
        if labeller is None:
            # Nothing can be certified: the whole domain is one undecided box.
            methods[component] = UNCERTIFIED
            searches[component] = search_regions(lambda box: None, domain, 1.0, *budget)
            continue
        closed = all(variance_form(derivation, e, component) is not None for e in pair)
        methods[component] = CLOSED_FORM if closed else QUADRATURE
        seconds, boxes = budget
        if not closed and quadrature_boxes is not None:
            boxes = quadrature_boxes
        searches[component] = search_regions(
            labeller, domain, min_width, seconds, boxes, enough if closed else None
        )
    return RegionsRow(dict(values), names, searches, methods)


def _explicit_row(
    case: Case,
    pair: tuple[str, str],
    box: SearchBox,
    min_width: float,
    budget: tuple[float, int | None],
    enough: tuple[int, float] | None,
    costs: tuple[float, float],
) -> RegionsRow:
    """The regions of every component of an explicit-coordinate case over a common shift
    and scale (see the module docstring)."""
    assert case.coordinates is not None
    names, values, domain, variables = box
    indices = case.coordinates.indices
    # Every coordinate's mean and scale become the common mu and sigma.
    common = {
        **{mean_symbol(i): point_symbol("mu") for i in indices},
        **{scale_symbol(i): point_symbol("sigma") for i in indices},
        **exact_point({n: v for n, v in values.items() if n not in GRADIENT_PARAMETERS}),
    }
    derivation = derive_explicit(case.r, case.coordinates.count)
    searches, methods = {}, {}
    for component in component_names(case.coordinates.count):
        kind, index = split_component(component)
        forms = [variance_form(derivation.coordinate(index), e, kind) for e in pair]
        if forms[0] is None or forms[1] is None:
            methods[component] = UNCERTIFIED
            searches[component] = search_regions(lambda box: None, domain, 1.0, *budget)
            continue
        shared = tuple(
            scaled(_substituted(f, common), cost)
            for f, cost in zip((forms[0], forms[1]), costs, strict=True)
        )
        labeller = closed_form_labeller(pair, (shared[0], shared[1]), variables, domain)
        methods[component] = CLOSED_FORM
        searches[component] = search_regions(labeller, domain, min_width, *budget, enough)
    return RegionsRow(dict(values), names, searches, methods)


def _search_box(
    case: Case, fixed: Mapping[str, float], spans: Mapping[str, tuple[float, float]]
) -> SearchBox:
    """The names (mu, sigma, the parameters), the fixed values among them, the box (a fixed
    name an interval of width 0) and the symbols of the names."""
    names = (*GRADIENT_PARAMETERS, *case.parameter_names)
    values = {n: v for n, v in fixed.items() if n not in spans and n in names}
    intervals = {**{n: (v, v) for n, v in values.items()}, **spans}
    domain = tuple(intervals[n] for n in names)
    return names, values, domain, tuple(point_symbol(n) for n in names)


def _substituted(form: VarianceForm, values: Mapping[sympy.Symbol, sympy.Expr]) -> VarianceForm:
    """``form`` with ``values`` substituted exactly."""
    return VarianceForm(
        sympy.sympify(form.value).xreplace(values),
        tuple(sympy.sympify(b).xreplace(values) for b in form.divergence),
    )
