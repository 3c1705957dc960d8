"""The GitHub workflow and ``.ci/run`` run the same job, so they cannot drift apart.

Both are read as the sequence of steps that matter: each ``nox -s NAME`` and the
committed-report diff (``git diff ...``), in order.  ``.ci/run`` is a shell script
(its command lines, comments dropped); the workflow's commands are its steps'
``run:`` values, read by a small reader of the one YAML shape they use (a plain
value, or a ``|`` block), so no YAML library is needed.  The drift tests feed
modified copies to the same comparison and show that it objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "run"
WORKFLOW = ROOT / ".github" / "workflows" / "verify.yml"
NOX_SESSION = re.compile(r"\bnox\s+-s\s+([\w-]+)")
RUN_KEY = re.compile(r"^(?P<indent>\s*)(?:-\s+)?run:\s*(?P<value>.*)$")

Step = tuple[str, str]  # ("nox", session) or ("diff", the git diff command)


def script_commands(text: str) -> list[str]:
    """The command lines of a shell script (no comments, no blank lines)."""
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def workflow_commands(text: str) -> list[str]:
    """The command lines of every ``run:`` step, in file order."""
    commands: list[str] = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        match = RUN_KEY.match(line)
        if match is None:
            continue
        value = match["value"].strip()
        if value in ("|", ">", "|-", ">-"):  # a block: the lines indented deeper than run:
            depth = len(match["indent"])
            for following in lines[number + 1 :]:
                if following.strip() and len(following) - len(following.lstrip()) <= depth:
                    break
                commands.extend(script_commands(following))
        elif value:
            commands.append(value.strip("'\"") if value[0] in "'\"" else value)
    return commands


def steps(commands: list[str]) -> list[Step]:
    """The nox sessions and the report diff, in the order they run."""
    found: list[Step] = []
    for command in commands:
        found.extend(("nox", session) for session in NOX_SESSION.findall(command))
        if command.startswith("git diff"):
            found.append(("diff", " ".join(command.split())))
    return found


def disagreements(script: str, workflow: str) -> list[str]:
    """Why the workflow does not run what ``.ci/run`` runs (empty when it does)."""
    ours, theirs = steps(script_commands(script)), steps(workflow_commands(workflow))
    problems = []
    if ours != theirs:
        problems.append(f".ci/run runs {ours}, the workflow {theirs}")
    if not any(kind == "diff" for kind, _ in ours):
        problems.append(".ci/run has no report diff")
    return problems


def test_the_workflow_runs_what_ci_runs() -> None:
    script, workflow = SCRIPT.read_text(), WORKFLOW.read_text()
    assert disagreements(script, workflow) == []
    assert [s for k, s in steps(script_commands(script)) if k == "nox"] == [
        "lint",
        "verify",
        "tests",
    ]
    assert ("diff", "git diff --exit-code --stat -- 'reports/*.md' ':!reports/benchmarks.md'") in (
        steps(workflow_commands(workflow))
    )


def test_the_workflow_triggers_matrix_and_cache() -> None:
    workflow = WORKFLOW.read_text()
    assert re.search(r"^on:\n  push:\n  pull_request:\n", workflow, re.MULTILINE)
    versions = re.search(r"python-version:\s*\[(.*)\]", workflow)
    assert versions is not None
    assert [v.strip(" '\"") for v in versions[1].split(",")] == ["3.11", "3.12"]
    assert re.search(r"uses: actions/setup-python@v\d+", workflow)
    assert re.search(r"^\s+cache: pip$", workflow, re.MULTILINE)
    assert "python-version: ${{ matrix.python-version }}" in workflow


def test_the_reader_takes_plain_quoted_and_block_runs() -> None:
    text = (
        "steps:\n"
        "  - run: python -m nox -s lint\n"
        "  - name: x\n"
        "    run: 'python -m nox -s verify'\n"
        "  - run: |\n"
        "      # a comment\n"
        "      git diff --exit-code -- a\n"
        "\n"
        "      python -m nox -s tests\n"
        "  - uses: something\n"
    )
    assert workflow_commands(text) == [
        "python -m nox -s lint",
        "python -m nox -s verify",
        "git diff --exit-code -- a",
        "python -m nox -s tests",
    ]


def _drop_lint(text: str) -> str:
    return re.sub(r".*nox -s lint\n", "", text)


def _swap_verify_and_tests(text: str) -> str:
    return (
        text.replace("-s verify", "-s TEMP")
        .replace("-s tests", "-s verify")
        .replace("-s TEMP", "-s tests")
    )


def _widen_the_diff(text: str) -> str:
    return text.replace(" ':!reports/benchmarks.md'", "")


def _add_bench(text: str) -> str:
    return text + "python3 -m nox -s bench\n"


@pytest.mark.parametrize(
    ("which", "change"),
    [
        ("workflow", _drop_lint),
        ("workflow", _swap_verify_and_tests),
        ("workflow", _widen_the_diff),
        ("script", _add_bench),
        ("script", _widen_the_diff),
    ],
)
def test_a_drift_is_caught(which: str, change: Callable[[str], str], tmp_path: Path) -> None:
    """A modified copy of either file no longer agrees with the other."""
    script, workflow = SCRIPT.read_text(), WORKFLOW.read_text()
    copy = tmp_path / ("run" if which == "script" else "verify.yml")
    modified = change(script if which == "script" else workflow)
    assert modified != (script if which == "script" else workflow)  # the change applied
    copy.write_text(modified)
    if which == "script":
        problems = disagreements(copy.read_text(), workflow)
    else:
        problems = disagreements(script, copy.read_text())
    assert problems
    assert "runs" in problems[0]
