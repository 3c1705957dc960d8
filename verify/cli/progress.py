"""Progress of ``verify run`` on stderr: a line per case as it starts and as it finishes.

The contract: :class:`RunProgress` observes :func:`verify.cli.isolation.run_isolated`
(its ``on_start`` and ``on_finish`` hooks, called in the parent as each case's
process starts and as its outcome arrives) and writes to stderr only, so stdout --
the summary, or the one JSON object of ``--json`` -- is untouched.  For each case:

    cosine: started
    cosine: passed in 9.3 s: checks: 96 passed, 0 failed, 4 skipped; claims: 2 hold, 0 refuted [3/9]
    slow: FAILED in 3.0 s: timed out after 3 s [4/9]

(``FAILED`` when a check failed, a claim was refuted or the case crashed; the
seconds are wall-clock time in the parent, process start included).  On a terminal
a progress bar (cases done of all, elapsed time, the cases running) stays below the
lines; elsewhere (a pipe, a file, CI) there are only the lines.  ``quiet`` silences
both.

The bar is rich's (``rich.progress``) rather than tqdm's: rich is fully typed (mypy
--strict needs no stub package), already in the toolchain (import-linter depends on
it), prints log lines above a live bar and decides by itself whether stderr is a
terminal (``TTY_COMPATIBLE=0/1`` or ``FORCE_COLOR`` override its guess, as rich
documents).  Its automatic refresh is off:
that runs a thread, and the parent forks a process per case, and forking a
multi-threaded process can deadlock the child (Python 3.12 warns about it).  The bar
is redrawn at each event instead.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from verify.cli.isolation import Outcome

CaseRecord = dict[str, Any]


class RunProgress:
    """Per-case lines and a bar on ``console`` (default: stderr); see the module docstring."""

    def __init__(
        self, names: Sequence[str], *, quiet: bool = False, console: Console | None = None
    ) -> None:
        self._names = list(names)
        self._quiet = quiet
        self._console = Console(stderr=True) if console is None else console
        self._starts: dict[int, float] = {}
        self._done = 0
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("cases"),
            TimeElapsedColumn(),
            console=self._console,
            auto_refresh=False,  # no refresh thread: see the module docstring
            redirect_stdout=False,
            redirect_stderr=False,
            disable=quiet or not self._console.is_terminal,
        )
        self._task = self._bar.add_task("verify run", total=len(self._names))

    def __enter__(self) -> RunProgress:
        self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._bar.stop()

    def started(self, index: int) -> None:
        """Case ``index`` has started (``on_start`` of :func:`run_isolated`)."""
        self._starts[index] = time.monotonic()
        self._line(f"{self._names[index]}: started")

    def finished(self, index: int, outcome: Outcome[CaseRecord]) -> None:
        """Case ``index`` has its outcome (``on_finish`` of :func:`run_isolated`)."""
        seconds = time.monotonic() - self._starts.pop(index, time.monotonic())
        self._done += 1
        line = finished_line(self._names[index], seconds, outcome)
        self._bar.advance(self._task)
        self._line(f"{line} [{self._done}/{len(self._names)}]")

    def _line(self, text: str) -> None:
        if self._quiet:
            return
        running = ", ".join(self._names[i] for i in sorted(self._starts))
        self._bar.update(self._task, description=f"verify run: {running or 'done'}")
        self._bar.refresh()  # the bar as of now; printing the line redraws it below the line
        self._console.print(text, markup=False, highlight=False, emoji=False, soft_wrap=True)


def finished_line(name: str, seconds: float, outcome: Outcome[CaseRecord]) -> str:
    """``name: passed in 1.2 s: checks: 9 passed, ...`` or ``name: FAILED in 1.2 s: why``."""
    record = outcome.value
    if record is None:
        return f"{name}: FAILED in {seconds:.1f} s: {outcome.error}"
    verdict = "FAILED" if record.get("failed") else "passed"
    return f"{name}: {verdict} in {seconds:.1f} s: {tally(record)}"


def tally(record: CaseRecord) -> str:
    """The checks passed, failed and skipped, and the claims' verdicts, of a case record.

    The record is :func:`verify.api.report.process_case`'s: the counts are in its
    ``index`` when reports are written, and in its ``checks`` otherwise.
    """
    if "index" in record:
        index = record["index"]
        counts = (index["checks_passed"], index["checks_failed"], index["checks_skipped"])
        verdicts = list(index["claims"])
    else:
        checks = record["checks"]
        passed = [check["passed"] for check in checks["checks"]]
        counts = (passed.count(True), passed.count(False), passed.count(None))
        verdicts = [claim["verdict"] for claim in checks["claims"]]
    text = f"checks: {counts[0]} passed, {counts[1]} failed, {counts[2]} skipped"
    if verdicts:
        holds, refuted = verdicts.count("holds"), verdicts.count("refuted")
        text += f"; claims: {holds} hold, {refuted} refuted"
    return text
