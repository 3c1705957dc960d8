"""Cases on a Dask distributed cluster: ``verify run --scheduler ADDRESS`` (and ``check``).

The contract: :func:`run_on_cluster` returns what the local pool returns for the same
work (:func:`verify.cli.executor.run_cases`): one :class:`~verify.cli.isolation.Outcome`
per item, in input order, with the same values and the same one-line errors.

- Each item is one Dask task, and the task runs :func:`~verify.cli.isolation.run_isolated`
  with that one item on its worker: the case runs in a forked child with the same time
  and memory limits, so a time-out or a crash reads exactly as it does locally.
- ``work(item, directory)`` writes its files (the reports) under ``directory``.  A
  worker need not share this machine's filesystem: on the worker the files go to a
  private temporary directory, travel back with the value, and are written under
  ``directory`` here, atomically, as each task finishes.  A failed task writes nothing.
- A worker lost mid-task (killed, out of memory, its machine gone) is noticed by the
  scheduler, which reruns its tasks elsewhere (up to ``distributed.scheduler.allowed-
  failures`` times, 3 by default); a task that raises is retried :data:`RETRIES` times.
  A case's numbers are seeded by key, so a rerun yields the same value and files.
- Progress: ``on_start(index)`` when the task starts on a worker (once, even when it is
  rerun), ``on_finish(index, outcome)`` as each finishes, both in this thread.
- Interrupted here, the client closes and the cluster drops the tasks not yet started;
  a task already running finishes (or times out) on its worker, unobserved.

This module imports ``distributed`` at its top; :mod:`verify.cli.executor` imports it
only when ``--scheduler`` is given, so the local pool needs no extra dependency.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import queue
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import distributed
from distributed.comm.addressing import get_address_host_port

from verify.cli.inputs import InputError
from verify.cli.isolation import Outcome, run_isolated
from verify.reporting.publish import write_atomic

RETRIES = 2

Item = TypeVar("Item")
Value = TypeVar("Value")
Work = Callable[[Item, Path | None], Value]


@dataclass(frozen=True)
class Shipped(Generic[Value]):
    """A task's value and the files it wrote, by path relative to its directory."""

    value: Value
    files: dict[str, bytes]


def run_on_cluster(
    address: str,
    work: Work[Item, Value],
    items: Sequence[Item],
    *,
    directory: Path | None,
    seconds: float,
    memory_mib: int,
    on_start: Callable[[int], None] | None = None,
    on_finish: Callable[[int, Outcome[Value]], None] | None = None,
) -> list[Outcome[Value]]:
    """``work(item, directory)`` for every item on the cluster at ``address``; see above."""
    events: queue.SimpleQueue[tuple[str, int]] = queue.SimpleQueue()
    # A topic of this run's own: other runs may share the cluster.
    topic = f"verify-started-{uuid.uuid4().hex}"
    with connect(address) as client:
        client.subscribe_topic(topic, lambda event: events.put(("start", event[1])))
        futures = [
            client.submit(
                _task, work, item, index, topic, directory is not None, seconds, memory_mib,
                retries=RETRIES, pure=False,
            )
            for index, item in enumerate(items)
        ]  # fmt: skip
        for index, future in enumerate(futures):
            future.add_done_callback(lambda _, index=index: events.put(("finish", index)))
        return _collect(futures, events, directory, on_start, on_finish)


def connect(address: str) -> distributed.Client:
    """A client of the scheduler at ``address``; InputError if there is none to reach."""
    try:
        # Checked first: a Client that fails to parse its address leaves a thread
        # behind that keeps the process from exiting.
        get_address_host_port(address)
        return distributed.Client(address, set_as_default=False)
    except (OSError, ValueError) as problem:
        raise InputError(f"--scheduler: cannot reach {address}: {problem}") from None


def _collect(
    futures: list[distributed.Future[Outcome[Shipped[Value]]]],
    events: queue.SimpleQueue[tuple[str, int]],
    directory: Path | None,
    on_start: Callable[[int], None] | None,
    on_finish: Callable[[int, Outcome[Value]], None] | None,
) -> list[Outcome[Value]]:
    """Read the events in this thread until every task has its outcome."""
    started: set[int] = set()
    outcomes: dict[int, Outcome[Value]] = {}
    while len(outcomes) < len(futures):
        kind, index = events.get()
        if index in outcomes or (kind == "start" and index in started):
            continue  # a rerun's start, or a start reported after the finish
        if index not in started:
            started.add(index)
            if on_start is not None:
                on_start(index)
        if kind == "finish":
            outcomes[index] = _outcome(futures[index], directory)
            if on_finish is not None:
                on_finish(index, outcomes[index])
    return [outcomes[index] for index in range(len(futures))]


def _outcome(
    future: distributed.Future[Outcome[Shipped[Value]]], directory: Path | None
) -> Outcome[Value]:
    """The task's outcome, its files written under ``directory``."""
    try:
        shipped: Outcome[Shipped[Value]] = future.result()
    except Exception as error:  # retries and reruns exhausted: one line, as locally
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        return Outcome(None, f"{type(error).__name__}: {message} (on the cluster)")
    if shipped.value is None:
        return Outcome(None, shipped.error)
    if directory is not None:
        for name, content in shipped.value.files.items():
            write_atomic(directory / name, content)
    return Outcome(shipped.value.value)


def _task(
    work: Work[Item, Value],
    item: Item,
    index: int,
    topic: str,
    writes_files: bool,
    seconds: float,
    memory_mib: int,
) -> Outcome[Shipped[Value]]:
    """On a worker: ``work`` on one item in an isolated child, as the local pool runs it."""
    distributed.get_worker().log_event(topic, index)
    # Dask's nanny starts its workers as daemonic processes, and multiprocessing refuses
    # children to a daemon lest they outlive it; run_isolated kills or joins its child
    # before it returns, so the refusal protects nothing here.
    multiprocessing.current_process().daemon = False
    _heap_for_chunks()
    shipping = _shipping(work, writes_files)
    return run_isolated(shipping, [item], seconds=seconds, memory_mib=memory_mib)[0]


# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_HEAP_LIMIT = 64 * 2**20


def _heap_for_chunks() -> None:
    """Let the Monte Carlo chunks' temporaries come from the heap, as they do locally.

    Dask's nanny starts each worker with ``MALLOC_TRIM_THRESHOLD_=65536``
    (``distributed.nanny.pre-spawn-environ``).  Setting it also freezes glibc's mmap
    threshold at 128 KiB, so every 256 KiB temporary of a chunk
    (:data:`verify.montecarlo.engine.CHUNK_SIZE`) became a fresh ``mmap`` and its page
    faults: a case ran about three times slower on a worker than in the local pool, most
    of it system time.  Raising both thresholds in the worker (which the isolated child
    inherits) restores the local behaviour; elsewhere than glibc this does nothing.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, _HEAP_LIMIT)
    mallopt(_M_TRIM_THRESHOLD, _HEAP_LIMIT)


def _shipping(work: Work[Item, Value], writes_files: bool) -> Callable[[Item], Shipped[Value]]:
    """``work`` writing into a private directory, whose files it returns with its value."""

    def shipped(item: Item) -> Shipped[Value]:
        if not writes_files:
            return Shipped(work(item, None), {})
        with tempfile.TemporaryDirectory(prefix="verify-") as private:
            root = Path(private)
            value = work(item, root)
            files = sorted(path for path in root.rglob("*") if path.is_file())
            return Shipped(value, {str(p.relative_to(root)): p.read_bytes() for p in files})

    return shipped
