"""The case library in cases/: every file loads, the required costs are there, and each
case derives the way it should (closed form, or the few labelled quadrature cases).

These tests pin the library down: renaming a required case, changing its cost,
dropping its description or citation, or a regression that pushes a closed-form case
into quadrature makes one of them fail.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
import sympy

from verify.cases.case import Case
from verify.cases.case_files import discover_cases, load_case, load_cases
from verify.cases.expressions import parse_expression
from verify.cases.phi import PhiParameterization
from verify.cases.symbols import GRADIENT_PARAMETERS, Z, parameter_symbol
from verify.exact.derivation import derive
from verify.exact.evaluation import evaluate_variance, exact_point

CASES = Path(__file__).resolve().parent.parent / "cases"
PATHS = discover_cases(CASES)

# name -> r as it must be (compared as SymPy expressions, so spacing does not matter).
REQUIRED = {
    "quadratic": "(z - k)**2",
    "gaussian_bump": "exp(-k*z**2)",
    "cosine": "cos(k*z)",
    "exponential": "exp(a*z)",
    "linear": "a*z",
    "constant": "c",
    "linear_plus_quadratic": "z + z**2",
    "cubic": "z**3",
    "quartic": "z**4",
    "sigmoid": "sigmoid(k*z)",
    "softplus": "softplus(k*z)",
    "abs_kink": "Abs(z - c)",
    "relu": "Max(z - c, 0)",
    "step": "Heaviside(z - c)",
    "heavy_tail": "exp(a*z**2)",
    "sine": "sin(k*z)",
    # Activations and likelihood terms of real models (issue 21).
    "silu": "z*sigmoid(z)",
    "gelu": "z*(1 + erf(z/sqrt(2)))/2",
    "log_sigmoid": "-softplus(-k*z)",
    "elu": "Max(z, 0) + a*(exp(Min(z, 0)) - 1)",
    "softsign": "z/(1 + Abs(z))",
    "mish": "z*tanh(softplus(z))",
}
# The three costs of Mohamed, Rosca, Figurnov and Mnih (2020), Section 3, Figure 2.
MOHAMED_ET_AL = ("quadratic", "gaussian_bump", "cosine")
# Cases whose formulas need labelled quadrature somewhere (no closed form for r or r').
# ELU is not among them: its kink inside exp is split off (verify.exact.terms._lift_kink).
QUADRATURE_CASES = {
    "sigmoid", "softplus", "smooth_step", "dimension_sum_sigmoid", "dimension_product_sigmoid",
    "silu", "gelu", "log_sigmoid", "softsign", "mish",
}  # fmt: skip


def _case(name: str) -> Case:
    return load_case(CASES / f"{name}.toml")


def _expression(text: str, case: Case) -> sympy.Expr:
    names = {"z": Z} | {p: parameter_symbol(p) for p in case.parameter_names}
    return parse_expression(text, names)


def test_every_case_file_loads_and_names_are_unique() -> None:
    cases, errors = load_cases(PATHS)
    assert errors == []
    assert len(cases) == len(PATHS) >= 20


@pytest.mark.parametrize(("name", "r"), sorted(REQUIRED.items()))
def test_required_case_exists_with_its_cost(name: str, r: str) -> None:
    case = _case(name)
    assert sympy.simplify(case.r - _expression(r, case)) == 0


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_case_is_documented(path: Path) -> None:
    case = load_case(path)
    assert case.title.strip()
    assert case.title != case.name  # an explicit title, not the default
    assert len(case.description) > 200
    assert "**What to expect.**" in case.description
    assert "**Why it matters.**" in case.description
    assert case.source


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_case_parameters_and_domain_are_sensible(path: Path) -> None:
    case = load_case(path)
    combinations = math.prod(len(values) for values in case.parameters.values())
    assert combinations <= 6
    assert 0 < case.domain.sigma[0] < case.domain.sigma[1]
    # The parameters are exactly the free names of r (besides z, or z1..zd), the data of
    # a phi map and the name of a symbolic dimension.
    form = case.parameterization
    data = set(form.data) if isinstance(form, PhiParameterization) else set()
    data |= {case.dimension.parameter} if case.dimension is not None else set()
    samples = {Z} if case.coordinates is None else set(case.coordinates.sample_names().values())
    assert {s.name for s in case.r.free_symbols - samples} | data == set(case.parameter_names)
    if case.coordinates is not None:  # no map: the reference is per component
        means = [v for k, v in case.reference.items() if k.startswith("mu")]
        scales = [v for k, v in case.reference.items() if k.startswith("sigma")]
        assert len(means) == len(scales) == case.coordinates.count
        assert all(s > 0 for s in scales)
        return
    assert case.domain.mu[0] <= case.reference["mu"] <= case.domain.mu[1]
    assert case.domain.sigma[0] <= case.reference["sigma"] <= case.domain.sigma[1]


@pytest.mark.parametrize("name", MOHAMED_ET_AL)
def test_costs_of_mohamed_et_al_cite_the_paper(name: str) -> None:
    case = _case(name)
    assert case.source is not None
    for part in ("Mohamed", "Rosca", "Figurnov", "Mnih", "2020", "JMLR 21(132)", "Section 3"):
        assert part in case.source
    assert case.reference == {"mu": 1.0, "sigma": 1.0}


def _needs_quadrature(case: Case) -> bool:
    derivation = derive(case.r)
    formulas = [derivation.objective.value] + [
        derivation.variance_formula(estimator, parameter)
        for estimator in ("score", "pathwise")
        for parameter in GRADIENT_PARAMETERS
    ]
    return any(formula is None for formula in formulas)


def test_exactly_the_expected_cases_need_quadrature() -> None:
    cases, _ = load_cases(PATHS)
    assert {case.name for case in cases if _needs_quadrature(case)} == QUADRATURE_CASES


def test_smooth_step_is_exact_on_the_pathwise_side_only() -> None:
    derivation = derive(_case("smooth_step").r)
    for parameter in GRADIENT_PARAMETERS:
        assert derivation.variance_formula("pathwise", parameter) is not None
        assert derivation.variance_formula("score", parameter) is None


def test_heavy_tail_is_infinite_on_part_of_its_domain_only() -> None:
    case = _case("heavy_tail")
    derivation = derive(case.r)
    finite, infinite = set(), set()
    sigmas = (case.domain.sigma[0], case.reference["sigma"], case.domain.sigma[1])
    for a, sigma in itertools.product(case.parameters["a"], sigmas):
        point = exact_point({"mu": 0.5, "sigma": sigma, "a": a})
        value = evaluate_variance(derivation, "pathwise", "mu", point).value
        (infinite if value == math.inf else finite).add((a, sigma))
    # 2*a*sigma**2 >= 1/2 exactly where the variance diverges.
    assert infinite == {(a, s) for a, s in finite | infinite if 2 * a * s**2 >= 0.5}
    assert finite
    assert infinite


def test_step_is_flagged_discontinuous_and_kinks_are_not() -> None:
    assert derive(_case("step").r).is_discontinuous
    for name in ("abs_kink", "relu", "clip", "two_kinks"):
        assert not derive(_case(name).r).is_discontinuous
