"""One check's verdict, :class:`Outcome`, shared by every kind of Monte Carlo check.

The contract: ``passed`` is True or False for a check that was made and None for a
skipped one, which then has a ``reason``; ``test`` names how it was made.
"""

from __future__ import annotations

from dataclasses import dataclass

from verify.exact.numbers import Number

# Constant statistics are compared with float64 rounding allowed for.
ROUNDING = 1e-12


@dataclass(frozen=True)
class Outcome:
    """One statistic's verdict: z, the accepted interval for z, and passed (None: skipped).

    ``exact`` is None where the exact value was not computed (a planned skip).
    """

    statistic: str
    exact: Number | None
    monte_carlo: float | None = None
    z: float | None = None
    bounds: tuple[float, float] | None = None
    passed: bool | None = None
    reason: str | None = None
    test: str | None = None  # "z", "median_of_means" or "exact"; None when skipped
    blocks: int | None = None  # median of means: the number of blocks
    robust_reason: str | None = None  # median of means: why the z-test was not trusted
    power: float | None = None  # variance checks: P(a 2% error is flagged), see sample_size
    control_variates: dict[str, object] | None = None  # variance checks that use them
