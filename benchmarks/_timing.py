"""Shared helpers of the benchmark modules: time limits, child processes, medians, tables.

The contract:

- :func:`measure` times a callable with :func:`time.perf_counter` under a time limit
  (a SIGALRM timer raising :class:`TimeLimit`, a ``BaseException`` so that library
  code catching ``Exception`` cannot swallow it), repeating it while it is cheap;
- :func:`run_child` calls ``module.function(argument)`` in a fresh Python process
  (``python -c``, with the benchmarks directory and the repository on ``sys.path``)
  and returns the JSON object it prints; a child that outlives its time limit is
  killed and reported as ``{"status": "timeout"}``, a crash as ``{"status": "error"}``;
- :func:`run_children` runs several such children, at most ``workers`` at a time;
- :func:`quick_mode` says whether ``benchmarks/run.py --quick`` asked for a smoke run
  (the runner sets :data:`QUICK_ENV` before importing the benchmark modules).

>>> median([3.0, 1.0, 2.0])
2.0
>>> markdown_table(("a", "b"), [("1", "2")])
'| a | b |\\n|---|---|\\n| 1 | 2 |'
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
QUICK_ENV = "VERIFY_BENCH_QUICK"
# Seconds a killed-or-not child gets on top of its own limit: interpreter start and imports.
STARTUP_ALLOWANCE = 30.0

Json = dict[str, Any]


class TimeLimit(BaseException):
    """Raised inside a measured call when its time limit expires."""


def quick_mode() -> bool:
    """Whether the runner was started with ``--quick``."""
    return os.environ.get(QUICK_ENV) == "1"


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence."""
    return float(statistics.median(values))


@dataclass(frozen=True)
class Measurement:
    """Timings of the runs of one call (seconds) and the first run's result."""

    status: str  # "ok" or "timeout"
    seconds: list[float]
    result: Any = None

    @property
    def median(self) -> float:
        return median(self.seconds)


def measure(
    call: Callable[[], Any],
    *,
    clear: Callable[[], None],
    limit: float,
    repeats: int,
    repeat_below: float,
) -> Measurement:
    """Run ``call`` up to ``repeats`` times, each after ``clear()``, under ``limit`` s each.

    A run is repeated only while the previous one took less than ``repeat_below``
    seconds, so slow calls are timed once; ``result`` is the first run's value.
    """
    seconds: list[float] = []
    result: Any = None
    for index in range(repeats):
        clear()
        try:
            elapsed, value = _limited(call, limit)
        except TimeLimit:
            if not seconds:
                return Measurement("timeout", [limit], None)
            break  # a later run is only a repeat: keep the runs that finished
        seconds.append(elapsed)
        if index == 0:
            result = value
        if elapsed >= repeat_below:
            break
    return Measurement("ok", seconds, result)


def _limited(call: Callable[[], Any], limit: float) -> tuple[float, Any]:
    def expire(_signum: int, _frame: object) -> None:
        raise TimeLimit

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        start = time.perf_counter()
        value = call()
        return time.perf_counter() - start, value
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_CHILD_CODE = (
    "import json, sys\n"
    "sys.path[:0] = [{bench!r}, {repo!r}]\n"
    "module = __import__({module!r})\n"
    "print(json.dumps(getattr(module, {function!r})(json.loads(sys.argv[1]))))\n"
)


def run_child(module: str, function: str, argument: Json, timeout: float) -> Json:
    """``module.function(argument)`` in a fresh interpreter, killed after ``timeout`` s."""
    code = _CHILD_CODE.format(
        bench=str(BENCH_DIR), repo=str(REPO_ROOT), module=module, function=function
    )
    command = [sys.executable, "-c", code, json.dumps(argument)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"status": "timeout"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": "error", "message": tail[:200]}
    parsed: Json = json.loads(lines[-1])
    return parsed


def run_children(jobs: Sequence[tuple[str, str, Json, float]], workers: int) -> list[Json]:
    """:func:`run_child` for each ``(module, function, argument, timeout)``, in order."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda job: run_child(*job), jobs))


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub markdown table (no trailing newline)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
