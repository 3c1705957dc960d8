"""``verify run`` and case isolation: a bad, slow or crashing case never takes the others down."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from verify.api import report
from verify.cases.case import Case
from verify.cli import main
from verify.cli.isolation import run_isolated

GOOD = 'r = "z**2"\n'
# Tests must never write into the committed reports/: derive and check only, quickly.
FAST = ["--no-reports", "--samples", "10000"]


def write_case(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def spin_forever(_: int) -> int:
    while True:
        pass


def allocate_too_much(_: int) -> int:
    return len(bytearray(8 * 1024**3))


def fail(_: int) -> int:
    raise ValueError("first line\nsecond line")


def double(x: int) -> int:
    return 2 * x


def test_isolation_reports_each_kind_of_failure_and_keeps_the_rest() -> None:
    outcomes = run_isolated(double, [1, 2], seconds=30)
    assert [o.value for o in outcomes] == [2, 4]
    assert run_isolated(spin_forever, [0], seconds=0.5)[0].error == "timed out after 0.5 s"
    memory = run_isolated(allocate_too_much, [0], memory_mib=1024)[0]
    assert memory.value is None
    assert memory.error is not None
    assert "out of memory" in memory.error
    crashed = run_isolated(fail, [0])[0].error
    assert crashed == "ValueError: first line (at fail)"


def test_a_bad_case_file_is_one_line_and_the_others_still_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_case(tmp_path, "good", GOOD)
    bad = write_case(tmp_path, "bad", 'r = "__import__(1)"\n')
    # --quiet: only the error on stderr (the progress lines: tests/test_progress.py).
    assert main(["run", "--json", "--quiet", *FAST, str(good), str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"{bad}: r: ")
    assert "Traceback" not in captured.err
    document = json.loads(captured.out)
    assert [record["case"] for record in document["cases"]] == ["good"]


def test_a_case_over_its_time_limit_is_reported_and_fails_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    good = write_case(tmp_path, "good", GOOD)
    slow = write_case(tmp_path, "slow", GOOD)
    real = report.process_case

    def hang_on_slow(case: Case, *arguments: Any, **options: Any) -> Any:
        # A case that never finishes, asleep rather than computing: the limit is the
        # parent's wall-clock kill of the case's process, blind to what the child does
        # (a spinning child is killed in test_isolation_reports_each_kind_of_failure...),
        # and a sleeping one leaves both cores to the rest of the suite for the 8 s.
        if case.name == "slow":
            time.sleep(3600)
        return real(case, *arguments, **options)

    # verify run imports process_case as it runs (the patched one); the forked child
    # inherits it.  z**2 takes about a second (8 s leaves room for a loaded machine: 3 s
    # once timed it out).
    monkeypatch.setattr(report, "process_case", hang_on_slow)
    assert main(["run", *FAST, "--case-timeout", "8", str(slow), str(good)]) == 1
    out = capsys.readouterr().out
    assert "FAILED slow: timed out after 8 s" in out
    assert "good: processed" in out


def test_the_summary_flags_a_biased_pathwise_winner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    step = write_case(tmp_path, "step", 'r = "Heaviside(z)"\n')
    assert main(["run", *FAST, str(step)]) == 0
    assert "pathwise (pathwise biased)" in capsys.readouterr().out


def test_no_images_writes_the_same_markdown_and_no_png(tmp_path: Path) -> None:
    bundled = Path(__file__).resolve().parent.parent / "cases" / "cubic.toml"
    case = tmp_path / "cases" / "cubic.toml"
    case.parent.mkdir()
    case.write_text(bundled.read_text(encoding="utf-8"), encoding="utf-8")
    full, bare = tmp_path / "full", tmp_path / "bare"
    common = ["run", "--quiet", "--samples", "10000", str(case)]
    assert main([*common, "--reports", str(full)]) == 0
    assert main([*common, "--reports", str(bare), "--no-images"]) == 0
    assert sorted(p.name for p in full.rglob("*.png"))  # the maps, drawn by default
    assert not list(bare.rglob("*.png"))
    for name in ("cubic.md", "README.md"):
        assert (bare / name).read_bytes() == (full / name).read_bytes()
