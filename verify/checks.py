"""Every Monte Carlo check and claim of one case: :func:`check_case`, the library entry point.

The contract:

- **Points.**  The case's reference point for each combination of parameter values
  (at most :data:`~verify.points.MAX_COMBINATIONS`, evenly spread, deterministic), plus,
  when r and r' have closed-form moments (quadrature makes a point cost seconds), two
  interior points of the domain: (mu, sigma) at a quarter of each interval with the
  first combination, and at three quarters with the last.
- **Checks.**  At each point, for each estimator (score, pathwise) and each component
  (mu, sigma), one noise stream of ``samples`` draws is checked against the exact mean
  and the exact variance (two checks; see :mod:`verify.significance` for the statistics).
  The stream's seed is :func:`verify.montecarlo.stream_seed` of (seed, case name,
  point index, estimator index, component index), so results do not depend on which
  other cases run, or in what order.
- **Family.**  ``family_size`` is the number of checks in the whole run (the sum of
  :func:`count_checks` over its cases), over which the family-wise false-alarm rate is
  split; by default, this case's own count.
- **Claims.**  Settled exactly by :mod:`verify.claims`.

``CaseCheckResult.failed`` is true when a check failed or a claim was refuted;
skipped checks (``passed`` None, with a reason) are not failures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from verify.cases import Case
from verify.check_moments import ExactMoments, exact_moments
from verify.claims import ClaimResult, check_claims
from verify.derivation import derive
from verify.estimators import ESTIMATOR_NAMES
from verify.evaluation import exact_point
from verify.montecarlo import (
    DEFAULT_SAMPLES,
    DEFAULT_SEED,
    SampleFunction,
    estimator_function,
    sample_moments,
    stream_seed,
)
from verify.points import Point, parameter_combinations
from verify.significance import (
    FAMILY_WISE_ALPHA,
    STATISTICS,
    Outcome,
    judge,
    planned_skips,
    threshold,
)
from verify.symbols import GRADIENT_PARAMETERS
from verify.terms import NoClosedForm, expand_terms

__all__ = [
    "DEFAULT_SAMPLES",
    "DEFAULT_SEED",
    "FAMILY_WISE_ALPHA",
    "CaseCheckResult",
    "Check",
    "check_case",
    "check_points",
    "count_checks",
    "plan_streams",
    "run_stream",
]

INTERIOR_FRACTIONS = (0.25, 0.75)


def closed_form_expected(case: Case) -> bool:
    """Whether r and r' expand into Gaussian terms, so every moment has a closed form.

    Cheap on purpose (one expansion of r and of r', no moment is derived): a runner
    calls :func:`count_checks` for every case up front, outside any per-case time limit.
    """
    derivation = derive(case.r)
    try:
        for uses in ("r", "dr"):
            expand_terms(derivation.sample_function(uses))
    except NoClosedForm:
        return False
    return True


def check_points(case: Case) -> list[Point]:
    """The points of the module docstring, in order, without repeats."""
    combinations = parameter_combinations(case)
    found = [_ordered(case, case.reference | c) for c in combinations]
    if closed_form_expected(case):
        for fraction, combination in zip(
            INTERIOR_FRACTIONS, (combinations[0], combinations[-1]), strict=True
        ):
            location = {
                "mu": _inside(case.domain.mu, fraction),
                "sigma": _inside(case.domain.sigma, fraction),
            }
            found.append(_ordered(case, location | combination))
    unique: list[Point] = []
    for point in found:
        if point not in unique:
            unique.append(point)
    return unique


def _inside(interval: tuple[float, float], fraction: float) -> float:
    low, high = interval
    return round(low + (high - low) * fraction, 6)


def _ordered(case: Case, point: Point) -> Point:
    return {name: point[name] for name in ("mu", "sigma", *case.parameter_names)}


def count_checks(case: Case) -> int:
    """How many checks :func:`check_case` makes for ``case`` (for the run's family size)."""
    per_point = len(ESTIMATOR_NAMES) * len(GRADIENT_PARAMETERS) * len(STATISTICS)
    return len(check_points(case)) * per_point


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
    """One statistic of one estimator component at one point, with its verdict."""

    at: Point
    estimator: str
    parameter: str
    outcome: Outcome
    threshold: float
    samples: int

    def to_json(self) -> dict[str, object]:
        outcome = self.outcome
        record: dict[str, object] = {
            "at": self.at,
            "estimator": self.estimator,
            "parameter": self.parameter,
            "statistic": outcome.statistic,
            "exact": outcome.exact.as_json(),
            "monte_carlo": json_float(outcome.monte_carlo),
            "z": json_float(outcome.z, 6),
            "threshold": round(self.threshold, 6),
            "passed": outcome.passed,
            "method": outcome.exact.method,
            "samples": self.samples,
        }
        if outcome.bounds is not None:
            record["bounds"] = [json_float(b, 6) for b in outcome.bounds]
        if outcome.reason is not None:
            record["reason"] = outcome.reason
        elif outcome.z is None:
            record["note"] = "zero variance: compared exactly, up to float64 rounding"
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


@dataclass(frozen=True)
class Stream:
    """One estimator component at one point: its sampler and exact moments, ready to check."""

    at: Point
    estimator: str
    parameter: str
    key: tuple[int, int, int]  # (point, estimator, component) indices, for the seed
    function: SampleFunction
    exact: ExactMoments


def plan_streams(case: Case) -> list[Stream]:
    """Every stream of ``case``, with the exact moments computed (the expensive, exact part)."""
    derivation = derive(case.r)
    streams = []
    for point_index, at in enumerate(check_points(case)):
        point = exact_point(at)
        for estimator_index, estimator in enumerate(ESTIMATOR_NAMES):
            for parameter_index, parameter in enumerate(GRADIENT_PARAMETERS):
                function = estimator_function(derivation, estimator, parameter, point)
                exact = exact_moments(derivation, estimator, parameter, point, function)
                key = (point_index, estimator_index, parameter_index)
                streams.append(Stream(at, estimator, parameter, key, function, exact))
    return streams


def run_stream(case_name: str, stream: Stream, samples: int, seed: int, t: float) -> list[Check]:
    """The mean and variance checks of one stream: sample (unless both are skipped), judge."""
    sample = None
    if any(reason is None for reason in planned_skips(stream.exact, samples, t).values()):
        sample = sample_moments(stream.function, stream_seed(seed, case_name, *stream.key), samples)
    return [
        Check(stream.at, stream.estimator, stream.parameter, outcome, t, samples)
        for outcome in judge(stream.exact, sample, samples, t)
    ]


def check_case(
    case: Case,
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    family_size: int | None = None,
) -> CaseCheckResult:
    """Run every Monte Carlo check and settle every claim of ``case``."""
    t = threshold(count_checks(case) if family_size is None else family_size)
    checks = [
        check
        for stream in plan_streams(case)
        for check in run_stream(case.name, stream, samples, seed, t)
    ]
    claims = check_claims(case, derive(case.r))
    return CaseCheckResult(case.name, tuple(checks), claims)
