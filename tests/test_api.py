"""The Python API (verify.api) against the command it sits under, and its error contract.

The oracle for every result is the ``verify`` command run on an equivalent case file:
the API must print what the command prints, character for character, and fail with
the command's one line.  The command's own tests (test_*_cli.py) pin the numbers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import verify
from verify.cli import main

COSINE_TWO = 'r = "cos(k*z)"\n[parameters]\nk = [2]\n'


@pytest.fixture
def custom_file(tmp_path: Path) -> Path:
    """The file equivalent to ``verify.Case("cos(k*z)", parameters={"k": [2]})``."""
    path = tmp_path / "custom.toml"
    path.write_text(COSINE_TWO, encoding="utf-8")
    return path


def command_output(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    assert main(list(arguments)) == 0
    return capsys.readouterr().out.rstrip("\n")


def test_the_issue_check_prints_what_verify_evaluate_prints(custom_file: Path) -> None:
    # The "Done when" command, verbatim, in a fresh interpreter.
    snippet = (
        "import verify; print(verify.evaluate(verify.Case('cos(k*z)', parameters={'k': [2]}), "
        "mu=1, sigma=1).to_json())"
    )
    api = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True)
    cli = subprocess.run(
        [sys.executable, "-m", "verify.cli", "evaluate", str(custom_file), "--at", "mu=1",
         "--at", "sigma=1", "--json"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert api.returncode == cli.returncode == 0, api.stderr + cli.stderr
    assert api.stdout == cli.stdout
    assert json.loads(api.stdout)["case"] == "custom"


@pytest.mark.parametrize(
    "at", [{"mu": 0.3, "sigma": 0.7, "k": 1.3}, {"mu": -1.0, "sigma": 2.0, "k": 0.5}]
)
def test_evaluate_json_and_text_equal_the_command(
    at: dict[str, float], capsys: pytest.CaptureFixture[str]
) -> None:
    options = [f"--at={name}={value}" for name, value in at.items()]
    result = verify.evaluate("cases/cosine.toml", **at)
    assert result.to_json() == command_output(
        capsys, "evaluate", "cases/cosine.toml", *options, "--json"
    )
    assert result.to_text() == command_output(capsys, "evaluate", "cases/cosine.toml", *options)


def test_accessors_agree_with_the_json_record() -> None:
    result = verify.evaluate(verify.Case("cos(k*z)", parameters={"k": [2]}), mu=1, sigma=1)
    record = json.loads(result.to_json())
    for estimator, values in record["estimators"].items():
        for parameter in ("mu", "sigma"):
            assert float(result.variance(estimator, parameter)) == values["variance"][parameter]
            assert float(result.mean(estimator, parameter)) == values["mean"][parameter]
    # cos(2z) at mu = sigma = 1: the score function wins both components (k > 1.3).
    assert (result.lower("mu"), result.lower("sigma")) == ("score", "score")
    assert result.lower("mu", among=("pathwise",)) == "pathwise"
    assert result.number("score.variance.mu").radius is not None
    assert "| pathwise |" in result._repr_markdown_()


def test_lower_says_pathwise_where_it_wins_and_tie_where_equal() -> None:
    # Independent oracle: for r = z**2, Var pathwise[mu] = 4 sigma^2 and
    # Var score[mu] = (E[z^4 eps^2] - (2 mu)^2 sigma^2)/sigma^2 > 4 sigma^2 at mu = 0.
    assert verify.evaluate(verify.Case("z**2"), mu=0, sigma=1).lower("mu") == "pathwise"
    # r = z: pathwise variance 0 for mu; score variance (mu^2 + sigma^2)/sigma^2 > 0.
    linear = verify.evaluate(verify.Case("z"), mu=0, sigma=1)
    assert linear.lower("mu") == "pathwise"
    constant = verify.evaluate(verify.Case("0"), mu=0, sigma=1)
    assert constant.lower("mu") == "tie"  # both variances are exactly 0


@pytest.mark.parametrize(
    ("text", "parameters", "field"),
    [
        ("__import__('os').system('ls')", None, "r"),
        ("cos(k*z)", None, "r"),  # k is not a parameter
        ("cos(k*z)", {"k": "two"}, "parameters.k"),
        ("z.real", None, "r"),
    ],
)
def test_case_strings_go_through_the_allow_list(
    text: str, parameters: dict[str, object] | None, field: str, tmp_path: Path
) -> None:
    with pytest.raises(verify.CaseError) as caught:
        verify.Case(text, parameters=parameters)  # type: ignore[arg-type]
    assert caught.value.field == field
    # The same mapping written as a file fails with the same message, path aside.
    lines = [f"r = {json.dumps(text)}"]
    if parameters is not None:
        lines += ["[parameters]", *(f"{k} = {json.dumps(v)}" for k, v in parameters.items())]
    path = tmp_path / "custom.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(verify.CaseError) as from_file:
        verify.Case.from_file(path)
    assert from_file.value.message == caught.value.message
    assert str(caught.value) == f"<custom>: {field}: {caught.value.message}"


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ({"mu": 0, "sigma": 1}, "at: missing value for k"),
        ({"mu": 0, "sigma": -1, "k": 1}, "sigma must be > 0"),
        ({"mu": 0, "sigma": 1, "k": 1, "q": 2}, "q: expected one of mu, sigma, k"),
        ({"mu": float("nan"), "sigma": 1, "k": 1}, "mu: the value must be finite"),
        ({"mu": "x", "sigma": 1, "k": 1}, "mu: 'x' is not a number"),
    ],
)
def test_bad_points_raise_case_error_with_the_command_line(
    at: dict[str, object], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(verify.CaseError) as caught:
        verify.evaluate("cases/cosine.toml", **at)
    assert message in str(caught.value)
    assert str(caught.value).startswith("cases/cosine.toml: at: ")
    if all(isinstance(v, int | float) and v == v for v in at.values()) and "q" not in at:
        options = [f"--at={name}={value}" for name, value in at.items()]
        assert main(["evaluate", "cases/cosine.toml", *options]) == 2
        assert capsys.readouterr().err.strip() == str(caught.value)


def test_a_bad_file_is_the_same_line_from_the_api_and_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('r = "exp(exp(exp(z)))"\n', encoding="utf-8")
    with pytest.raises(verify.CaseError) as caught:
        verify.Case.from_file(path)
    assert main(["evaluate", str(path), "--at", "mu=0", "--at", "sigma=1"]) == 2
    assert capsys.readouterr().err.strip() == str(caught.value)


def test_crossover_equals_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    result = verify.crossover("cases/cosine.toml", "k", at={"mu": 1, "sigma": 1}, range=(0.1, 3))
    arguments = ["crossover", "cases/cosine.toml", "--vary", "k", "--range", "0.1:3",
                 "--at", "mu=1", "--at", "sigma=1"]  # fmt: skip
    assert result.to_json() == command_output(capsys, *arguments, "--json")
    assert result.to_text() == command_output(capsys, *arguments)
    # The values the case file states, from the exact formulas (1e-8 is promised).
    (mu,), (sigma,) = result.crossovers["mu"], result.crossovers["sigma"]
    assert float(mu.at) == pytest.approx(1.0637821963, rel=1e-9)
    assert float(sigma.at) == pytest.approx(1.2973462654, rel=1e-9)
    assert "| mu |" in result._repr_markdown_()


def test_crossover_default_range_is_the_span_of_the_listed_values() -> None:
    result = verify.crossover("cases/cosine.toml", "k", at={"mu": 1, "sigma": 1})
    assert result.bounds == (0.5, 5.0)
    with pytest.raises(verify.CaseError, match="range: give range"):
        verify.crossover(
            verify.Case("cos(k*z)", parameters={"k": [2]}), "k", at={"mu": 1, "sigma": 1}
        )
    with pytest.raises(verify.CaseError, match="sigma must stay > 0"):
        verify.crossover("cases/cosine.toml", "sigma", at={"mu": 1, "k": 1}, range=(-1, 1))


def test_check_passes_a_true_formula_and_fails_a_perturbed_one() -> None:
    case = verify.Case("z**2")
    passed = verify.check(case, samples=2**16, seed=3)
    assert not passed.failed
    assert json.loads(passed.to_json())["cases"][0]["case"] == "custom"
    # A 50% error in every exact variance is far beyond the checks' power at 2^16.
    perturbed = verify.check(case, samples=2**16, seed=3, perturb={"variance": 1.5})
    assert perturbed.failed
    assert "FAILED" in perturbed.to_text()
    with pytest.raises(verify.CaseError, match="samples: 10 is too few"):
        verify.check(case, samples=10)


def test_report_writes_what_run_writes(tmp_path: Path) -> None:
    written = verify.report(verify.Case("z**2"), directory=tmp_path, samples=2**16)
    assert written.path == tmp_path / "custom.md"
    assert written.markdown == written.path.read_text(encoding="utf-8")
    assert (tmp_path / "custom" / "map-1.png").is_file()
    assert written._repr_markdown_() == written.markdown
    assert not written.failed


def test_importing_a_stage_does_not_import_the_api() -> None:
    code = "import sys, verify.cases.symbols; print('verify.api' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert set(verify.__all__) <= set(dir(verify))
    with pytest.raises(AttributeError):
        _ = verify.no_such_name  # type: ignore[attr-defined]
