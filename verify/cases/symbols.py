"""The symbols every module shares, created once so that SymPy sees them as equal.

SymPy compares symbols by name *and* assumptions, so ``Symbol("sigma")`` and
``Symbol("sigma", positive=True)`` are different objects.  Every module takes its
symbols from here.

- ``z`` is the sample, ``z = mu + sigma * eps``;
- ``mu`` is the mean and ``sigma`` the standard deviation (positive, not log sigma);
- ``eps`` is the standard normal noise.

Case parameters are real symbols made by :func:`parameter_symbol`.

>>> parameter_symbol("k") == parameter_symbol("k")
True
"""

from __future__ import annotations

import sympy

Z = sympy.Symbol("z", real=True)
MU = sympy.Symbol("mu", real=True)
SIGMA = sympy.Symbol("sigma", positive=True)
EPS = sympy.Symbol("eps", real=True)

RESERVED_NAMES: frozenset[str] = frozenset({"z", "mu", "sigma", "eps"})

# The gradient components, in the order every output lists them.
GRADIENT_PARAMETERS: tuple[str, ...] = ("mu", "sigma")


def parameter_symbol(name: str) -> sympy.Symbol:
    """The real SymPy symbol of the case parameter called ``name``."""
    return sympy.Symbol(name, real=True)


def point_symbols(names: tuple[str, ...]) -> dict[str, sympy.Symbol]:
    """The symbols of ``mu``, ``sigma`` and the named parameters, by name."""
    symbols: dict[str, sympy.Symbol] = {"mu": MU, "sigma": SIGMA}
    symbols.update({name: parameter_symbol(name) for name in names})
    return symbols
