"""The text of a failed :func:`verify.testing.assert_estimator`.

The contract: one header line (estimator, cost, point, N, seed and the false-alarm
design), then one line per failed check naming the statistic, the component, the exact
value, the empirical one and the threshold the check used -- the acceptance interval
of its z-score, and for a z-test the normal quantile ``t`` before the skewness
correction -- and the skipped checks, so nothing unchecked looks checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

Record = dict[str, Any]


class Verdict(Protocol):
    """What the message reads of :class:`verify.testing.oracle.EstimatorCheck`."""

    @property
    def estimator(self) -> str: ...
    @property
    def r(self) -> str: ...
    @property
    def at(self) -> Mapping[str, float]: ...
    @property
    def checks(self) -> tuple[Record, ...]: ...
    @property
    def failures(self) -> tuple[Record, ...]: ...
    @property
    def made(self) -> int: ...
    @property
    def samples(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def alpha(self) -> float: ...


def failure_message(result: Verdict) -> str:
    """Why ``result`` did not pass (module docstring)."""
    at = ", ".join(f"{name}={value:g}" for name, value in result.at.items())
    failed = result.failures
    header = (
        f"verify.testing: estimator {result.estimator!r} for r = {result.r} at {at} "
        f"failed {len(failed)} of {result.made} checks made "
        f"(N = {result.samples:,} samples, seed {result.seed}; false-alarm rate "
        f"{result.alpha:g} per call, Bonferroni over {len(result.checks)} checks)"
    )
    if not failed:
        header += ": no check could be made"
    lines = [header, *(_failed_line(check) for check in failed)]
    lines += [_skipped_line(check) for check in result.checks if check["passed"] is None]
    return "\n".join(lines)


def _value(value: object) -> str:
    return f"{value:.10g}" if isinstance(value, float) else str(value)


def _failed_line(check: Record) -> str:
    what = f"  {check['statistic']} of {check['parameter']}"
    if check["monte_carlo"] is None:  # failed without sampling: impossible exact moments
        return f"{what}: exact {_value(check['exact'])}: {check.get('reason', '')}"
    values = f"exact {_value(check['exact'])}, empirical {_value(check['monte_carlo'])}"
    if check.get("test") == "exact":
        return f"{what}: {values}; a constant, compared up to float64 rounding"
    low, high = check["bounds"]
    where = f"z = {_value(check['z'])} outside [{_value(low)}, {_value(high)}]"
    if check.get("test") == "median_of_means":
        where += f" (median of {check['blocks']} block means)"
    else:
        where += f" (z-test, threshold |z| <= {check['threshold']:.4g} before skewness correction)"
    return f"{what}: {values}; {where}"


def _skipped_line(check: Record) -> str:
    return f"  skipped {check['statistic']} of {check['parameter']}: {check['reason']}"
