"""``check_estimator`` and ``assert_estimator``: test someone's gradient estimator against
the exact moments, with a designed false-alarm rate and a stated power.

The contract (the README's "Testing your own estimator" quotes it):

- **Input.**  ``sampler(n, seed)`` returns ``n`` single-sample gradient estimates as rows,
  one column per gradient component in ``verify evaluate``'s order
  (:mod:`verify.testing.targets`; numpy, JAX or torch, :mod:`verify.testing.samples`).
  ``estimator`` names what the rows claim to be (:mod:`verify.testing.estimators`), ``at``
  the point.
- **Checks.**  Per pair of columns ``(mu_i, sigma_i)``: each column's sample mean and
  variance and the pair's sample covariance, five checks, judged by exactly the code of
  ``verify check`` (:func:`verify.montecarlo.checks.run_streams`): z-scores with standard
  errors from the exact higher moments and a Cornish-Fisher correction from the exact
  skewness, median of means where the normal tail is not trusted, an exact comparison
  for a constant component, and a skip with a reason where a moment is infinite.
- **False alarms.**  A correct estimator fails a call with probability at most
  ``alpha`` (default 1e-6): the threshold of each check is Bonferroni's, ``alpha``
  divided by the checks of that call (5 per pair of columns), whatever their
  dependence.  Tests that call it k times have a family-wise rate of at most k alpha.
- **Power.**  ``samples=None`` plans N (:mod:`verify.testing.power`) so that a relative
  error of ``relative_error`` in any mean or variance is flagged with probability
  ``power``, up to ``max_samples``; ``.detectable`` says, per check, the smallest
  relative error flagged with that probability at the N used.
- **Result.**  :class:`EstimatorCheck`: ``.passed`` (no check failed, and at least one
  was made), ``.checks`` (``verify check --json``'s check records, each with its
  ``detectable``), ``.samples``, ``.detectable``.  :func:`assert_estimator` raises
  ``AssertionError`` whose message names, for each failed check, the statistic, the
  component, the exact value, the empirical one and the threshold.

Bad input (an unknown name, a bad formula, a point outside the case) raises
:class:`~verify.cases.case.CaseError` with a one-line message, as everywhere in the API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from verify.api.case import Case, CaseLike
from verify.api.check import check_settings
from verify.cases.case import CaseError
from verify.montecarlo.check_plan import CHECKS_PER_STREAM
from verify.montecarlo.check_records import Check
from verify.montecarlo.checks import run_streams
from verify.montecarlo.sample_size import MAX_SAMPLES
from verify.montecarlo.significance import per_check_alpha, threshold
from verify.testing.estimators import NOT_GIVEN, EstimatorLike, Formulas, display_name
from verify.testing.messages import failure_message
from verify.testing.power import Power, check_powers, detectable, planned_samples
from verify.testing.samples import Sampler, user_draw
from verify.testing.targets import Target, target

Record = dict[str, Any]


@dataclass(frozen=True)
class EstimatorCheck:
    """The verdict on one estimator at one point (module docstring)."""

    estimator: str
    case: str
    r: str
    at: Mapping[str, float]
    components: tuple[str, ...]
    checks: tuple[Record, ...]
    samples: int
    seed: int
    detectable: Mapping[str, float | None]  # "variance.mu" -> smallest relative error
    alpha: float
    threshold: float
    power: float

    @property
    def failures(self) -> tuple[Record, ...]:
        return tuple(check for check in self.checks if check["passed"] is False)

    @property
    def made(self) -> int:
        """How many checks were made (the rest were skipped, each with a reason)."""
        return sum(1 for check in self.checks if check["passed"] is not None)

    @property
    def passed(self) -> bool:
        """No check failed and at least one was made."""
        return not self.failures and self.made > 0

    def to_json(self) -> str:
        """The verdict as JSON: the checks in ``verify check --json``'s record shape."""
        return json.dumps(
            {
                "estimator": self.estimator,
                "case": self.case,
                "at": dict(self.at),
                "components": list(self.components),
                "passed": self.passed,
                "samples": self.samples,
                "seed": self.seed,
                "alpha": self.alpha,
                "per_check_alpha": per_check_alpha(len(self.checks), self.alpha),
                "threshold": round(self.threshold, 6),
                "power": self.power,
                "detectable": {k: _finite_or_text(v) for k, v in self.detectable.items()},
                "checks": list(self.checks),
            }
        )

    def summary(self) -> str:
        """One line: the verdict, N, and what each check detects at the planned power."""
        verdict = "passed" if self.passed else f"FAILED {len(self.failures)} of"
        sizes = ", ".join(
            f"{name} {value:.3g}" for name, value in self.detectable.items() if value is not None
        )
        return (
            f"{self.estimator}: {verdict} {self.made} checks with {self.samples:,} samples; "
            f"smallest relative errors detected with probability {self.power:g}: {sizes}"
        )

    def message(self) -> str:
        """Why it did not pass, one line per failed check (empty when it passed)."""
        return "" if self.passed else failure_message(self)


