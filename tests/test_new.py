"""``verify new``: a case file the loader accepts, every optional key as a comment, no overwrite."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from verify.api.scaffold import case_file_text, new_case
from verify.cases.case import CaseError
from verify.cases.case_files import TOP_LEVEL_KEYS, load_case
from verify.cli import EXIT_BAD_INPUT, main


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    code = main(list(arguments))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def uncommented(text: str) -> str:
    """The file with every commented-out key, table and string line switched on."""
    lines = text.splitlines()
    # The two header lines are prose, not keys; every other "# " line is an example.
    return "\n".join(lines[:2] + [re.sub(r"^# ", "", line) for line in lines[2:]]) + "\n"


def test_the_written_file_loads_and_has_what_was_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "new", "bump", "--r", "exp(-a*z**2)*cos(k*z)", "--parameter", "a=0.5",
        "--parameter", "k=1,2.5", "--cases", str(tmp_path),
    )  # fmt: skip
    assert (code, err) == (0, "")
    path = tmp_path / "bump.toml"
    case = load_case(path)
    assert case.name == "bump"
    assert case.r_text == "exp(-a*z**2)*cos(k*z)"
    assert case.parameters == {"a": (0.5,), "k": (1.0, 2.5)}
    assert (case.claims, case.parameterization) == ((), None)  # the examples are comments
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bump.toml"]  # no temporary left
    assert out.startswith(f"wrote {path}\n")


def test_every_optional_key_is_present_as_a_comment() -> None:
    text = case_file_text("bump", "cos(k*z)", {"k": [1, 2]})
    for key in TOP_LEVEL_KEYS:
        if key in ("r", "parameters"):
            assert re.search(rf"^\[?{key}\]? =?", text, re.MULTILINE), key
        else:
            assert re.search(rf"^# (\[\[?{key}\]\]?|{key} =)", text, re.MULTILINE), key


def test_the_commented_examples_are_valid_when_switched_on(tmp_path: Path) -> None:
    # A parameter named like the example's new names: the scaffold picks fresh ones.
    text = case_file_text("full", "cos(k*z) + s*m", {"k": [1, 2], "s": 1, "m": 0.5})
    path = tmp_path / "full.toml"
    path.write_text(uncommented(text), encoding="utf-8")
    case = load_case(path)
    assert case.title == "Full"
    assert case.description.startswith("Markdown for the report")
    assert case.source is not None
    assert (case.domain.mu, case.domain.sigma) == ((-2.0, 2.0), (0.2, 2.0))
    assert case.reference == {"mu": 1.0, "sigma": 1.0}
    assert [claim.kind for claim in case.claims] == ["equals", "lower"]
    assert case.parameterization is not None
    assert 'sigma = "exp(s2)"' in uncommented(text)
    if "dimension" in TOP_LEVEL_KEYS:  # issue 11's d-coordinate costs, where the loader has them
        assert case.parameters["d"] == (1.0, 2.0, 8.0)


def test_it_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing = tmp_path / "mine.toml"
    existing.write_text('r = "z"\n', encoding="utf-8")
    code, out, err = run(capsys, "new", "mine", "--r", "z**2", "--cases", str(tmp_path))
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert err == f"{existing}: file: already exists; verify new never overwrites a case " + (
        "(edit it, or pick a new name)\n"
    )
    assert existing.read_text(encoding="utf-8") == 'r = "z"\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.toml"]


@pytest.mark.parametrize(
    ("arguments", "start"),
    [
        (["bad", "--r", "__import__('os')"], "{dir}/bad.toml: r: "),
        (["bad", "--r", "cos(k*z)"], "{dir}/bad.toml: r: unknown name 'k'"),
        (["bad", "--r", 'z" + "1'], "{dir}/bad.toml: r: "),  # a quote cannot end the string
        (["bad", "--r", "z\nx = 1"], "{dir}/bad.toml: r: "),
        (["bad", "--r", "k*z", "--parameter", "k=nan"], "{dir}/bad.toml: parameters.k[1]: "),
        (["bad", "--r", "z", "--parameter", "z=1"], "{dir}/bad.toml: parameters.z: "),
        (["Bad", "--r", "z"], "{dir}/Bad.toml: name: case name 'Bad'"),
        (["../up", "--r", "z"], "{dir}/../up.toml: name: case name '../up'"),
        (["bad", "--r", "k*z", "--parameter", "k=a"], "--parameter: k: 'a' is not a number"),
        (["bad", "--r", "k*z", "--parameter", "k"], "--parameter: k: expected NAME=VALUE"),
        (["bad", "--r", "k*z", "--parameter", "k=1", "--parameter", "k=2"], "--parameter: k: "),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], start: str
) -> None:
    directory = tmp_path / "cases"  # missing: created only when a file is written
    code, out, err = run(capsys, "new", *arguments, "--cases", str(directory))
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert err.count("\n") == 1
    assert err.startswith(start.format(dir=directory)), err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_bad_cost_leaves_an_existing_directory_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "other.toml").write_text('r = "z"\n', encoding="utf-8")
    code, _, err = run(capsys, "new", "bad", "--r", "cos(", "--cases", str(tmp_path))
    assert code == EXIT_BAD_INPUT
    assert err.startswith(f"{tmp_path}/bad.toml: r: ")
    assert [p.name for p in tmp_path.iterdir()] == ["other.toml"]


def test_the_printed_next_command_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "new", "wave", "--r", "sin(k*z)", "--parameter", "k=-2,3", "--cases", str(tmp_path)
    )
    assert code == 0
    commands = [line.strip() for line in out.splitlines() if line.startswith("  verify ")]
    path = tmp_path / "wave.toml"
    assert commands == [
        f"verify evaluate {path} --at mu=1 --at sigma=1 --at k=-2",
        f"verify check {path}",
    ]
    assert "verify run" in out
    assert main([*shlex.split(commands[0])[1:], "--json"]) == 0
    assert '"k": -2.0' in capsys.readouterr().out


def test_the_python_function_returns_the_loaded_case(tmp_path: Path) -> None:
    case = new_case("quad", "a*z**2", parameters={"a": 2}, directory=tmp_path / "new")
    assert case.path == tmp_path / "new" / "quad.toml"
    assert case.parameters == {"a": (2.0,)}
    with pytest.raises(CaseError, match="already exists"):
        new_case("quad", "z", directory=tmp_path / "new")
