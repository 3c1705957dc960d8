"""``verify run``'s progress: per-case lines on stderr as results arrive, a bar on a terminal."""

from __future__ import annotations

import io
import json
import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from verify.cli import main
from verify.cli.isolation import Outcome, run_isolated
from verify.cli.progress import RunProgress, finished_line, tally

FAST = ["--no-reports", "--samples", "10000"]


@pytest.fixture(autouse=True)
def _no_forced_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """rich draws the bar on a non-terminal when these say so; the tests decide here."""
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)


def case_files(directory: Path) -> list[str]:
    paths = []
    for name, r in (("square", "z**2"), ("step", "Heaviside(z)")):
        path = directory / f"{name}.toml"
        path.write_text(f'r = "{r}"\n', encoding="utf-8")
        paths.append(str(path))
    return paths


def without_seconds(document: Any) -> Any:
    """The JSON document less its timings, which differ from run to run."""
    if isinstance(document, dict):
        return {k: without_seconds(v) for k, v in document.items() if k != "seconds"}
    if isinstance(document, list):
        return [without_seconds(v) for v in document]
    return document


def test_each_case_is_reported_on_stderr_as_it_starts_and_finishes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = case_files(tmp_path)
    assert main(["run", *FAST, "--jobs", "1", *paths]) == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert lines[0] == "square: started"
    assert lines[1].startswith("square: passed in ")
    # 90 checks of the six estimators, and score_loo's five at the reference point.
    assert lines[1].endswith(" s: checks: 95 passed, 0 failed, 0 skipped [1/2]")
    assert lines[2] == "step: started"
    assert lines[3].startswith("step: passed in ")
    assert lines[3].endswith("[2/2]")
    assert len(lines) == 4
    assert "━" not in captured.err  # stderr is not a terminal here: lines, no bar
    assert "started" not in captured.out  # the summary on stdout is as before
    assert "2 cases processed, 0 failed" in captured.out


def test_quiet_silences_the_progress_and_json_stdout_is_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = case_files(tmp_path)
    assert main(["run", *FAST, "--json", *paths]) == 0
    loud = capsys.readouterr()
    assert "square: started" in loud.err
    assert main(["run", *FAST, "--json", "--quiet", *paths]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == ""
    assert loud.out.count("\n") == quiet.out.count("\n") == 1  # one JSON object each
    assert without_seconds(json.loads(loud.out)) == without_seconds(json.loads(quiet.out))


def test_a_bad_case_file_is_its_one_line_before_the_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('r = "__import__(1)"\n', encoding="utf-8")
    assert main(["run", *FAST, case_files(tmp_path)[0], str(bad)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"{bad}: r: ")
    assert [line.split(":")[0] for line in lines[1:]] == ["square", "square"]


def test_a_failed_case_says_why_in_its_line() -> None:
    failed = finished_line("slow", 3.04, Outcome(None, "timed out after 3 s"))
    assert failed == "slow: FAILED in 3.0 s: timed out after 3 s"
    record = {"failed": True, "checks": {"checks": [{"passed": False}], "claims": []}}
    assert finished_line("bad", 1.0, Outcome(record)) == (
        "bad: FAILED in 1.0 s: checks: 0 passed, 1 failed, 0 skipped"
    )


def test_the_tally_reads_either_kind_of_record() -> None:
    with_reports = {
        "index": {"checks_passed": 7, "checks_failed": 1, "checks_skipped": 2,
                  "claims": ["holds", "refuted", "holds"]},
    }  # fmt: skip
    assert tally(with_reports) == "checks: 7 passed, 1 failed, 2 skipped; claims: 2 hold, 1 refuted"
    checks = [{"passed": True}, {"passed": None}, {"passed": True}, {"passed": False}]
    without = {"checks": {"checks": checks, "claims": [{"verdict": "holds"}]}}
    assert tally(without) == "checks: 2 passed, 1 failed, 1 skipped; claims: 1 hold, 0 refuted"


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def record(_: int) -> dict[str, Any]:
    return {"failed": False, "checks": {"checks": [{"passed": True}], "claims": []}}


def test_run_isolated_reports_each_outcome_as_it_arrives() -> None:
    events: list[tuple[str, int, float]] = []
    start = time.monotonic()

    def started(index: int) -> None:
        events.append(("start", index, time.monotonic() - start))

    def finished(index: int, outcome: Outcome[float]) -> None:
        events.append(("finish", index, time.monotonic() - start))

    outcomes = run_isolated(
        nap, [2.5, 0.1], jobs=2, seconds=30, on_start=started, on_finish=finished
    )
    assert [o.value for o in outcomes] == [2.5, 0.1]  # input order
    assert [(kind, index) for kind, index, _ in events] == [
        ("start", 0), ("start", 1), ("finish", 1), ("finish", 0),
    ]  # fmt: skip
    # The quick item is reported while the slow one still runs, not at the end.
    assert events[2][2] < 2.0 <= events[3][2]


def test_a_failing_observer_leaves_no_child_running() -> None:
    def explode(index: int) -> None:
        raise RuntimeError("observer failed")

    with pytest.raises(RuntimeError, match="observer failed"):
        run_isolated(nap, [60.0, 60.0], jobs=2, on_start=explode)
    assert multiprocessing.active_children() == []


def test_a_terminal_gets_a_bar_and_the_lines() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100, color_system=None)
    with RunProgress(["one", "two"], console=console) as progress:
        run_isolated(record, [0, 1], on_start=progress.started, on_finish=progress.finished)
    text = stream.getvalue()
    assert "one: started" in text
    assert "two: passed in" in text
    assert "checks: 1 passed, 0 failed, 0 skipped [2/2]" in text
    assert "━" in text  # the bar, here complete
    assert "2/2 cases" in text


def test_quiet_draws_nothing_even_on_a_terminal() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100)
    with RunProgress(["one"], console=console, quiet=True) as progress:
        progress.started(0)
        progress.finished(0, Outcome(None, "boom"))
    assert stream.getvalue() == ""
