"""The "Monte Carlo verification" section of a case's report: the checks and the claims.

The contract: :func:`verification_section` is a pure function of a
report's check records and settings (a :class:`~verify.reporting.gather.CaseReport` or an
explicit-dimension report): one table row per Monte Carlo check of
the run (at, estimator, component, statistic, exact value, Monte Carlo value, z,
threshold, N, power, result; skipped checks with their reason), then one line per
claim of the case file with its verdict and any counterexample.  The numbers are the
check records' JSON values, written by :func:`verify.reporting.cells.cell`; the rest of
the report is :mod:`verify.reporting.markdown`'s.
"""

from __future__ import annotations

from typing import Any, Protocol

from verify.reporting.cells import cell
from verify.reporting.gather import ReportSettings


class Verified(Protocol):
    """What the section reads of a report: the checks' JSON and the run's settings."""

    @property
    def checks(self) -> dict[str, Any]: ...

    @property
    def settings(self) -> ReportSettings: ...


def verification_section(report: Verified) -> str:
    """The "Monte Carlo verification" section: every check, then every claim's verdict."""
    checks: list[dict[str, Any]] = report.checks.get("checks", [])
    claims: list[dict[str, Any]] = report.checks.get("claims", [])
    passed = sum(1 for c in checks if c.get("passed") is True)
    failed = sum(1 for c in checks if c.get("passed") is False)
    skipped = sum(1 for c in checks if c.get("passed") is None)
    settings = report.settings
    lines = [
        "## Monte Carlo verification",
        "",
        f"{len(checks)} checks ({_sample_sizes(settings.samples)}, seed {settings.seed}): "
        f"{passed} passed, {failed} failed, {skipped} skipped. Thresholds split a family-wise "
        f"false-alarm rate of 1e-6 over all {settings.family_size} checks of the run; "
        "standard errors come from the exact second and fourth moments. Statistics too "
        "skewed for the normal approximation are checked by median of means with the exact "
        "variance of the statistic (distribution-free); the power column is the probability "
        "that a variance check flags a 2% error in its formula.",
        "",
        "| at | estimator | component | statistic | exact | Monte Carlo | z | threshold | N "
        "| power | result |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for check in checks:
        at = ", ".join(f"{k}={v:g}" for k, v in check["at"].items())
        result = {True: "passed", False: "**FAILED**", None: f"skipped: {check.get('reason')}"}
        lines.append(
            f"| {at} | {check['estimator']} | {check['parameter']} | {check['statistic']} | "
            f"{cell(check.get('exact'))} | {cell(check.get('monte_carlo'))} | "
            f"{cell(check.get('z'), 3)} | {cell(check.get('threshold'), 3)} | "
            f"{check.get('samples', '')} | {cell(check.get('power'), 3)} | "
            f"{result[check.get('passed')]}{_test(check)} |"
        )
    lines += ["", "### Claims", ""]
    if not claims:
        lines.append("The case file states no claims.")
    for claim in claims:
        lines.append(f"- claim {claim['index']}: **{claim['verdict']}**" + _counterexample(claim))
    return "\n".join(lines)


def _sample_sizes(samples: int | None) -> str:
    if samples is None:
        return "each stream's sample size N planned from its exact moments"
    return f"{samples:,} samples each"


def _test(check: dict[str, Any]) -> str:
    if check.get("test") == "median_of_means" and check.get("passed") is not None:
        return f" (median of means, {check.get('blocks')} blocks)"
    return ""


def _counterexample(claim: dict[str, Any]) -> str:
    example = claim.get("counterexample")
    if not example:
        return ""
    at = ", ".join(f"{k}={v:g}" for k, v in example["at"].items())
    variances = ", ".join(f"{k} {cell(v)}" for k, v in example["variance"].items())
    return f" (counterexample at {at}: variances {variances})"
