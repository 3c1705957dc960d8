"""Monte Carlo of score_loo at M = 2, 4 and 16, and the perturbed formula (M -> M + 1) fails."""

from __future__ import annotations

import pytest
import sympy

from verify.cases.symbols import GRADIENT_PARAMETERS, Z
from verify.exact.derivation import derive
from verify.exact.evaluation import ExactPoint, evaluate_expectation, exact_point
from verify.exact.leave_one_out import at_samples, covariance, with_score_loo
from verify.exact.results import evaluate_point
from verify.montecarlo.leave_one_out import LooOutcome, check_loo, loo_estimates

R = sympy.cos(Z)
POINT = {"mu": 0.5, "sigma": 1.0}
ESTIMATES = 2**18


def _exact(point: ExactPoint, samples: int) -> tuple[dict[str, float], dict[str, float], float]:
    derivation = derive(R)
    result = with_score_loo(
        evaluate_point(derivation, point, ("score",)), derivation, point, samples
    )
    means = {p: float(result.means["score_loo"][p].value) for p in GRADIENT_PARAMETERS}
    variances = {p: float(result.variances["score_loo"][p].value) for p in GRADIENT_PARAMETERS}
    return means, variances, float(result.covariances["score_loo"].value)


def _variances_at(point: ExactPoint, samples: int) -> tuple[dict[str, float], float]:
    derivation = derive(R)

    def at(first: str, second: str) -> float:
        compound = at_samples(covariance(derivation, first, second), samples)
        return float(evaluate_expectation(compound, point).value)

    return {p: at(p, p) for p in GRADIENT_PARAMETERS}, at("mu", "sigma")


def _failed(outcomes: list[LooOutcome]) -> set[str]:
    return {o.statistic for o in outcomes if not o.passed}


@pytest.mark.parametrize("samples", [2, 4, 16])
def test_score_loo_passes_and_the_perturbed_formula_fails(samples: int) -> None:
    point = exact_point(POINT)
    means, variances, cross = _exact(point, samples)
    draws = loo_estimates(R, point, samples, ESTIMATES, seed=12)
    assert _failed(check_loo(draws, means, variances, cross)) == set()
    # The formula with M replaced by M + 1: every variance check must fail.
    wrong_variances, wrong_cross = _variances_at(point, samples + 1)
    failed = _failed(check_loo(draws, means, wrong_variances, wrong_cross))
    assert {"variance.mu", "variance.sigma"} <= failed
