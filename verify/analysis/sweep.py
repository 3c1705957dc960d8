"""An estimator's variance compiled once and evaluated at many points (crossovers, maps).

The contract: :meth:`VarianceFunction.compile` fixes some of ``mu``, ``sigma`` and the
case parameters (as exact rationals, like :func:`verify.exact.evaluation.exact_point`) and
leaves the others ``free``.  Then

- :meth:`VarianceFunction.value` gives Var[g] at one point at a chosen precision: from
  the exact closed form where there is one (``+inf`` where the second moment's
  divergence condition ``re(b) >= 1/2`` holds), else from quadrature: a quick
  ``mpmath.quad`` split at the kinks for scanning, or with ``exact=True`` the labelled
  40-digit :func:`verify.exact.quadrature.quadrature_expectation` that reported numbers use;
- :meth:`VarianceFunction.values` gives float64 variances on numpy arrays, for scans and
  maps (see :mod:`verify.analysis.floats`): every point where float64 cannot be trusted
  (overflow, or cancellation leaving fewer than ~7 digits, judged against the moments'
  rounding-error scale) is recomputed with :meth:`value` at :data:`SCAN_DIGITS`.  These
  numbers are never reported: crossovers decide every sign near zero exactly.

A moment that combines several expectations (baselines; in a symbolic dimension, a
polynomial in d of one-coordinate expectations) with no closed form is evaluated part by
part, each by its own method, and then combined by its formula, in mpmath or on the grid
(the magnitude of a combination is its formula's :func:`~verify.analysis.floats.magnitude_of`
at the parts' magnitudes).

Non-finite variances follow :func:`verify.exact.evaluation.evaluate_variance`: ``+inf`` when
the second moment diverges.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import mpmath
import numpy as np
import sympy

from verify.analysis.floats import closed_form_on_grid, magnitude_of, moment_on_grid
from verify.cases.symbols import EPS, MU, SIGMA, parameter_symbol
from verify.exact.compound import Compound, Quantity
from verify.exact.derivation import Derivation
from verify.exact.evaluation import exact_point
from verify.exact.gaussian import Expectation, Method
from verify.exact.quadrature import breakpoints, quadrature_expectation

SCAN_DIGITS = 20
EXACT_DIGITS = 50
MAX_DIGITS = 400
# float64 keeps about 16 digits: a variance below 1e-9 of its rounding scale has lost
# more than 9 of them (to cancellation), so it is recomputed.
_CANCELLATION = 1e-9
_KINKS = (sympy.Abs, sympy.sign, sympy.Heaviside, sympy.Max, sympy.Min)

FloatArray = np.ndarray


def _remembered(function: Callable[[mpmath.mpf], mpmath.mpf]) -> Callable[[mpmath.mpf], mpmath.mpf]:
    """``function`` of one number, each value kept per working precision, argument and type.

    A map recomputes in mpmath the points where float64 loses the variance (the tails of
    a kink's ``erf``), both moments of both estimators, at two precisions: on relu's maps
    4,950 calls of ``erf`` took 3 s for 596 different arguments.  The value depends on
    the working precision (mpmath's context always rounds to nearest), which is in the
    key, and on the argument's type (an ``mpc`` with imaginary part 0 hashes like its
    ``mpf``, but its ``erf`` is an ``mpc``), which is too.
    """

    @lru_cache(maxsize=4096)
    def at(precision: int, kind: str, x: mpmath.mpf) -> mpmath.mpf:
        return function(x)

    def remembered(x: mpmath.mpf) -> mpmath.mpf:
        return at(mpmath.mp.prec, type(x).__name__, x)

    return remembered


# The special functions that closed forms evaluate in mpmath, remembered (see above).
_REMEMBERED = {name: _remembered(getattr(mpmath, name)) for name in ("erf", "erfc")}


def symbol_of(name: str) -> sympy.Symbol:
    """The symbol of ``mu``, ``sigma`` or a case parameter."""
    return {"mu": MU, "sigma": SIGMA}.get(name) or parameter_symbol(name)


@dataclass(frozen=True)
class _Moment:
    """E[g**p] with the fixed values substituted: a closed form, an integrand, or a
    ``formula`` in the ``placeholders`` of its ``parts`` (each one of these itself), as
    functions of the ``free`` symbols.

    Compiled for mpmath when first evaluated at a point (:attr:`compiled`): a map needs
    mpmath only where float64 cannot be trusted, and lambdify was half of a map's time.
    """

    closed: sympy.Expr | None
    divergence: tuple[sympy.Expr, ...]
    integrand: sympy.Expr
    free: tuple[sympy.Symbol, ...]
    parts: tuple[_Moment, ...] = ()
    placeholders: tuple[sympy.Symbol, ...] = ()
    formula: sympy.Expr | None = None

    @classmethod
    def build(
        cls,
        expectation: Quantity,
        fixed: Mapping[sympy.Symbol, sympy.Rational],
        free: tuple[sympy.Symbol, ...],
    ) -> _Moment:
        if isinstance(expectation, Compound) and expectation.value is None:
            return cls._combination(expectation, fixed, free)
        # A compound is only built here with a closed form, which needs no integrand.
        integrand = (
            expectation.integrand.subs(fixed)
            if isinstance(expectation, Expectation)
            else sympy.S.NaN
        )
        if expectation.value is None:
            return cls(None, (), integrand, free)
        closed = expectation.value.subs(fixed)
        divergence = tuple(b.subs(fixed) for b in expectation.divergence)
        return cls(closed, divergence, integrand, free)

    @classmethod
    def _combination(
        cls,
        compound: Compound,
        fixed: Mapping[sympy.Symbol, sympy.Rational],
        free: tuple[sympy.Symbol, ...],
    ) -> _Moment:
        placeholders = tuple(symbol for symbol, _ in compound.parts)
        parts = tuple(cls.build(part, fixed, free) for _, part in compound.parts)
        formula = compound.formula.subs(fixed)  # a free d stays a symbol
        return cls(None, (), sympy.S.NaN, free, parts, placeholders, formula)

    @cached_property
    def compiled(self) -> Callable[..., mpmath.mpc]:
        """The moment in mpmath: of (placeholders..., free...) for a formula, of
        (eps, free...) for an integrand (quick scans by quadrature), else of (free...)."""
        function: Callable[..., mpmath.mpc]
        if self.formula is not None:
            arguments = (*self.placeholders, *self.free)
            function = sympy.lambdify(arguments, self.formula, modules="mpmath")
        elif self.closed is None:
            function = sympy.lambdify((EPS, *self.free), self.integrand, modules="mpmath")
        else:
            function = sympy.lambdify(self.free, self.closed, modules=[_REMEMBERED, "mpmath"])
        return function

    @cached_property
    def compiled_divergence(self) -> tuple[Callable[..., mpmath.mpc], ...]:
        """The divergence conditions' ``b`` in mpmath, of (free...)."""
        return tuple(sympy.lambdify(self.free, b, modules="mpmath") for b in self.divergence)


@dataclass(frozen=True)
class VarianceFunction:
    """Var[g] of one estimator's ``parameter`` component as a function of the ``free`` names."""

    estimator: str
    parameter: str
    free: tuple[str, ...]
    symbols: tuple[sympy.Symbol, ...]
    first: _Moment
    second: _Moment

    @classmethod
    def compile(
        cls,
        derivation: Derivation,
        estimator: str,
        parameter: str,
        fixed: Mapping[str, float],
        free: Sequence[str],
    ) -> VarianceFunction:
        """The variance with ``fixed`` substituted exactly and ``free`` left as arguments."""
        point = exact_point(fixed)
        symbols = tuple(symbol_of(name) for name in free)
        moments = [
            _Moment.build(derivation.raw_moment(estimator, parameter, order), point, symbols)
            for order in (1, 2)
        ]
        return cls(estimator, parameter, tuple(free), symbols, moments[0], moments[1])

    @property
    def method(self) -> Method:
        """Closed-form when both moments have closed forms, else quadrature."""
        closed = self.first.closed is not None and self.second.closed is not None
        return "closed-form" if closed else "quadrature"

    @cached_property
    def identically_zero(self) -> bool:
        """Whether E[g**2] is the closed form 0: then g = 0 almost surely, and so is the
        variance, everywhere (a constant cost's pathwise estimator).  Without this, every
        point of a scan would confirm its zero at :data:`MAX_DIGITS`."""
        return self.second.closed is not None and self.second.closed.is_zero is True

    def value(
        self, args: Sequence[mpmath.mpf | float], digits: int = SCAN_DIGITS, exact: bool = False
    ) -> mpmath.mpf:
        """Var[g] at ``args`` (values of the free names, in order), to ``digits // 2`` digits.

        A closed form is evaluated at ``digits`` and at twice as many (then more, up to
        :data:`MAX_DIGITS`) until two evaluations agree, so that cancellation inside a
        formula (``1 + erf(x)`` far out, or ``E[g**2] - E[g]**2``) cannot pass unnoticed;
        a zero is confirmed at :data:`MAX_DIGITS`.  Quadrature is evaluated once.
        """
        if self.identically_zero:
            return mpmath.mpf(0)
        previous = self._variance(args, digits, exact)
        precision = digits
        while self.method == "closed-form" and precision < MAX_DIGITS:
            precision = MAX_DIGITS if previous == 0 else min(2 * precision, MAX_DIGITS)
            current = self._variance(args, precision, exact)
            agree = _agree(previous, current, digits // 2)
            previous = current
            if agree:
                break
        with mpmath.workdps(digits):
            return +previous

    def _variance(self, args: Sequence[mpmath.mpf | float], digits: int, exact: bool) -> mpmath.mpf:
        """E[g**2] - E[g]**2 evaluated once at ``digits`` (clamped at 0, +inf if divergent)."""
        with mpmath.workdps(digits):
            values = [mpmath.mpf(a) for a in args]
            second = self._moment(self.second, values, exact)
            if mpmath.isinf(second) or mpmath.isnan(second):
                return mpmath.inf if second > 0 else mpmath.nan
            variance = second - self._moment(self.first, values, exact) ** 2
            return max(variance, mpmath.mpf(0))

    def values(self, arrays: Sequence[FloatArray]) -> FloatArray:
        """float64 variances at the points ``zip(*arrays)`` (arrays of one shape)."""
        grids = list(np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in arrays)))
        if self.identically_zero:
            return np.zeros(grids[0].shape)
        first, first_scale = self._on_grid(self.first, grids)
        second, second_scale = self._on_grid(self.second, grids)
        with np.errstate(all="ignore"):
            variance = np.maximum(second - first**2, 0.0)
            # How large rounding errors can be: cancellation inside either moment, then
            # in E[g**2] - E[g]**2.  A variance of zero is never trusted.
            scale = second_scale + 2 * np.abs(first) * first_scale
            untrusted = ~np.isfinite(variance) | (variance <= _CANCELLATION * scale)
        divergent = self._divergent_on_grid(self.second, grids)
        variance = np.where(divergent, np.inf, variance)
        # Where float64 cannot be trusted, mpmath decides, one point at a time.
        for index in zip(*np.nonzero(untrusted & ~divergent), strict=True):
            variance[index] = float(self.value([float(g[index]) for g in grids]))
        return variance

    def _divergent_on_grid(self, moment: _Moment, grids: list[FloatArray]) -> FloatArray:
        """Where a divergence condition ``re(b) >= 1/2`` of the moment holds."""
        divergent = np.zeros(grids[0].shape, dtype=bool)
        with np.errstate(all="ignore"):
            for b in moment.divergence:
                divergent |= closed_form_on_grid(b, self.symbols, grids) >= 0.5
        return divergent

    def _on_grid(self, moment: _Moment, grids: list[FloatArray]) -> tuple[FloatArray, FloatArray]:
        if moment.formula is None:
            return moment_on_grid(moment.closed, moment.integrand, self.symbols, grids)
        values, magnitudes = [], []
        for part in moment.parts:
            value, magnitude = self._on_grid(part, grids)
            values.append(np.where(self._divergent_on_grid(part, grids), np.inf, value))
            magnitudes.append(magnitude)
        names = (*moment.placeholders, *self.symbols)
        return (
            closed_form_on_grid(moment.formula, names, [*values, *grids]),
            closed_form_on_grid(magnitude_of(moment.formula), names, [*magnitudes, *grids]),
        )

    def _moment(self, moment: _Moment, values: list[mpmath.mpf], exact: bool) -> mpmath.mpf:
        if moment.formula is not None:
            parts = [self._moment(part, values, exact) for part in moment.parts]
            return +mpmath.re(moment.compiled(*parts, *values))
        if moment.closed is not None:
            half = mpmath.mpf(1) / 2
            if any(mpmath.re(b(*values)) >= half for b in moment.compiled_divergence):
                return mpmath.inf
            return +mpmath.re(moment.compiled(*values))
        if exact:
            digits = mpmath.mp.dps
            # Only the integrand's own symbols: a part of a moment in d does not depend on
            # d, and its cached value then serves every d.
            point = {
                s: sympy.Float(v, digits)
                for s, v in zip(self.symbols, values, strict=True)
                if s in moment.integrand.free_symbols
            }
            return quadrature_expectation(moment.integrand, point)
        return _quick_quadrature(moment, self.symbols, values)


