"""Run one case's work in a child process with a time and memory limit.

The contract: :func:`run_isolated` runs ``work(item)`` for each item in a forked
child, at most ``jobs`` at a time, and returns one :class:`Outcome` per item in
input order: the (picklable) value, or a one-line error -- the exception's message,
"timed out after N s", or "out of memory (limit N MiB)".  A case that explodes
(``(z+1)**64`` expanded to the fourth power, a runaway simplification) is stopped
and reported; the other cases still run.  The limits are the defaults of
``verify run`` (:data:`DEFAULT_SECONDS`, :data:`DEFAULT_MEMORY_MIB`) and can be set
there with ``--case-timeout`` and ``--case-memory``.

Progress is observed in the parent, as it happens: ``on_start(index)`` right after
item ``index``'s process starts, and ``on_finish(index, outcome)`` as soon as its
outcome is known (in completion order, not input order); ``verify run`` draws its
progress from these (:mod:`verify.cli.progress`).  If a callback raises, or the
parent is interrupted, the children still running are killed before the exception
propagates.  On Linux a child also dies with its parent (``PR_SET_PDEATHSIG``): a
killed ``verify run``, or a lost Dask worker (:mod:`verify.cli.distributed`), leaves
no child running on, unwatched and past its deadline.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Generic, TypeVar

DEFAULT_SECONDS = 900.0
DEFAULT_MEMORY_MIB = 4096
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

Item = TypeVar("Item")
Value = TypeVar("Value")


@dataclass(frozen=True)
class Outcome(Generic[Value]):
    """A child's value, or why there is none."""

    value: Value | None
    error: str | None = None


@dataclass
class _Running:
    index: int
    process: BaseProcess
    receiver: Connection
    deadline: float


def run_isolated(
    work: Callable[[Item], Value],
    items: Sequence[Item],
    *,
    seconds: float = DEFAULT_SECONDS,
    memory_mib: int = DEFAULT_MEMORY_MIB,
    jobs: int = 1,
    on_start: Callable[[int], None] | None = None,
    on_finish: Callable[[int, Outcome[Value]], None] | None = None,
) -> list[Outcome[Value]]:
    """``work(item)`` for every item, each in its own process with the given limits.

    ``on_start`` and ``on_finish`` observe progress (see the module docstring).
    """
    outcomes: dict[int, Outcome[Value]] = {}
    pending = list(enumerate(items))
    running: list[_Running] = []
    try:
        while pending or running:
            while pending and len(running) < max(jobs, 1):
                index, item = pending.pop(0)
                running.append(_start(work, index, item, seconds, memory_mib))
                if on_start is not None:
                    on_start(index)
            deadline = min(child.deadline for child in running)
            ready = wait([c.receiver for c in running], max(deadline - time.monotonic(), 0))
            for child in list(running):
                outcome: Outcome[Value]
                if child.receiver in ready:
                    outcome = _receive(child, memory_mib)
                elif time.monotonic() >= child.deadline:
                    _stop(child)
                    outcome = Outcome(None, f"timed out after {seconds:g} s")
                else:
                    continue
                running.remove(child)
                outcomes[child.index] = outcome
                if on_finish is not None:
                    on_finish(child.index, outcome)
    finally:
        for child in running:  # only after an exception: no child outlives the call
            _stop(child)
    return [outcomes[index] for index in range(len(items))]


def _stop(child: _Running) -> None:
    child.process.kill()
    child.process.join()


def _start(
    work: Callable[[Item], Value], index: int, item: Item, seconds: float, memory_mib: int
) -> _Running:
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    parent = os.getpid()
    process = context.Process(target=_child, args=(work, item, sender, memory_mib, parent))
    process.start()
    sender.close()  # the child holds the only writer, so its death reads as EOF
    return _Running(index, process, receiver, time.monotonic() + seconds)


def _child(
    work: Callable[[Item], Value], item: Item, sender: Connection, memory_mib: int, parent: int
) -> None:
    _die_with(parent)
    limit = memory_mib * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        sender.send(Outcome(work(item)))
    except MemoryError:
        sender.send(Outcome(None, f"out of memory (limit {memory_mib} MiB)"))
    except Exception as error:  # the child reports every failure as one line
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        detail = traceback.extract_tb(error.__traceback__)[-1]
        sender.send(Outcome(None, f"{type(error).__name__}: {message} (at {detail.name})"))
    finally:
        sender.close()


def _die_with(parent: int) -> None:
    """Linux: SIGKILL this process when its parent dies; exit now if it already has."""
    if sys.platform != "linux":
        return
    # The signal follows the parent *thread*; run_isolated's thread waits for the child.
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)


def _receive(child: _Running, memory_mib: int) -> Outcome[Value]:
    try:
        outcome: Outcome[Value] = child.receiver.recv()
    except EOFError:
        child.process.join()
        code = child.process.exitcode
        reason = f"out of memory (limit {memory_mib} MiB)" if code == -9 else f"exit {code}"
        return Outcome(None, f"the case's process died ({reason})")
    child.process.join()
    return outcome
