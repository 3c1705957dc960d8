"""The exact moments of one M-sample ``score_loo`` estimate, up to order six.

The contract: :func:`loo_mixed_moments` returns ``E[g_mu**p g_sigma**q]`` of one
estimate from M draws (:mod:`verify.exact.leave_one_out`) for every (p, q) a Monte
Carlo check needs -- ``p, q <= 4`` and ``p, q <= 2`` for the z-tests' standard errors
(the covariance's ``E[W**2]``), (6, 0) and (0, 6) for the sixth moments that size the
variance checks -- as exact combinations of single-sample expectations ``E[r**k eps**m]``, each
evaluated by the engine (closed form at 50 digits, or certified quadrature).

How.  With scores s = w_mu(eps), t = w_sigma(eps),

    g_mu = (A - B C / M) / (M - 1),   g_sigma = (A' - B C' / M) / (M - 1),

where A = sum_i r_i s_i, A' = sum_i r_i t_i, B = sum_i r_i, C = sum_i s_i and
C' = sum_i t_i are sums over the M independent samples of one vector
X = (r s, r t, r, s, t).  So ``E[g_mu**p g_sigma**q]`` expands by the binomial theorem
into mixed moments ``E[A**a A'**b B**c C**e C'**f]`` of a sum of M iid vectors, and
those are ``alpha!`` times the coefficients of ``phi(u)**M``, phi the moment generating
function of X (independent samples multiply their generating functions), truncated
to the degrees needed: at most K in r, P in s and Q in t (each grading adds under
multiplication, so truncation commutes with the product).  A moment of X is
``E[r**k s**i t**j]``, a polynomial in eps times r**k: the single-sample expectations.
No index pattern is enumerated, and M is any integer >= 2.  The arithmetic is ``arb``
ball arithmetic at :data:`~verify.exact.numbers.RADIUS_PRECISION` bits on the engine's
balls, so every moment carries a bound on its error (with which
:mod:`verify.montecarlo.loo_check` decides whether loosely computed single-sample
expectations size its checks well enough).

``tests/test_loo_moments.py`` checks the variance and covariance against the closed
forms of :mod:`verify.exact.leave_one_out` and the fourth moment against brute-force
enumeration over every index pattern for M = 2 and 3 with Gauss-Hermite quadrature.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache

import mpmath
import sympy
from flint import arb

from verify.cases.symbols import EPS
from verify.exact.balls import number_ball, working_precision
from verify.exact.baselines import score_weight
from verify.exact.compound import Quantity
from verify.exact.derivation import Derivation
from verify.exact.evaluation import ExactPoint, combined_method, evaluate_expectation
from verify.exact.gaussian import Method
from verify.exact.numbers import RADIUS_PRECISION, WORKING_DIGITS, Number

Exponents = tuple[int, int, int, int, int]  # powers of (r s, r t, r, s, t)
# (K, P, Q) truncations: the pure moments of each component up to 6, and p, q <= 2.
TRUNCATIONS = ((6, 6, 0), (6, 0, 6), (4, 2, 2))


def wanted_orders() -> list[tuple[int, int]]:
    """The (p, q) of ``E[g_mu**p g_sigma**q]`` the checks need (module docstring)."""
    orders = {(p, 0) for p in range(7)} | {(0, q) for q in range(7)}
    orders |= {(p, q) for p in range(3) for q in range(3)}
    return sorted(orders)


class SingleSample:
    """``E[r**k s**i t**j]`` at one point from the engine's ``E[r**k eps**m]``, memoised,
    as balls (an uncertified expectation is its value with an infinite radius)."""

    def __init__(self, source: Derivation, point: ExactPoint) -> None:
        self.source, self.point = source, point
        self.methods: list[Method] = []
        self._eps: dict[tuple[int, int], arb] = {}
        self._polynomials: dict[tuple[int, int, int], list[tuple[int, arb]]] = {}
        weights = [sympy.sympify(score_weight(p)).subs(point) for p in ("mu", "sigma")]
        self._weights = weights

    def moment(self, k: int, i: int, j: int, hermite: int = 0) -> arb:
        """``E[r**k s**i t**j He_hermite(eps)]``."""
        return sum(
            (coefficient * self._r_eps(k, m) for m, coefficient in self._polynomial(i, j, hermite)),
            arb(0),
        )

    def _polynomial(self, i: int, j: int, hermite: int) -> list[tuple[int, arb]]:
        """``s**i t**j He_hermite(eps)`` as (power of eps, coefficient) pairs, memoised."""
        if (i, j, hermite) not in self._polynomials:
            expanded = sympy.expand(
                self._weights[0] ** i * self._weights[1] ** j * sympy.hermite_prob(hermite, EPS)
            )
            terms = sympy.Poly(expanded, EPS).terms()
            self._polynomials[(i, j, hermite)] = [(m, number_ball(c).real) for (m,), c in terms]
        return self._polynomials[(i, j, hermite)]

    def _r_eps(self, k: int, m: int) -> arb:
        if (k, m) not in self._eps:
            if k == 0:  # E[eps**m]: (m - 1)!! for even m
                value = arb(0 if m % 2 else math.prod(range(m - 1, 0, -2)))
            else:
                number = evaluate_expectation(r_eps_quantity(self.source, k, m), self.point)
                self.methods.append(number.method)
                value = _as_ball(number)
            self._eps[(k, m)] = value
        return self._eps[(k, m)]


def _as_ball(number: Number) -> arb:
    """The number's ball; an uncertified value with an infinite radius, a non-finite one nan."""
    if not mpmath.isfinite(number.value):
        return arb("nan")
    if number.ball is not None:
        return number.ball
    return arb(mpmath.nstr(number.value, WORKING_DIGITS), "inf")