def _agree(first: mpmath.mpf, second: mpmath.mpf, digits: int) -> bool:
    """Whether two evaluations agree to ``digits`` significant digits (or are the same inf)."""
    if not (mpmath.isfinite(first) and mpmath.isfinite(second)):
        return bool(first == second or (mpmath.isnan(first) and mpmath.isnan(second)))
    return bool(abs(first - second) <= mpmath.mpf(10) ** -digits * max(abs(first), abs(second)))


def _quick_quadrature(
    moment: _Moment, symbols: tuple[sympy.Symbol, ...], values: list[mpmath.mpf]
) -> mpmath.mpf:
    """E[integrand] by mpmath.quad at the current precision, split at the kinks."""
    nodes: list[mpmath.mpf] = []
    if moment.integrand.has(*_KINKS):
        # The kinks move with the free values, so they are found at each point.
        kinks = breakpoints(moment.integrand.subs(dict(zip(symbols, values, strict=True))))
        nodes = [mpmath.mpf(str(sympy.N(x, mpmath.mp.dps))) for x in kinks]

    def weighted(x: mpmath.mpf) -> mpmath.mpf:
        return mpmath.re(moment.compiled(x, *values)) * mpmath.npdf(x)

    for direction in (-1, 1):  # the same tail test as verify.exact.quadrature
        near, far = weighted(30 * direction), weighted(60 * direction)
        if abs(far) > abs(near) and far != 0:
            return mpmath.inf if far > 0 else mpmath.nan
    return +mpmath.quad(weighted, [-mpmath.inf, *nodes, mpmath.inf])
