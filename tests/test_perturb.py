"""``--perturb`` reaches every variance check, an exact zero included.

A factor leaves 0 unchanged, so :func:`verify.montecarlo.perturb.perturbed` perturbs an
exact zero variance on the estimator's own scale (its module docstring); these tests
show the self-test then catches it, and that nothing else about a zero moves.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import mpmath

import verify
from verify.montecarlo.check_moments import ExactMoments
from verify.montecarlo.covariance_moments import ExactCovariance
from verify.montecarlo.perturb import perturbed

# (z - k)^2 at mu = k: the coupled measure-valued mu estimator is
# r(mu + s W) - r(mu - s W) = 4 (mu - k) s W = 0 identically.
DEGENERATE_CASE = """
title = "Quadratic at its minimum"
r = "(z - k)**2"
[parameters]
k = [1.0]
[domain]
mu = [-3.0, 3.0]
sigma = [0.1, 3.0]
[reference]
mu = 1.0
sigma = 1.0
"""


def _moments(mean: float, variance: float) -> ExactMoments:
    return ExactMoments(
        mpmath.mpf(mean), mpmath.mpf(variance), mpmath.mpf(0), mpmath.mpf(0), 0.0, "closed-form"
    )


def _pair(mu: ExactMoments, sigma: ExactMoments) -> ExactCovariance:
    return ExactCovariance(mpmath.mpf(0), mpmath.nan, 0.0, mu, sigma, "closed-form")


def test_an_exact_zero_variance_is_perturbed_on_the_estimators_scale() -> None:
    exact = _pair(_moments(0, 0), _moments(2, 4))  # E[g_sigma^2] = 4 + 2^2 = 8
    wrong = perturbed(exact, {"variance": 1.02})
    assert wrong.mu.variance == (mpmath.mpf(1.02) - 1) * 8  # the float factor, as given
    assert wrong.sigma.variance == 4 * mpmath.mpf(1.02)
    # Only the variance factor touches a zero: a mean factor leaves it exactly 0 ...
    assert perturbed(exact, {"mean": 1.02}).mu.variance == 0
    # ... and with no scale at all (both components identically 0) 0 stays 0.
    nothing = _pair(_moments(0, 0), _moments(0, 0))
    assert perturbed(nothing, {"variance": 1.02}).mu.variance == 0
    assert dataclasses.replace(exact) == exact  # the input is not modified


def _variance_checks(document: dict[str, Any]) -> list[dict[str, Any]]:
    (result,) = document["cases"]
    return [c for c in result["checks"] if c["statistic"] == "variance"]


def _zero_check(document: dict[str, Any]) -> dict[str, Any]:
    """The coupled measure-valued mu check at mu = k, the identically zero estimator."""
    (check,) = (
        c
        for c in _variance_checks(document)
        if c["estimator"] == "measure_valued_coupled"
        and c["parameter"] == "mu"
        and c["at"]["mu"] == 1.0
    )
    return check


def test_the_self_test_fails_the_exact_zero_variance_check(tmp_path: Path) -> None:
    case = tmp_path / "minimum.toml"
    case.write_text(DEGENERATE_CASE)
    right = _zero_check(verify.check(case).document)
    assert right["exact"] == 0.0
    assert right["passed"] is True  # compared exactly, and it holds
    wrong = verify.check(case, perturb={"variance": 1.02}).document
    assert _zero_check(wrong)["exact"] > 0
    assert _zero_check(wrong)["passed"] is False
    variances = _variance_checks(wrong)
    assert variances
    assert all(c["passed"] is False for c in variances)