@lru_cache(maxsize=1024)
def r_eps_quantity(source: Derivation, k: int, m: int) -> Quantity:
    """E[r**k eps**m] as the engine's quantity, built once per cost (not per point)."""
    return source.product_expectation("r", k, EPS**m)


@lru_cache(maxsize=8)
def _monomials(bounds: tuple[int, int, int]) -> tuple[Exponents, ...]:
    """Every alpha within the truncation: r-degree <= K, s-degree <= P, t-degree <= Q."""
    top_r, top_s, top_t = bounds
    found = []
    for a1 in range(min(top_r, top_s) + 1):
        for a2 in range(min(top_r - a1, top_t) + 1):
            for a3 in range(top_r - a1 - a2 + 1):
                for a4 in range(top_s - a1 + 1):
                    for a5 in range(top_t - a2 + 1):
                        found.append((a1, a2, a3, a4, a5))
    return tuple(found)


Series = dict[Exponents, arb]
_ZERO = arb(0)


def _multiply(first: Series, second: Series, bounds: tuple[int, int, int]) -> Series:
    """The product truncated to the bounds (r-degree a1 + a2 + a3 <= K, s-degree a1 + a4
    <= P, t-degree a2 + a5 <= Q), its terms summed in the order of the double loop.  The
    room alpha leaves is computed once per alpha: a test per pair was most of the time."""
    product: Series = {}
    for alpha, x in first.items():
        a1, a2, a3, a4, a5 = alpha
        room_r, room_s, room_t = bounds[0] - a1 - a2 - a3, bounds[1] - a1 - a4, bounds[2] - a2 - a5
        for (b1, b2, b3, b4, b5), y in second.items():
            if b1 + b2 + b3 <= room_r and b1 + b4 <= room_s and b2 + b5 <= room_t:
                gamma: Exponents = (a1 + b1, a2 + b2, a3 + b3, a4 + b4, a5 + b5)
                product[gamma] = product.get(gamma, _ZERO) + x * y
    return product


def _power(series: Series, exponent: int, bounds: tuple[int, int, int]) -> Series:
    """``series**exponent`` truncated, by repeated squaring."""
    result: Series = {(0, 0, 0, 0, 0): arb(1)}
    base = series
    while exponent:
        if exponent & 1:
            result = _multiply(result, base, bounds)
        exponent >>= 1
        if exponent:
            base = _multiply(base, base, bounds)
    return result


def _factorial(alpha: Iterable[int]) -> int:
    return math.prod(math.factorial(a) for a in alpha)


