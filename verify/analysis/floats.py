"""float64 evaluation of Gaussian moments on numpy grids, each with a rounding-error scale.

The contract: :func:`moment_on_grid` returns, for a moment given by its closed form
(or, without one, by its integrand in ``eps``), two float64 arrays of the grids' shape:
the value, and a *magnitude* that bounds how large the rounding error can be, in units
of the float64 epsilon.  For a closed form the magnitude is the same formula with every
sum replaced by the sum of its terms' absolute values, so cancellation such as
``1 + erf(x)`` far in a tail (where the value is ~0 but the magnitude ~2) is visible;
for quadrature it is the rule applied to ``|integrand|``.  Callers distrust a value that
is small against its magnitude and recompute it with mpmath.

Quadrature uses a fixed composite Gauss-Legendre rule on ``|eps| <= 14``: quick, blind
to divergent tails, good to ~1e-10 for smooth integrands and ~1e-5 across a kink.
These numbers steer scans and colour maps; they are never reported.

>>> import sympy
>>> from verify.cases.symbols import MU
>>> value, magnitude = moment_on_grid(1 + sympy.erf(MU), MU, (MU,), [np.array([-7.0])])
>>> float(value[0]), float(magnitude[0])
(0.0, 2.0)
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

import numpy as np
import sympy

from verify.cases.symbols import EPS
from verify.montecarlo.kernels import special_functions

FloatArray = np.ndarray

_PANELS, _PANEL_NODES, _REACH = 56, 20, 14.0
# Far out, formulas such as exp(-x)/(1 + exp(-x))**2 overflow to inf/inf = nan where the
# true value is ~0; where the density is below this, a nan counts as 0.
_FAR_WEIGHT = 1e-8


def moment_on_grid(
    closed: sympy.Expr | None,
    integrand: sympy.Expr,
    symbols: tuple[sympy.Symbol, ...],
    grids: list[FloatArray],
) -> tuple[FloatArray, FloatArray]:
    """(value, magnitude) of E[integrand] on the grids, from ``closed`` when given.

    Computed once per moment and grid in a process (:data:`_MOMENTS`): a compound moment
    repeats its parts (``E[sigmoid]`` three times in one score variance of a sum over d
    coordinates), and the mu and sigma maps share them; the quadrature rule costs 1,120
    evaluations of the integrand per grid point.  Copies are returned.
    """
    key = (closed, integrand, symbols, _grid_key(grids))
    if key not in _MOMENTS:
        if len(_MOMENTS) >= _MOMENTS_KEPT:
            del _MOMENTS[next(iter(_MOMENTS))]  # the oldest: a case's maps come together
        _MOMENTS[key] = _moment_on_grid(closed, integrand, symbols, grids)
    value, magnitude = _MOMENTS[key]
    return value.copy(), magnitude.copy()


def _grid_key(grids: list[FloatArray]) -> tuple[tuple[int, ...], bytes]:
    """The grids' shape and a digest of their values (the key of a cached moment)."""
    digest = hashlib.blake2b(digest_size=16)
    for grid in grids:
        digest.update(np.ascontiguousarray(grid, dtype=float).tobytes())
    return grids[0].shape, digest.digest()


def _moment_on_grid(
    closed: sympy.Expr | None,
    integrand: sympy.Expr,
    symbols: tuple[sympy.Symbol, ...],
    grids: list[FloatArray],
) -> tuple[FloatArray, FloatArray]:
    """:func:`moment_on_grid`, computed."""
    shape = grids[0].shape
    with np.errstate(all="ignore"):
        if closed is not None:
            value = closed_form_on_grid(closed, symbols, grids)
            return value, closed_form_on_grid(magnitude_of(closed), symbols, grids)
        function = _compiled(integrand, (EPS, *symbols))
        nodes, weights = _RULE
        at_nodes = nodes.reshape((-1,) + (1,) * len(shape))
        values = np.broadcast_to(np.real(function(at_nodes, *grids)), (len(nodes), *shape))
        far = (weights < _FAR_WEIGHT).reshape(at_nodes.shape)
        values = np.where(np.isnan(values) & far, 0.0, values)
        total = np.tensordot(weights, values, axes=1)
        return np.asarray(total, dtype=float), np.tensordot(weights, np.abs(values), axes=1)


def closed_form_on_grid(
    expr: sympy.Expr, symbols: tuple[sympy.Symbol, ...], grids: list[FloatArray]
) -> FloatArray:
    """The real part of ``expr`` on the grids, as float64 of the grids' shape."""
    with np.errstate(all="ignore"):
        value = np.real(np.asarray(_compiled(expr, symbols)(*grids)))
    return np.broadcast_to(value, grids[0].shape).astype(float)


def magnitude_of(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with every sum replaced by the sum of absolute values (a cancellation scale).

    >>> from verify.cases.symbols import MU
    >>> magnitude_of(1 - MU**2)
    mu**2 + 1
    """
    if expr.is_Add:
        return sympy.Add(*(magnitude_of(term) for term in expr.args))
    if expr.is_Mul:
        return sympy.Mul(*(magnitude_of(factor) for factor in expr.args))
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        return magnitude_of(expr.base) ** expr.exp
    return sympy.Abs(expr)


def _compiled(expr: sympy.Expr, symbols: tuple[sympy.Symbol, ...]) -> Callable[..., FloatArray]:
    key = (expr, symbols)
    if key not in _COMPILED:
        # erf and erfc are scipy.special ufuncs (complex arguments included): no Python
        # call per grid point.  No docstring: it prints the whole expression (up to 1,000
        # nodes) only to cut it to one line, a fifth of the time of a map's lambdify.
        modules = [special_functions(), "numpy"]
        _COMPILED[key] = sympy.lambdify(symbols, expr, modules=modules, docstring_limit=0)
    return _COMPILED[key]


def _gauss_legendre_rule() -> tuple[FloatArray, FloatArray]:
    """Composite Gauss-Legendre nodes on [-14, 14], weights times the normal density.

    Beyond |eps| = 14 the density is below 1e-43; 56 panels of 20 nodes resolve features
    of width ~0.05 in eps (a sigmoid of slope 20).
    """
    nodes, weights = np.polynomial.legendre.leggauss(_PANEL_NODES)
    edges = np.linspace(-_REACH, _REACH, _PANELS + 1)
    middles, halves = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
    points = (middles[:, None] + halves[:, None] * nodes[None, :]).ravel()
    scaled = (halves[:, None] * weights[None, :]).ravel()
    return points, scaled * np.exp(-(points**2) / 2) / math.sqrt(2 * math.pi)


# A moment per (expression, grid): 2 x 1,476 floats each at the reports' 41 x 36 maps.
_MOMENTS_KEPT = 256
_MOMENTS: dict[tuple[object, ...], tuple[FloatArray, FloatArray]] = {}
_COMPILED: dict[tuple[sympy.Expr, tuple[sympy.Symbol, ...]], Callable[..., FloatArray]] = {}
_RULE = _gauss_legendre_rule()
