"""``--scheduler``: the cases on a Dask cluster give what the local pool gives, byte for byte.

Each test starts its own ``distributed.LocalCluster`` (2 worker processes, one thread
each; well under a second to start), so a test that kills a worker leaves nothing
behind for the next.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

from verify.cli import main  # noqa: E402
from verify.cli.executor import MISSING_EXTRA, run_cases  # noqa: E402
from verify.cli.isolation import Outcome  # noqa: E402

# Two small cases (one parameter value each, one claim between them: every stage of a
# case, its maps and a claim's counterexample search run on the worker), about half the
# bundled constant and linear cases' time at 10,000 samples, the fewest allowed.
CASE_TEXTS = {
    "constant": 'title = "Constant cost c"\nr = "c"\n\n[parameters]\nc = 1.0\n\n'
    "[domain]\nmu = [-2.0, 2.0]\nsigma = [0.1, 2.0]\n\n"
    '[[claims]]\nquantity = "score.variance.mu"\nequals = "c**2/sigma**2"\n',
    "linear": 'title = "Linear cost a*z"\nr = "a*z"\n\n[parameters]\na = 1.0\n\n'
    "[domain]\nmu = [-2.0, 2.0]\nsigma = [0.1, 2.0]\n",
}
CASES = tuple(CASE_TEXTS)
FAST = ["--samples", "10000"]

# The workers import this module's functions by value: under pytest's importlib mode
# it is not importable by name in another process.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture
def scheduler() -> Iterator[str]:
    """The address of a fresh local cluster of two single-threaded worker processes."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture
def case_paths(tmp_path: Path) -> list[str]:
    directory = tmp_path / "cases"
    directory.mkdir()
    paths = [directory / f"{name}.toml" for name in CASES]
    for path, text in zip(paths, CASE_TEXTS.values(), strict=True):
        path.write_text(text, encoding="utf-8")
    return [str(path) for path in paths]


def timeless(output: str) -> dict[str, Any]:
    """``verify run --json``'s document less each case's wall time, the one timing in it."""
    document: dict[str, Any] = json.loads(output)
    for record in document["cases"]:
        del record["seconds"]
    return document


def files_of(directory: Path) -> dict[str, bytes]:
    paths = [path for path in directory.rglob("*") if path.is_file()]
    return {str(path.relative_to(directory)): path.read_bytes() for path in paths}


def test_a_cluster_run_writes_the_local_run_byte_for_byte(
    scheduler: str, case_paths: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local, remote = tmp_path / "local", tmp_path / "remote"
    assert main(["run", "--json", "--quiet", *FAST, "--reports", str(local), *case_paths]) == 0
    local_out = capsys.readouterr().out
    arguments = ["--scheduler", scheduler, "--reports", str(remote), *case_paths]
    assert main(["run", "--json", *FAST, *arguments]) == 0
    captured = capsys.readouterr()
    assert timeless(captured.out) == timeless(local_out)
    local_files = files_of(local)
    assert {f"{name}.md" for name in CASES} | {"README.md"} <= set(local_files)
    assert files_of(remote) == local_files  # every report, map and the index, byte for byte
    # Progress still reports each case as it starts and as it finishes.
    lines = captured.err.splitlines()
    assert sorted(line for line in lines if line.endswith(": started")) == [
        f"{name}: started" for name in CASES
    ]
    assert lines[-1].endswith("[2/2]")


def test_a_cluster_check_prints_the_local_check(
    scheduler: str, case_paths: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--json", *FAST, *case_paths]) == 0
    local = capsys.readouterr().out
    assert main(["check", "--json", *FAST, "--scheduler", scheduler, *case_paths]) == 0
    assert capsys.readouterr().out == local  # verify check prints no timings


def crash_worker_once(marker: Path, item: int, _directory: Path | None) -> int:
    """Kill this task's worker the first time (the child's parent is the worker), and
    linger, as a runaway case would; the marker holds the lingering child's pid."""
    if not marker.exists():
        marker.write_text(str(os.getpid()), encoding="utf-8")
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(120)
    return item * item


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (Linux)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return status.rpartition(")")[2].split()[0] not in ("Z", "X")


def test_a_task_on_a_lost_worker_is_rerun_and_nothing_is_lost(
    scheduler: str, tmp_path: Path
) -> None:
    marker = tmp_path / "crashed"
    starts: list[int] = []
    finishes: list[int] = []
    outcomes = run_cases(
        functools.partial(crash_worker_once, marker),
        [1, 2, 3],
        directory=None,
        scheduler=scheduler,
        on_start=starts.append,
        on_finish=lambda index, _: finishes.append(index),
    )
    assert marker.exists()  # a worker did die mid-task
    assert outcomes == [Outcome(1), Outcome(4), Outcome(9)]
    assert sorted(starts) == sorted(finishes) == [0, 1, 2]  # each reported once
    if sys.platform == "linux":  # the lost worker's child died with it
        assert not running(int(marker.read_text(encoding="utf-8")))


def spin_forever(_: int, _directory: Path | None) -> int:
    while True:
        pass


def fail(_: int, _directory: Path | None) -> int:
    raise ValueError("first line\nsecond line")


def test_limits_and_errors_read_as_they_do_locally(scheduler: str) -> None:
    on_cluster = run_cases(spin_forever, [0], directory=None, scheduler=scheduler, seconds=0.5)
    assert on_cluster == [Outcome(None, "timed out after 0.5 s")]
    failed = run_cases(fail, [0], directory=None, scheduler=scheduler)
    assert failed == run_cases(fail, [0], directory=None)
    assert failed == [Outcome(None, "ValueError: first line (at fail)")]


def test_without_the_extra_scheduler_is_one_line_and_exit_2(
    case_paths: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails
    monkeypatch.delitem(sys.modules, "verify.cli.distributed", raising=False)
    assert main(["run", "--scheduler", "tcp://127.0.0.1:1", *case_paths]) == 2
    assert capsys.readouterr().err == MISSING_EXTRA + "\n"


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:1", "no-port"])
def test_an_unreachable_scheduler_is_bad_input(
    address: str, case_paths: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        assert main(["check", "--scheduler", address, case_paths[0]]) == 2
    assert capsys.readouterr().err.startswith(f"--scheduler: cannot reach {address}: ")


def test_the_local_pool_does_not_import_dask(case_paths: list[str]) -> None:
    code = (
        "import sys\n"
        "from verify.cli import main\n"
        "main(['check', '--samples', '10000', sys.argv[1]])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, case_paths[0]], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


def test_a_worker_gives_the_chunks_a_heap(monkeypatch: pytest.MonkeyPatch) -> None:
    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_, which freezes glibc's mmap threshold at
    # 128 KiB: the task raises both thresholds above a chunk's 256 KiB temporaries.
    from verify.cli import distributed as ours
    from verify.montecarlo.engine import CHUNK_SIZE

    calls: list[tuple[int, int]] = []

    class Libc:
        def mallopt(self, parameter: int, value: int) -> int:
            calls.append((parameter, value))
            return 1

    monkeypatch.setattr(ours.ctypes, "CDLL", lambda name: Libc())
    ours._heap_for_chunks()
    assert {parameter for parameter, _ in calls} == {-1, -3}  # M_TRIM_ and M_MMAP_THRESHOLD
    assert all(value > 8 * CHUNK_SIZE for _, value in calls)

    def missing(name: str) -> object:
        raise OSError("no libc here")

    monkeypatch.setattr(ours.ctypes, "CDLL", missing)
    ours._heap_for_chunks()  # elsewhere than glibc: nothing, and no error
