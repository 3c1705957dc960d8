"""The samplers' compiled kernels: vectorised for every function of the grammar, and exact.

"Vectorised" is checked on the generated code itself: every function it calls is a
numpy/scipy ufunc with a float64 loop (or one of a few whole-array numpy helpers), so
no Python-level call per sample remains; the check is shown to reject the old
``np.frompyfunc(math.erf)``.  Values are compared with ``math`` at a few ulps.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy

from verify.cases.grammar import ALLOWED_FUNCTIONS, FUNCTION_ARITY
from verify.cases.symbols import Z
from verify.montecarlo.kernels import compiled, fused_function, numpy_function

# Whole-array helpers the NumPy printer uses (Min/Max reduce a ufunc over the arguments).
ARRAY_HELPERS = {functools.reduce, np.select, np.where}
VALUES = np.linspace(-4.0, 4.0, 801)


def per_sample_calls(function: Callable[..., Any]) -> list[str]:
    """The names the generated code calls that are not float64 ufuncs or array helpers."""
    offending = []
    for name in function.__code__.co_names:
        target = function.__globals__.get(name)
        if not callable(target) or target in ARRAY_HELPERS:
            continue
        loops = getattr(target, "types", [])
        if not (isinstance(target, np.ufunc) and any("d" in loop.split("->")[0] for loop in loops)):
            offending.append(name)
    return offending


def grammar_cost(name: str) -> sympy.Expr:
    """A cost calling the grammar function ``name`` with its fewest arguments."""
    fewest = FUNCTION_ARITY[name][0]
    arguments = [2 * Z - 1, Z / 3][:fewest] if fewest > 1 else [2 * Z - 1]
    return ALLOWED_FUNCTIONS[name](*arguments)


@pytest.mark.parametrize("name", sorted(ALLOWED_FUNCTIONS))
def test_every_grammar_function_and_its_derivative_compile_to_ufuncs(name: str) -> None:
    cost = grammar_cost(name)
    derivative = sympy.diff(cost, Z).replace(sympy.DiracDelta, lambda *_: sympy.Integer(0))
    function = compiled([cost, derivative], [Z])
    assert per_sample_calls(function) == [], sympy.srepr(cost)
    values, slopes = fused_function((cost, derivative), (Z,))(VALUES)
    assert values.shape == slopes.shape == VALUES.shape
    assert values.dtype == slopes.dtype == np.float64


def test_the_check_rejects_a_python_call_per_sample() -> None:
    scalar_erf = np.frompyfunc(math.erf, 1, 1)
    old = sympy.lambdify(Z, sympy.erf(Z), modules=[{"erf": scalar_erf}, "numpy"])
    assert per_sample_calls(old) == ["erf"]


@pytest.mark.parametrize(
    ("function", "reference"), [(sympy.erf, math.erf), (sympy.erfc, math.erfc)]
)
def test_error_functions_agree_with_math(
    function: Callable[[sympy.Expr], sympy.Expr], reference: Callable[[float], float]
) -> None:
    ours = numpy_function(function(Z), Z)(VALUES)
    expected = np.array([reference(float(v)) for v in VALUES])
    # Neither side is correctly rounded; erfc's far tail differs by a few ulps.
    np.testing.assert_allclose(ours, expected, rtol=1e-13, atol=1e-300)


def test_fused_values_equal_separate_ones() -> None:
    """Common subexpressions are computed once: the same values up to reordered rounding."""
    cost = sympy.cos(3 * Z + 1) * sympy.exp(-(Z**2) / 2)
    derivative = sympy.diff(cost, Z)
    fused = fused_function((cost, derivative), (Z,))(VALUES)
    separate = [numpy_function(e, Z)(VALUES) for e in (cost, derivative)]
    for got, want in zip(fused, separate, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


def test_constants_are_bound_at_call_time_and_fill_the_shape() -> None:
    offset = sympy.Dummy("b")
    (values,) = fused_function((Z * 0 + offset,), (Z,), {offset: 0.1})(VALUES)
    assert values.shape == VALUES.shape
    assert np.all(values == 0.1)
