"""Crossovers (verify.analysis.crossover) vs independent computations, and ``verify crossover``.

The oracle below is written here by hand from the estimator definitions alone: the
variance of each single-sample estimator is integrated in eps against the normal
density with mpmath quadrature, and the crossover is mpmath.findroot's zero of the
difference from a bracket.  It shares nothing with the crossover module (no closed
forms, no scan, no refinement).  Where a crossover follows from the closed forms by
hand (the quadratic, the sine, a*z, the constant), the test states the hand result.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Sequence

import mpmath
import pytest
import sympy

from verify.analysis.crossover import Crossover, find_crossovers, search_crossovers
from verify.analysis.sweep import VarianceFunction
from verify.cases.case_files import load_case
from verify.cases.symbols import Z, parameter_symbol
from verify.cli import EXIT_BAD_INPUT, main
from verify.exact.derivation import Derivation, derive

AT_ONE = {"mu": 1.0, "sigma": 1.0}
Cost = Callable[[mpmath.mpf, mpmath.mpf], mpmath.mpf]  # (z, k) -> value


def _derivation(name: str) -> Derivation:
    return derive(load_case(f"cases/{name}.toml").r)


# ---- the independent oracle ----------------------------------------------------------


def _oracle_variance(
    r: Cost, dr: Cost, estimator: str, parameter: str, k: mpmath.mpf
) -> mpmath.mpf:
    """Var of one estimator at mu = sigma = 1 by quadrature of its definition."""
    mu, sigma = mpmath.mpf(1), mpmath.mpf(1)

    def g(e: mpmath.mpf) -> mpmath.mpf:
        z = mu + sigma * e
        if estimator == "score":
            score = e / sigma if parameter == "mu" else (e**2 - 1) / sigma
            return r(z, k) * score
        return dr(z, k) * (1 if parameter == "mu" else e)

    # Beyond |eps| = 12 the density is below 1e-32, far under the 15 digits used here.
    nodes = mpmath.linspace(-12, 12, 9)
    # Both integrals ask for g at the same nodes, every call for the density at the same
    # nodes: each is evaluated once (the same values, so the same integrals).
    values: dict[mpmath.mpf, mpmath.mpf] = {}

    def remembered(e: mpmath.mpf) -> mpmath.mpf:
        if e not in values:
            values[e] = g(e)
        return values[e]

    first = mpmath.quad(lambda e: remembered(e) * _density(e, mpmath.mp.prec), nodes)
    second = mpmath.quad(lambda e: remembered(e) ** 2 * _density(e, mpmath.mp.prec), nodes)
    return second - first**2


@functools.cache
def _density(e: mpmath.mpf, precision: int) -> mpmath.mpf:
    """The standard normal density at ``e``, computed at ``precision`` bits (the key)."""
    return mpmath.npdf(e)


def _oracle_crossover(r: Cost, dr: Cost, parameter: str, bracket: tuple[float, float]) -> float:
    """The zero in k of Var[pathwise] - Var[score] inside ``bracket``."""
    with mpmath.workdps(15):

        def difference(k: mpmath.mpf) -> mpmath.mpf:
            pathwise = _oracle_variance(r, dr, "pathwise", parameter, k)
            return pathwise - _oracle_variance(r, dr, "score", parameter, k)

        low, high = (mpmath.mpf(b) for b in bracket)
        assert difference(low) * difference(high) < 0  # a genuine bracket
        return float(mpmath.findroot(difference, (low, high), solver="anderson"))


def _cos(z: mpmath.mpf, k: mpmath.mpf) -> mpmath.mpf:
    return mpmath.cos(k * z)


def _cos_slope(z: mpmath.mpf, k: mpmath.mpf) -> mpmath.mpf:
    return -k * mpmath.sin(k * z)


def _bump(z: mpmath.mpf, k: mpmath.mpf) -> mpmath.mpf:
    return mpmath.exp(-k * z**2)


def _bump_slope(z: mpmath.mpf, k: mpmath.mpf) -> mpmath.mpf:
    return -2 * k * z * mpmath.exp(-k * z**2)


def _erf(z: mpmath.mpf, k: mpmath.mpf) -> mpmath.mpf:
    return mpmath.erf(k * z)


def _erf_slope(z: mpmath.mpf, k: mpmath.mpf) -> mpmath.mpf:
    return 2 * k / mpmath.sqrt(mpmath.pi) * mpmath.exp(-((k * z) ** 2))


ORACLES = {
    # case: (r, r', {component: bracket known to hold exactly one crossover})
    "cosine": (_cos, _cos_slope, {"mu": (0.9, 1.2), "sigma": (1.1, 1.5)}),
    "gaussian_bump": (_bump, _bump_slope, {"mu": (0.7, 1.0), "sigma": (0.9, 1.1)}),
}


def _agrees(found: Sequence[Crossover], oracle: float) -> bool:
    """One crossing, pathwise better below and score above, at the oracle's k to 6 digits."""
    if len(found) != 1:
        return False
    (crossover,) = found
    close = abs(float(crossover.at) - oracle) <= 1e-6 * abs(oracle)
    shape = (crossover.kind, crossover.below, crossover.above) == ("crossing", "pathwise", "score")
    return close and shape


