"""The samplers' NumPy code writes small integer powers as products: same values, faster.

The oracle is SymPy's own lambdify with its default NumPy printer (libm ``pow``); the
two agree to a few ulps, since a product of n factors rounds n - 1 times.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import sympy

from verify.cases.symbols import EPS
from verify.montecarlo.kernels import compiled, numpy_function

EXPRESSIONS = [
    EPS**4,
    (EPS - 1) ** 3 * sympy.exp(-(EPS**2)),
    1 / (1 + EPS**2) ** 3,
    sympy.Max(EPS - 1, 0) ** 2 + sympy.erf(EPS) ** 3,
    sympy.sqrt(1 + EPS**2) * EPS**17,  # 17 is above the product limit: pow stays
]
VALUES = np.linspace(-3, 3, 601)


@pytest.mark.parametrize("expression", EXPRESSIONS, ids=str)
def test_products_agree_with_pow(expression: sympy.Expr) -> None:
    ours = numpy_function(expression, EPS)(VALUES)
    oracle = sympy.lambdify(EPS, expression, modules=["numpy", "math"])
    expected = np.array([float(oracle(v)) for v in VALUES])
    # 17 roundings at most, each within half an ulp: 1e-14 relative is generous.
    np.testing.assert_allclose(ours, expected, rtol=1e-14, atol=1e-300)


def test_small_powers_are_printed_as_products() -> None:
    """The printer change can be seen in the generated code (so this test can fail)."""
    source = inspect.getsource(compiled([(EPS + 1) ** 4], [EPS]))
    assert "**" not in source
    assert source.count("+ 1") == 1  # the compound base is computed once, then multiplied
    assert "**" in inspect.getsource(sympy.lambdify(EPS, (EPS + 1) ** 4))  # the default
