"""Hypothesis profiles, chosen by the VERIFY_HYPOTHESIS_PROFILE environment variable.

- ``ci`` (the default, and ``nox -s tests``): few examples, derandomised, so that every
  run draws the same examples: a failure in CI is a bug, never a new draw;
- ``fast``: ``ci`` without derandomisation, for a developer hunting new examples
  (``VERIFY_HYPOTHESIS_PROFILE=fast``); a failure it finds is pinned with ``@example``;
- ``thorough``: many more examples, derandomised too.

Deadlines are off everywhere: the oracle is 30-digit quadrature, whose time varies
with the drawn point, and timing belongs in ``nox -s bench``, not in tests.

The ``sign_oracle`` fixture: the sign of a formula at a point, proven by ball arithmetic
(independently of the engine's own ball compiler) with high-precision mpmath as the
fallback, shared by the region tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import mpmath
import pytest
import sympy
from flint import acb, arb, fmpq
from hypothesis import HealthCheck, settings

from verify.exact.balls import working_precision

# Five drawn examples per property, plus every pinned @example: the suite's oracles are
# slow quadrature, and CI has ten minutes for everything (`thorough` draws a hundred).
settings.register_profile(
    "fast", max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", parent=settings.get_profile("fast"), derandomize=True, print_blob=True
)
settings.register_profile(
    "thorough",
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("VERIFY_HYPOTHESIS_PROFILE", "ci"))


Point = dict[sympy.Symbol, sympy.Rational]
SignOracle = Callable[[sympy.Expr, int], Callable[[Point], int]]
_PI = sympy.Dummy("pi")


def _ball_names(ball: type[arb] | type[acb]) -> dict[str, object]:
    """The mpmath names lambdify prints, as balls: independent of verify.exact.balls
    (which the region tests test), sharing only FLINT.  acb where a formula passes
    through I, arb elsewhere (Heaviside's comparisons need a real ball)."""
    return {
        "mpf": ball,
        "sqrt": lambda x: ball(x).sqrt(),
        "exp": lambda x: ball(x).exp(),
        "erf": lambda x: ball(x).erf(),
        "erfc": lambda x: ball(x).erfc(),
    }


def _sign_oracle(expr: sympy.Expr, digits: int) -> Callable[[Point], int]:
    """The sign of the real part of ``expr`` (in mu and sigma) at a point: proven by ball
    arithmetic where it can be, else from mpmath at ``digits`` digits.

    A ball that excludes 0 proves the sign; 128 bits do that almost everywhere, 4000
    bits where terms of size 1 cancel down to 1e-348 (relu's sigma difference at mu = -3,
    sigma = 0.1, where 50 to 200 digits of mpmath agree on the WRONG sign: erf(-28)
    rounds to -1).  A point no ball decides (a removable 0/0 gives NaN) falls back to
    mpmath at ``digits``, the cost every point used to have (~30x the balls at 1000).
    """
    symbols = sorted(expr.free_symbols - {_PI}, key=str)
    ball = acb if expr.has(sympy.I) else arb
    function = sympy.lambdify((*symbols, _PI), expr.xreplace({sympy.pi: _PI}), [_ball_names(ball)])
    fallback = sympy.lambdify(symbols, expr, modules="mpmath")

    def sign(point: Point) -> int:
        exact = [point[s] for s in symbols]
        balls = [ball(fmpq(int(v.p), int(v.q))) for v in exact]
        for bits in (128, 4000):
            with working_precision(bits):
                value = ball(function(*balls, ball.pi()))
            real = value.real if isinstance(value, acb) else value
            if real > 0 or real < 0:
                return 1 if real > 0 else -1
        with mpmath.workdps(digits):
            return int(mpmath.sign(mpmath.re(fallback(*(mpmath.mpf(v) for v in exact)))))

    return sign


@pytest.fixture(scope="session")
def sign_oracle() -> SignOracle:
    """:func:`_sign_oracle`: ``sign_oracle(expr, digits)(point)`` is -1, 0 or 1."""
    return _sign_oracle