@pytest.fixture(scope="module")
def oracle_roots() -> dict[tuple[str, str], float]:
    return {
        (name, parameter): _oracle_crossover(r, dr, parameter, bracket)
        for name, (r, dr, brackets) in ORACLES.items()
        for parameter, bracket in brackets.items()
    }


@pytest.mark.parametrize("name", sorted(ORACLES))
@pytest.mark.parametrize("parameter", ["mu", "sigma"])
def test_crossover_in_k_agrees_with_the_quadrature_oracle(
    name: str, parameter: str, oracle_roots: dict[tuple[str, str], float]
) -> None:
    found = find_crossovers(_derivation(name), "k", 0.1, 10.0, dict(AT_ONE), parameter)
    assert _agrees(found, oracle_roots[(name, parameter)]), (found, oracle_roots)


def test_a_perturbed_variance_moves_the_crossover_and_the_oracle_notices(
    monkeypatch: pytest.MonkeyPatch, oracle_roots: dict[tuple[str, str], float]
) -> None:
    value, values = VarianceFunction.value, VarianceFunction.values

    def inflated_value(self: VarianceFunction, *args: object, **kwargs: object) -> mpmath.mpf:
        result = value(self, *args, **kwargs)  # type: ignore[arg-type]
        return result * mpmath.mpf("1.1") if self.estimator == "pathwise" else result

    def inflated_values(self: VarianceFunction, arrays: object) -> object:
        result = values(self, arrays)  # type: ignore[arg-type]
        return result * 1.1 if self.estimator == "pathwise" else result

    monkeypatch.setattr(VarianceFunction, "value", inflated_value)
    monkeypatch.setattr(VarianceFunction, "values", inflated_values)
    found = find_crossovers(_derivation("cosine"), "k", 0.1, 10.0, dict(AT_ONE), "mu")
    assert len(found) == 1
    assert not _agrees(found, oracle_roots[("cosine", "mu")])


def test_quadrature_case_agrees_with_the_oracle() -> None:
    search = search_crossovers(_derivation("smooth_step"), "k", 1.5, 3.0, AT_ONE, "mu")
    assert search.method == "quadrature"
    oracle = _oracle_crossover(_erf, _erf_slope, "mu", (2.0, 2.3))
    assert _agrees(search.crossovers, oracle)


# ---- crossovers derived by hand from the closed forms ----------------------------------


def test_quadratic_has_no_crossover_in_k() -> None:
    # With d = mu - k at sigma = 1: pathwise 4 and 4*d**2 + 8; score
    # d**4 + 14*d**2 + 15 and 2*d**4 + 60*d**2 + 74.  Score is larger for every d.
    for d in (x / 100 for x in range(-400, 401)):
        assert d**4 + 14 * d**2 + 15 - 4 > 0
        assert 2 * d**4 + 60 * d**2 + 74 - (4 * d**2 + 8) > 0
    derivation = _derivation("quadratic")
    for parameter in ("mu", "sigma"):
        assert find_crossovers(derivation, "k", -3.0, 3.0, dict(AT_ONE), parameter) == []


def test_sine_crosses_at_odd_multiples_of_a_quarter_pi() -> None:
    # At k = sigma = 1 the mu-variances differ by -cos(2*mu)*exp(-2), so they cross
    # where cos(2*mu) = 0, and pathwise is lower where cos(2*mu) > 0.
    found = find_crossovers(_derivation("sine"), "mu", -3.0, 3.0, {"sigma": 1, "k": 1}, "mu")
    expected = [j * math.pi / 4 for j in (-3, -1, 1, 3)]
    assert [c.kind for c in found] == ["crossing"] * 4
    for crossover, at in zip(found, expected, strict=True):
        assert abs(float(crossover.at) - at) <= 1e-12 * abs(at)
        assert crossover.below == ("pathwise" if math.cos(2 * at - 0.1) > 0 else "score")
        assert crossover.above == ("pathwise" if math.cos(2 * at + 0.1) > 0 else "score")


@pytest.mark.parametrize("name", ["linear", "constant"])
def test_variances_touching_at_zero_are_one_touch(name: str) -> None:
    # Pathwise variance 0 for mu; score a**2*(mu**2/sigma**2 + 2) or c**2/sigma**2: they
    # touch at 0 and pathwise is lower on both sides.  0 is not a grid point here.
    variable = "a" if name == "linear" else "c"
    found = find_crossovers(_derivation(name), variable, -1.3, 2.1, dict(AT_ONE), "mu")
    assert len(found) == 1
    (touch,) = found
    assert (touch.kind, touch.touch, touch.below, touch.above) == (
        "touch",
        True,
        "pathwise",
        "pathwise",
    )
    assert abs(float(touch.at)) < 1e-8