def _sum_moments(single: SingleSample, samples: int, bounds: tuple[int, int, int]) -> Series:
    """``E[(sum_i X_i)**alpha]`` for every alpha within ``bounds``."""
    generating: Series = {}
    for alpha in _monomials(bounds):
        generating[alpha] = single.moment(*_degrees(alpha)) / _factorial(alpha)
    powered = _power(generating, samples, bounds)
    return {alpha: value * _factorial(alpha) for alpha, value in powered.items()}


def loo_mixed_moments(
    source: Derivation, point: ExactPoint, samples: int
) -> tuple[dict[tuple[int, int], Number], Method]:
    """``E[g_mu**p g_sigma**q]`` for :func:`wanted_orders`, and the parts' combined method."""
    single = SingleSample(source, point)
    sums: Series = {}
    with working_precision(RADIUS_PRECISION):
        for bounds in TRUNCATIONS:
            sums |= _sum_moments(single, samples, bounds)
        balls = {(p, q): _estimate_moment(sums, p, q, samples) for p, q in wanted_orders()}
    method = combined_method(*single.methods) if single.methods else "closed-form"
    return {order: Number.of(ball, method) for order, ball in balls.items()}, method


def _estimate_moment(sums: Series, p: int, q: int, m: int) -> arb:
    """``E[g_mu**p g_sigma**q (...)]`` from the moments ``sums`` of (A, A', B, C, C')
    (with whatever factor they carry), by the binomial theorem (module docstring)."""
    terms = [
        math.comb(p, a)
        * math.comb(q, b)
        * (arb(-1) / m) ** (a + b)
        * sums[(p - a, q - b, a + b, a, b)]
        for a in range(p + 1)
        for b in range(q + 1)
    ]
    return sum(terms, _ZERO) / arb(m - 1) ** (p + q)


HERMITE_BOUNDS = (2, 2, 2)  # g_mu**p, g_sigma**q with p, q <= 2


def loo_hermite_moments(
    source: Derivation, point: ExactPoint, samples: int, orders: int
) -> tuple[tuple[list[mpmath.mpf], list[mpmath.mpf]], ...] | None:
    """Per component, ``E[g**2 H_k]`` and ``E[g H_k]`` for k = 1..orders, with
    ``H_k = sum_i He_k(eps_i)`` over the M draws (the control variates of
    :mod:`verify.montecarlo.control_variates`); None where a part has no closed form.

    ``E[exp(u . sum X_i + v H)] = phi(u, v)**M``, so the coefficient of ``v`` is
    ``M phi(u, 0)**(M-1) psi(u)`` with ``psi(u) = E[He_k(eps) exp(u . X)]``: the moments
    of the sums times ``H_k`` are ``alpha!`` times its coefficients.
    """
    single = SingleSample(source, point)
    with working_precision(RADIUS_PRECISION):
        monomials = _monomials(HERMITE_BOUNDS)
        base = {alpha: single.moment(*_degrees(alpha)) / _factorial(alpha) for alpha in monomials}
        rest = _power(base, samples - 1, HERMITE_BOUNDS)
        results: tuple[tuple[list[mpmath.mpf], list[mpmath.mpf]], ...] = ([], []), ([], [])
        for k in range(1, orders + 1):
            tilt = {
                alpha: single.moment(*_degrees(alpha), hermite=k) / _factorial(alpha)
                for alpha in monomials
            }
            product = _multiply(rest, tilt, HERMITE_BOUNDS)
            sums = {a: samples * v * _factorial(a) for a, v in product.items()}
            for index, (squares, firsts) in enumerate(results):
                orders_of = [(2, 0), (1, 0)] if index == 0 else [(0, 2), (0, 1)]
                squares.append(_midpoint(_estimate_moment(sums, *orders_of[0], samples)))
                firsts.append(_midpoint(_estimate_moment(sums, *orders_of[1], samples)))
    if any(method != "closed-form" for method in single.methods):
        return None
    return results


def _midpoint(ball: arb) -> mpmath.mpf:
    """A ball's midpoint at the working digits."""
    return Number.of(ball, "closed-form").value


def _degrees(alpha: Exponents) -> tuple[int, int, int]:
    """The degrees in r, s and t of the monomial ``X**alpha``."""
    return alpha[0] + alpha[1] + alpha[2], alpha[0] + alpha[3], alpha[1] + alpha[4]
