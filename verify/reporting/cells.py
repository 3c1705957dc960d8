"""Table cells of the reports: how an exact number or a JSON value is written in one.

The contract: :func:`short` writes an exact :class:`~verify.exact.numbers.Number` to
:data:`TABLE_DIGITS` significant digits, or ``inf`` / ``-inf`` / ``nan``; :func:`cell`
writes a value from a JSON record (a check, a claim, a parameterization document),
floats to ``digits`` significant digits and None as an empty cell.  Both are pure, so
the same value always gives the same bytes.

>>> cell(0.123456789), cell(2.0, 3), cell(None), cell(12)
('0.12345679', '2', '', '12')
"""

from __future__ import annotations

import mpmath

from verify.exact.numbers import Number

TABLE_DIGITS = 10


def short(number: Number) -> str:
    """A table cell: 10 significant digits, or inf / -inf / nan."""
    value = number.as_json()
    return value if isinstance(value, str) else str(mpmath.nstr(number.value, TABLE_DIGITS))


def cell(value: object, digits: int = 8) -> str:
    """A JSON value (a check record's float, int or string) as a table cell; None is empty."""
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return "" if value is None else str(value)


def lower_cell(score: Number, pathwise: Number) -> str:
    """Which of the score and pathwise variances is lower: a table cell.

    "equal" when they are the same number, "undefined" when either is nan.
    """
    if score.as_json() == pathwise.as_json():
        return "equal"
    if mpmath.isnan(score.value) or mpmath.isnan(pathwise.value):
        return "undefined"
    return "pathwise" if pathwise.value < score.value else "score"
