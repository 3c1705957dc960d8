"""Where the cases run: the local process pool (the default) or a Dask cluster.

The contract: :func:`run_cases` runs ``work(item, directory)`` for every item and
returns one :class:`~verify.cli.isolation.Outcome` per item, in input order, observed
through ``on_start`` and ``on_finish`` as :func:`~verify.cli.isolation.run_isolated`
describes.  Without a scheduler the items run in local children, ``jobs`` at a time
(:mod:`verify.cli.isolation`); with ``scheduler`` (an address, ``--scheduler``) each
runs in such a child on a worker of that Dask cluster (:mod:`verify.cli.distributed`),
and the values and the files written under ``directory`` are the same.

``distributed`` is imported only when a scheduler is given, so the default needs no
extra dependency; without the extra, ``--scheduler`` is bad input (one line, exit 2).
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from verify.cli.inputs import InputError
from verify.cli.isolation import DEFAULT_MEMORY_MIB, DEFAULT_SECONDS, Outcome, run_isolated

MISSING_EXTRA = "--scheduler needs the distributed extra: pip install 'verify[distributed]'"

Item = TypeVar("Item")
Value = TypeVar("Value")


def run_cases(
    work: Callable[[Item, Path | None], Value],
    items: Sequence[Item],
    *,
    directory: Path | None,
    scheduler: str | None = None,
    jobs: int = 1,
    seconds: float = DEFAULT_SECONDS,
    memory_mib: int = DEFAULT_MEMORY_MIB,
    on_start: Callable[[int], None] | None = None,
    on_finish: Callable[[int, Outcome[Value]], None] | None = None,
) -> list[Outcome[Value]]:
    """``work(item, directory)`` for every item, locally or on ``scheduler``'s cluster."""
    if scheduler is None:
        return run_isolated(
            functools.partial(_call, work, directory),
            items,
            seconds=seconds,
            memory_mib=memory_mib,
            jobs=jobs,
            on_start=on_start,
            on_finish=on_finish,
        )
    try:
        from verify.cli.distributed import run_on_cluster
    except ModuleNotFoundError as missing:
        if (missing.name or "").partition(".")[0] not in ("dask", "distributed"):
            raise  # not the extra: a bug to report as such
        raise InputError(MISSING_EXTRA) from None
    return run_on_cluster(
        scheduler,
        work,
        items,
        directory=directory,
        seconds=seconds,
        memory_mib=memory_mib,
        on_start=on_start,
        on_finish=on_finish,
    )


def add_scheduler_option(parser: argparse.ArgumentParser, what: str) -> None:
    """Register ``--scheduler ADDRESS`` on ``parser``; ``what`` says what is sent."""
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help=f"send {what} to the Dask cluster of this scheduler (e.g. tcp://host:8786; "
        "needs pip install 'verify[distributed]'; --jobs is then the cluster's)",
    )


def _call(work: Callable[[Item, Path | None], Value], directory: Path | None, item: Item) -> Value:
    return work(item, directory)
