"""The records of a case's Monte Carlo run, :class:`Check` and :class:`CaseCheckResult`, as JSON.

The contract: a :class:`Check` is one statistic of one estimator at one point (a
component's mean or variance, or the covariance of both, whose ``parameter`` is
:data:`JOINT`), with its :class:`~verify.montecarlo.outcome.Outcome`, the threshold
and the sample size; a :class:`CaseCheckResult` holds a case's checks and claim
verdicts.  ``CaseCheckResult.failed`` is true when a check failed or a claim was
refuted; skipped checks (``passed`` None, with a reason) are not failures.  ``to_json``
gives the records that reports and the check command's JSON are made of, with
non-finite numbers as the strings "inf", "-inf", "nan" (:func:`json_float`).  Running
the checks is :mod:`verify.montecarlo.checks`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from verify.cases.points import Point
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.montecarlo.claims import ClaimResult
from verify.montecarlo.outcome import Outcome

JOINT = ",".join(GRADIENT_PARAMETERS)  # the "parameter" of a covariance check


def json_float(value: float | None, digits: int | None = None) -> float | str | None:
    """A JSON-safe number: rounded if asked; "inf", "-inf", "nan" as strings (not JSON).

    >>> json_float(2.5e400), json_float(-1.23456789, 3), json_float(None)
    ('inf', -1.235, None)
    """
    if value is None:
        return None
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value if digits is None else round(value, digits)


@dataclass(frozen=True)
class Check:
    """One statistic of one estimator (component, or both for the covariance) at one point."""

    at: Point
    estimator: str
    parameter: str  # "mu", "sigma", or "mu,sigma" for the covariance
    outcome: Outcome
    threshold: float
    samples: int

    def to_json(self) -> dict[str, object]:
        outcome = self.outcome
        exact = outcome.exact
        record: dict[str, object] = {
            "at": self.at,
            "estimator": self.estimator,
            "parameter": self.parameter,
            "statistic": outcome.statistic,
            "exact": None if exact is None else exact.as_json(),
            "monte_carlo": json_float(outcome.monte_carlo),
            "z": json_float(outcome.z, 6),
            "threshold": round(self.threshold, 6),
            "passed": outcome.passed,
            "method": "quadrature" if exact is None else exact.method,
            "samples": self.samples,
        }
        if outcome.bounds is not None:
            record["bounds"] = [json_float(b, 6) for b in outcome.bounds]
        if outcome.test is not None:
            record["test"] = outcome.test
        if outcome.blocks is not None:
            record["blocks"] = outcome.blocks
        if outcome.robust_reason is not None:
            record["robust_reason"] = outcome.robust_reason
        if outcome.power is not None:
            record["power"] = json_float(outcome.power)
        if outcome.control_variates is not None:
            record["control_variates"] = outcome.control_variates
        if outcome.reason is not None:
            record["reason"] = outcome.reason
        elif outcome.z is None:
            record["note"] = (
                "zero variance: compared exactly, up to float64 rounding "
                "(--perturb variance=f makes an exact 0 (f - 1) E[g^2], E[g^2] the larger of "
                "the estimator's components: verify.montecarlo.perturb)"
            )
        return record


@dataclass(frozen=True)
class CaseCheckResult:
    """The checks and claim verdicts of one case."""

    case: str
    checks: tuple[Check, ...]
    claims: tuple[ClaimResult, ...]

    @property
    def failed(self) -> bool:
        """A check failed or a claim was refuted (skipped checks are not failures)."""
        return any(c.outcome.passed is False for c in self.checks) or any(
            claim.verdict == "refuted" for claim in self.claims
        )

    def to_json(self) -> dict[str, object]:
        return {
            "case": self.case,
            "checks": [check.to_json() for check in self.checks],
            "claims": [claim.to_json() for claim in self.claims],
        }
