"""One reported number, :class:`Number`: its value, how it was obtained, and its certificate.

The contract: a :class:`Number`'s value is an mpmath number at :data:`WORKING_DIGITS`
digits, reported to :data:`REPORTED_DIGITS` (:meth:`Number.as_text`); its method is
``"closed-form"`` or ``"quadrature"``; and its ``ball``, where there is one, is an
``arb`` ball that provably contains the exact value, so :attr:`Number.radius` (which
also counts the rounding of the midpoint to the reported value, at
:data:`RADIUS_PRECISION` bits) is a rigorous error bound.  Exactly known values
(an infinity decided in rational arithmetic) have radius 0; uncertified ones, none.
Numbers are made by :mod:`verify.exact.evaluation`.

>>> from flint import arb
>>> Number.of(arb(1) / 3, "closed-form").as_text()
'0.333333333333333314829616256247'
>>> Number.exact(mpmath.inf, "closed-form").as_json(), Number(mpmath.nan, "quadrature").radius
('inf', None)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
from flint import arb

from verify.exact.balls import working_precision
from verify.exact.gaussian import Method
from verify.exact.quadrature import ball_to_mpf

WORKING_DIGITS = 50
REPORTED_DIGITS = 30
RADIUS_PRECISION = 512


@dataclass(frozen=True)
class Number:
    """One reported value, how it was obtained, and the ball that certifies it.

    ``ball`` is None where no rigorous enclosure exists (a divergence decided from the
    tails of an integrand that has no provable growth bound, or a number made
    outside :mod:`verify.exact.evaluation` without one).
    """

    value: mpmath.mpf
    method: Method
    ball: arb | None = field(default=None, compare=False)

    @staticmethod
    def of(ball: arb, method: Method) -> Number:
        """The number a ball certifies (its midpoint), exactly infinite balls included."""
        if ball.is_nan():
            return Number(mpmath.nan, method, None)
        value = ball_to_mpf(ball)
        with mpmath.workdps(WORKING_DIGITS):
            value = +value
        certified = ball if mpmath.isfinite(value) and ball.rad().is_finite() else None
        return Number(value, method, certified)

    @staticmethod
    def exact(value: mpmath.mpf, method: Method) -> Number:
        """A value known exactly (an infinity decided in rational arithmetic): radius 0."""
        ball = arb.nan() if mpmath.isnan(value) else arb(0)
        return Number(value, method, ball)

    @property
    def radius(self) -> float | None:
        """The rigorous bound on |exact - value| (0 for exact values; None: uncertified)."""
        if self.ball is None:
            return None
        if not mpmath.isfinite(self.value):
            return 0.0
        with working_precision(RADIUS_PRECISION):
            # The reported value is the midpoint rounded to WORKING_DIGITS: count that too.
            radius = self.ball.rad() + abs(self.ball.mid() - _exact_arb(self.value))
            return float(radius.mid() + radius.rad())

    def as_json(self) -> float | str:
        """A JSON number, or the strings "inf", "-inf", "nan" for non-finite values."""
        if mpmath.isnan(self.value):
            return "nan"
        if mpmath.isinf(self.value):
            return "inf" if self.value > 0 else "-inf"
        return float(self.value)

    def as_text(self) -> str:
        """The value to 30 significant digits (or inf / -inf / nan)."""
        json_value = self.as_json()
        if isinstance(json_value, str):
            return json_value
        return str(mpmath.nstr(self.value, REPORTED_DIGITS, strip_zeros=False))


def _exact_arb(value: mpmath.mpf) -> arb:
    """A finite mpmath binary float as an exact arb number."""
    sign, mantissa, exponent, _ = value._mpf_
    return arb((-int(mantissa) if sign else int(mantissa), int(exponent)))