def test_equal_variances_on_an_interval_are_reported_once() -> None:
    # r = max(a, 0)*z vanishes for a <= 0: both variances are 0 there.
    a = parameter_symbol("a")
    found = find_crossovers(derive(sympy.Max(a, 0) * Z), "a", -1.0, 1.0, dict(AT_ONE), "mu")
    assert len(found) == 1
    (interval,) = found
    assert (interval.kind, interval.below, interval.above) == ("interval", None, "pathwise")
    assert float(interval.at) == -1.0
    assert interval.until is not None
    assert abs(float(interval.until)) < 1e-9


def test_constant_zero_cost_is_equal_on_the_whole_range() -> None:
    found = find_crossovers(_derivation("constant"), "mu", -1.0, 1.0, {"c": 0, "sigma": 1}, "mu")
    assert [(c.kind, float(c.at), c.until) for c in found] == [("interval", -1.0, 1.0)]


def test_no_crossover_is_reported_where_both_variances_are_infinite() -> None:
    # exp(z**2/4): both variances are infinite from sigma = 1 on; pathwise is lower below.
    derivation = _derivation("heavy_tail")
    for parameter in ("mu", "sigma"):
        found = find_crossovers(derivation, "sigma", 0.5, 1.4, {"a": 0.25, "mu": 1}, parameter)
        assert found == []


@pytest.mark.parametrize(
    ("vary", "low", "high", "fixed", "message"),
    [
        ("sigma", -1.0, 1.0, {"mu": 1.0, "k": 1.0}, "sigma must stay > 0"),
        ("k", 2.0, 1.0, AT_ONE, "LOW < HIGH"),
        ("k", 0.1, math.inf, AT_ONE, "LOW < HIGH"),
        ("k", 0.1, 1.0, {"mu": 1.0}, "missing value for sigma"),
        ("eps", 0.1, 1.0, AT_ONE, "cannot vary"),
    ],
)
def test_bad_searches_raise_value_error(
    vary: str, low: float, high: float, fixed: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        find_crossovers(_derivation("cosine"), vary, low, high, dict(fixed), "mu")


# ---- the command line ------------------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    code = main(["crossover", *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_json_has_the_contract_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(
        capsys, "cases/cosine.toml", "--vary", "k", "--range", "0.1:10", "--at", "mu=1",
        "--at", "sigma=1", "--json",
    )  # fmt: skip
    assert (code, err) == (0, "")
    record = json.loads(out)
    assert set(record) == {"case", "vary", "range", "at", "crossovers", "method", "grid_points"}
    assert (record["case"], record["vary"], record["range"]) == ("cosine", "k", [0.1, 10.0])
    assert record["at"] == {"mu": 1.0, "sigma": 1.0}
    assert record["method"] == "closed-form"
    assert record["grid_points"] >= 100
    assert set(record["crossovers"]) == {"mu", "sigma"}
    for entries in record["crossovers"].values():
        (entry,) = entries
        assert set(entry) == {"at", "below", "above", "touch", "kind"}
        assert (entry["below"], entry["above"], entry["touch"]) == ("pathwise", "score", False)


def test_cli_text_is_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "cases/sine.toml", "--vary", "mu", "--range=-3:3", "--at", "k=1", "--at", "sigma=1"
    )
    assert code == 0
    assert "closed-form" in out
    assert "0.785398163397448" in out
    assert out.count("crossing") == 4
    assert "sigma" in out
    assert "none" in out


def test_cli_defaults_single_valued_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    # cubic has no parameters; quartic neither: mu and sigma are all that is needed.
    code, out, _ = _run(capsys, "cases/cubic.toml", "--vary", "sigma", "--range", "0.1:2",
                        "--at", "mu=1", "--json")  # fmt: skip
    assert code == 0
    assert json.loads(out)["at"] == {"mu": 1.0}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--vary", "z", "--range", "0.1:10"], "--vary z"),
        (["--vary", "nope", "--range", "0.1:10"], "expected one of mu, sigma, k"),
        (["--vary", "k", "--range", "3:1"], "--range 3:1"),
        (["--vary", "k", "--range", "a:b"], "--range a:b"),
        (["--vary", "k", "--range", "1"], "--range 1"),
        (["--vary", "k", "--range", "nan:1"], "--range nan:1"),
        (["--vary", "sigma", "--range=-1:1", "--at", "k=1"], "sigma must stay > 0"),
        (["--vary", "sigma", "--range", "0:1", "--at", "k=1"], "sigma must stay > 0"),
        (["--vary", "k", "--range", "0.1:10"], "missing value for mu, sigma"),
        (["--vary", "k", "--range", "0.1:10", "--at", "mu=1", "--at", "sigma=-1"], "sigma"),
        (["--vary", "k", "--range", "0.1:10", "--at", "mu=1", "--at", "sigma=1",
          "--grid-points", "2"], "at least 3 points"),
    ],
)  # fmt: skip
def test_cli_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    code, out, err = _run(capsys, "cases/cosine.toml", *arguments)
    assert code == EXIT_BAD_INPUT
    assert out == ""
    assert err.count("\n") == 1
    assert message in err
    assert err.startswith("cases/cosine.toml")


def test_cli_bad_case_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "cases/missing.toml", "--vary", "k", "--range", "0.1:1")
    assert code == EXIT_BAD_INPUT
    assert "cases/missing.toml" in err
