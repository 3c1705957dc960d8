"""Points of a case's domain: capped parameter combinations, fixed points, the grid strategy."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given

from verify.cases.case import DEFAULT_DOMAIN, Case
from verify.cases.points import fixed_points, parameter_combinations, points
from verify.cases.symbols import Z


def _case(parameters: dict[str, tuple[float, ...]]) -> Case:
    reference = {"mu": 1.0, "sigma": 1.0}
    return Case(
        "c", Path("c.toml"), "c", "", None, "z", Z, parameters, DEFAULT_DOMAIN, reference, ()
    )


def test_parameter_combinations_are_capped_and_evenly_spread() -> None:
    case = _case({"a": tuple(float(i) for i in range(10)), "b": (0.0, 1.0)})
    chosen = parameter_combinations(case, cap=8)
    assert len(chosen) == 8
    assert chosen[0] == {"a": 0.0, "b": 0.0}
    assert chosen[-1] == {"a": 9.0, "b": 1.0}
    assert len(parameter_combinations(_case({"a": (1.0, 2.0)}))) == 2
    huge = _case({name: tuple(float(i) for i in range(50)) for name in "abcdefgh"})
    assert len(parameter_combinations(huge)) == 8  # 50**8 combinations are never listed


def test_fixed_points_are_the_reference_and_the_corners() -> None:
    found = fixed_points(_case({"k": (1.0,)}))
    assert found[0] == {"mu": 1.0, "sigma": 1.0, "k": 1.0}
    assert {(p["mu"], p["sigma"]) for p in found[1:]} == {
        (mu, sigma) for mu in DEFAULT_DOMAIN.mu for sigma in DEFAULT_DOMAIN.sigma
    }


@given(points(_case({"k": (0.5, 5.0)})))
def test_drawn_points_lie_in_the_domain(at: dict[str, float]) -> None:
    assert list(at) == ["mu", "sigma", "k"]
    assert DEFAULT_DOMAIN.mu[0] <= at["mu"] <= DEFAULT_DOMAIN.mu[1]
    assert DEFAULT_DOMAIN.sigma[0] <= at["sigma"] <= DEFAULT_DOMAIN.sigma[1]
    assert at["k"] in (0.5, 5.0)