def _finite_or_text(value: float | None) -> float | str | None:
    return "inf" if value == float("inf") else value


def check_estimator(
    sampler: Sampler,
    case: CaseLike,
    *,
    estimator: EstimatorLike,
    at: Mapping[str, object],
    samples: int | None = None,
    seed: int = 0,
    alpha: float = 1e-6,
    power: float = 0.99,
    relative_error: float = 0.02,
    unbiased: bool = False,
    max_samples: int = MAX_SAMPLES,
) -> EstimatorCheck:
    """Check ``sampler``'s estimates against the exact moments (module docstring).

    ``unbiased=True`` claims each component's mean is the exact gradient, for an
    estimator that should be unbiased whatever ``verify`` derives for its name.
    """
    case = Case.of(case)
    _check_arguments(case, samples, seed, alpha, power, relative_error)
    found = target(case, estimator, at, unbiased)
    t = threshold(CHECKS_PER_STREAM * len(found.streams), alpha)
    exact = [stream.exact for stream in found.streams if stream.exact is not None]
    n = samples or planned_samples(exact, t, relative_error, power, max_samples)
    draw = user_draw(sampler, seed, found.components, found.columns)
    checks = run_streams(case.name, list(found.streams), n, seed, t, draw)
    records, sizes = _records(found, checks, n, t, power, estimator)
    return EstimatorCheck(
        display_name(estimator),
        case.name,
        str(case.r),
        found.at,
        found.components,
        tuple(records),
        n,
        seed,
        sizes,
        alpha,
        t,
        power,
    )


def assert_estimator(sampler: Sampler, case: CaseLike, **arguments: Any) -> EstimatorCheck:
    """:func:`check_estimator`, raising ``AssertionError`` with its message unless it passed."""
    result = check_estimator(sampler, case, **arguments)
    if not result.passed:
        raise AssertionError(result.message())
    return result


def _check_arguments(
    case: Case, samples: int | None, seed: int, alpha: float, power: float, error: float
) -> None:
    """CaseError naming the argument that is out of range."""
    ranges = {
        "alpha": (alpha, 0 < alpha < 1, "must be in (0, 1)"),
        "power": (power, 0 < power < 1, "must be in (0, 1)"),
        "relative_error": (error, 0 < error <= 0.99, "must be in (0, 0.99]"),
    }
    for name, (value, good, allowed) in ranges.items():
        if not good:
            raise CaseError(str(case.path), name, f"{value!r} {allowed}")
    try:
        check_settings(samples, seed)
    except ValueError as error_:
        field, _, message = str(error_).partition(": ")
        raise CaseError(str(case.path), field, message) from None


def _records(
    found: Target,
    checks: list[Check],
    samples: int,
    t: float,
    power: float,
    estimator: EstimatorLike,
) -> tuple[list[Record], dict[str, float | None]]:
    """The check records, each with its ``detectable`` (JSON: inf as "inf"), and the
    detectable errors by check; a Formulas estimator's skips and robust checks say
    which moment the user did not give."""
    records, sizes = [], {}
    powers: list[tuple[str, Any, Power | None]] = []
    for stream in found.streams:  # run_streams gives five checks per stream, in this order
        skipped = [("", None, None)] * CHECKS_PER_STREAM
        powers += skipped if stream.exact is None else check_powers(stream.exact, t)
    for check, (_, value, of) in zip(checks, powers, strict=True):
        record = check.to_json()
        made = record["passed"] is not None and record.get("test") != "exact"
        size = detectable(of, value, samples, power) if made and value else None
        record["detectable"] = _finite_or_text(size)
        sizes[f"{record['statistic']}.{record['parameter']}"] = size
        if isinstance(estimator, Formulas):
            _given_only(record, estimator)
        records.append(record)
    return records, sizes


def _given_only(record: Record, estimator: Formulas) -> None:
    """Reasons in terms of what the user's formulas did not give."""
    if record["statistic"] == "covariance":
        record["reason"] = NOT_GIVEN["covariance"]
    elif record["statistic"] == "variance" and estimator.fourth is None:
        record["reason"] = NOT_GIVEN["fourth"]
    elif record.get("test") == "median_of_means" and estimator.third is None:
        record["robust_reason"] = NOT_GIVEN["third"]
