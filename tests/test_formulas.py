"""Readable forms: real, compact, and equal to the derived formula (a numeric oracle)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy

from verify.cases.case_files import load_case
from verify.cases.formulas import CANCEL_MAX_OPS, readable, real_form
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.dimension import derive_case

CASES = Path(__file__).resolve().parent.parent / "cases"
# Points well inside every case's domain; values of the case parameters near their lists.
POINTS = [
    {"mu": 0.7, "sigma": 0.9, "k": 1.3, "a": 0.1, "c": 0.4, "d": 3},
    {"mu": -0.4, "sigma": 1.6, "k": 0.6, "a": 0.05, "c": -0.8, "d": 5},
]


def formulas(name: str) -> list[sympy.Expr]:
    """The objective, gradient and both estimators' variances, as the derivation gives them."""
    derivation = derive_case(load_case(CASES / f"{name}.toml"))
    found = [derivation.objective.value]
    found += [derivation.gradient[p].value for p in GRADIENT_PARAMETERS]
    found += [
        derivation.variance_formula(estimator, p)
        for estimator in ("score", "pathwise")
        for p in GRADIENT_PARAMETERS
    ]
    return [f for f in found if f is not None]


def agree(first: sympy.Expr, second: sympy.Expr) -> bool:
    """Both formulas' values at :data:`POINTS` agree to 20 digits (evaluated at 40)."""
    for point in POINTS:
        values = []
        for formula in (first, second):
            # Exact rationals: float inputs would cap the agreement at 16 digits.
            at = {s: sympy.Rational(str(point[s.name])) for s in formula.free_symbols}
            values.append(complex(sympy.N(formula.subs(at), 40)))
        scale = max(1.0, *(abs(v) for v in values))
        if abs(values[0] - values[1]) > 1e-20 * scale:
            return False
    return True


@pytest.mark.parametrize("name", ["cosine", "two_kinks", "abs_kink", "dimension_product_cosine"])
def test_readable_forms_are_real_and_equal_the_derivation(name: str) -> None:
    for formula in formulas(name):
        form = readable(formula)
        assert not form.has(sympy.I, sympy.re, sympy.im), form
        assert agree(form, formula)


def test_the_oracle_catches_a_dropped_term() -> None:
    formula = formulas("cosine")[-1]  # the pathwise sigma variance: a sum of several terms
    form = readable(formula)
    assert isinstance(form, sympy.Add) or isinstance(sympy.expand(form), sympy.Add)
    dropped = sympy.expand(form).args[0]
    assert not agree(sympy.expand(form) - dropped, formula)


def test_a_symbolic_power_stays_one_power() -> None:
    # expand_complex splits cos(k mu)**d into re(...) + i im(...): the reason for real_form.
    d, k, mu = sympy.symbols("d k mu", real=True)
    cosine = (sympy.exp(sympy.I * k * mu) + sympy.exp(-sympy.I * k * mu)) / 2
    assert sympy.expand_complex(cosine**d).has(sympy.re)
    assert real_form(cosine**d) == sympy.cos(k * mu) ** d


def test_simplify_is_tried_only_on_small_formulas_and_the_shorter_form_kept() -> None:
    mu, sigma = sympy.symbols("mu sigma", positive=True)
    # simplify turns this into 1 (trigonometric identity); factor_terms cannot.
    assert readable(sympy.sin(mu) ** 2 + sympy.cos(mu) ** 2) == 1
    # A sum to a high power is left to factor_terms: the power survives unexpanded.
    high = (4 * sigma**2 + 1) ** 17 * (sympy.sin(mu) ** 2 + sympy.cos(mu) ** 2)
    assert readable(high).has((4 * sigma**2 + 1) ** 17)
    assert float(readable(high).subs({mu: 0.3, sigma: 0.2})) == pytest.approx(1.16**17, rel=1e-12)


def test_cancel_is_tried_up_to_its_size_and_kept_where_shortest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[sympy.Expr] = []
    original = sympy.cancel

    def counted(expr: sympy.Expr) -> sympy.Expr:
        calls.append(expr)
        return original(expr)

    monkeypatch.setattr(sympy, "cancel", counted)
    # odd_bump's dJ/dmu, 182 operations: one common denominator is its shortest form.
    gradient = real_form(formulas("odd_bump")[1])
    assert sympy.count_ops(gradient) <= CANCEL_MAX_OPS
    assert readable.__wrapped__(gradient) == sympy.factor_terms(original(gradient))
    assert len(calls) == 1
    # Above CANCEL_MAX_OPS operations cancel is not tried (measured: never the shortest).
    mu, sigma = sympy.symbols("mu sigma", positive=True)
    large = sum(sympy.exp(-i * mu) * sympy.cos(i * mu) / (sigma + i) for i in range(1, 40))
    assert sympy.count_ops(large) > CANCEL_MAX_OPS
    readable.__wrapped__(large)
    assert len(calls) == 1
