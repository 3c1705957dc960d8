"""Negative numbers wherever the command line takes a number or a range.

argparse alone reads ``-3:3`` as an option ("argument --range: expected one
argument", exit 2 with a usage block); :func:`verify.cli.argv.attach_values` gives
such values to their option.  Each test below fails (with argparse's SystemExit)
without it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from verify.cli import EXIT_BAD_INPUT, main
from verify.cli.argv import attach_values
from verify.cli.main import build_parser


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    code = main(list(arguments))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(code: int, out: str, err: str, start: str) -> None:
    assert code == EXIT_BAD_INPUT
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(start), err
    assert "usage:" not in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["crossover", "c", "--range", "-3:3"], ["crossover", "c", "--range=-3:3"]),
        (["crossover", "c", "--range=-3:3"], ["crossover", "c", "--range=-3:3"]),
        (["crossover", "c", "--range", "-.5:1"], ["crossover", "c", "--range=-.5:1"]),
        (["crossover", "c", "--range", "-1e-3:3"], ["crossover", "c", "--range=-1e-3:3"]),
        (["crossover", "c", "--ran", "-3:3"], ["crossover", "c", "--ran=-3:3"]),  # abbreviated
        (["evaluate", "c", "--at", "-1"], ["evaluate", "c", "--at=-1"]),
        (["check", "c", "--seed", "-1", "--json"], ["check", "c", "--seed=-1", "--json"]),
        (["new", "x", "--r", "-z**2"], ["new", "x", "--r=-z**2"]),
        # Real options, flags and what follows "--" are argparse's to read.
        (["crossover", "c", "--range", "--json"], ["crossover", "c", "--range", "--json"]),
        (["crossover", "c", "--range", "-h"], ["crossover", "c", "--range", "-h"]),
        (["crossover", "c", "--json", "-3"], ["crossover", "c", "--json", "-3"]),
        (["run", "--", "--seed", "-1"], ["run", "--", "--seed", "-1"]),
        (["--debug", "run", "--seed", "-2"], ["--debug", "run", "--seed=-2"]),
    ],
)
def test_dash_led_values_are_attached_to_their_option(argv: list[str], expected: list[str]) -> None:
    assert attach_values(build_parser(), argv) == expected


def test_without_attaching_argparse_rejects_a_negative_range() -> None:
    """The problem being solved: plain argparse takes -3:3 for an option."""
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("--range")
    with pytest.raises(argparse.ArgumentError, match="expected one argument"):
        parser.parse_args(["--range", "-3:3"])
    assert parser.parse_args(attach_values(parser, ["--range", "-3:3"])).range == "-3:3"


def test_crossover_takes_a_negative_range_with_or_without_equals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    common = ["crossover", "cases/sine.toml", "--vary", "mu", "--at", "k=1", "--at", "sigma=1"]
    code, spaced, err = run(capsys, *common, "--range", "-3:3", "--json")
    assert (code, err) == (0, "")
    assert json.loads(spaced)["range"] == [-3.0, 3.0]
    assert run(capsys, *common, "--range=-3:3", "--json")[1] == spaced
    code, out, _ = run(capsys, *common, "--range", "-.5:-.25", "--json")
    assert code == 0
    assert json.loads(out)["range"] == [-0.5, -0.25]


def test_crossover_at_takes_negative_values(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "crossover", "cases/cosine.toml", "--vary", "k", "--range", "0.1:10",
        "--at", "mu=-1", "--at", "sigma=1", "--json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["at"] == {"mu": -1.0, "sigma": 1.0}


def test_evaluate_takes_negative_values(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "evaluate", "cases/cosine.toml", "--at", "mu=-1", "--at", "sigma=1",
        "--at", "k=-2", "--json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["at"] == {"mu": -1.0, "sigma": 1.0, "k": -2.0}


def test_a_negative_value_in_the_wrong_place_is_the_options_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--at -1`` reaches --at, whose parser says what is wrong: no usage block."""
    code, out, err = run(capsys, "evaluate", "cases/cosine.toml", "--at", "-1")
    one_line_error(code, out, err, "cases/cosine.toml: --at -1: expected NAME=VALUE")


@pytest.mark.parametrize(
    ("arguments", "start"),
    [
        (["check", "cases/cosine.toml", "--seed", "-1"], "--seed: -1 must be a non-negative"),
        (["check", "cases/cosine.toml", "--samples", "-5"], "--samples: -5 is too few"),
        (["check", "cases/cosine.toml", "--perturb", "-1"], "--perturb: -1: expected NAME=FACTOR"),
        (["check", "cases/cosine.toml", "--perturb", "variance=-x"], "--perturb: variance: '-x'"),
        (["run", "--seed", "-1"], "--seed: -1 must be a non-negative"),
        (["run", "--samples", "-10000"], "--samples: -10000 is too few"),
        (["run", "--case-timeout", "-1"], "--case-timeout: -1 must be a finite number > 0"),
        (["run", "--case-memory", "-1"], "--case-memory: -1 must be a finite number > 0"),
        (["run", "--jobs", "-2"], "--jobs: -2 must be a finite number > 0"),
    ],
)
def test_negative_option_values_reach_the_options_own_check(
    capsys: pytest.CaptureFixture[str], arguments: list[str], start: str
) -> None:
    one_line_error(*run(capsys, *arguments), start)


def test_a_perturbation_factor_may_be_negative_in_form(capsys: pytest.CaptureFixture[str]) -> None:
    """``--perturb variance=-1`` parses (the factor is the check's business, not argparse's)."""
    code, out, err = run(
        capsys, "check", "cases/constant.toml", "--samples", "10000", "--jobs", "1",
        "--perturb", "mean=-1", "--json",
    )  # fmt: skip
    assert err == ""
    assert code in (0, 1)
    assert json.loads(out)["perturb"] == {"mean": -1.0}


def test_new_takes_a_cost_and_parameters_that_start_with_minus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "new", "dip", "--r", "-k*z**2", "--parameter", "k=-1,2", "--cases", str(tmp_path)
    )
    assert (code, err) == (0, "")
    text = (tmp_path / "dip.toml").read_text()
    assert 'r = "-k*z**2"' in text
    assert "k = [-1.0, 2.0]" in text
