"""Scale-out: ``verify run`` on a Dask LocalCluster of 1, 2 and 4 workers against the local pool.

Each configuration runs ``verify run --no-reports --json --quiet`` over the same cases
in a fresh process, timed from process start to exit: the local process pool with its
default ``--jobs 2``, then ``--scheduler`` on a ``distributed.LocalCluster`` of N
single-threaded worker processes (started before the clock, so the cluster's start is
not timed; the workers' first imports are).  The figure is each wall time over the
local pool's.  The JSON of every configuration, less its per-case seconds, must equal
the local pool's, or the section fails.

The cases are a representative subset of the bundled ones (:data:`CASES`: closed
forms, kinks, quadrature, a d-dimensional case) at the planned sample sizes: all 27
would take about 3 minutes per configuration on 2 cores.  Quick mode (``--quick``)
runs two small cases at 10,000 samples on 1 and 2 workers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from _timing import REPO_ROOT, markdown_table, quick_mode

CASES = (
    "cosine", "exponential", "quadratic", "relu", "step",
    "two_kinks", "sigmoid", "dimension_sum_quadratic",
)  # fmt: skip
QUICK_CASES = ("constant", "linear")
WORKERS = (1, 2, 4)
QUICK_WORKERS = (1, 2)


def _timed_run(cases: tuple[str, ...], extra: list[str]) -> tuple[float, dict[str, Any]]:
    """Wall seconds of one ``verify run`` and its JSON, less the per-case seconds."""
    paths = [str(REPO_ROOT / "cases" / f"{name}.toml") for name in cases]
    command = [sys.executable, "-m", "verify.cli", "run", "--no-reports", "--json", "--quiet"]
    environment = dict(os.environ, VERIFY_HYPOTHESIS_PROFILE="ci")
    start = time.perf_counter()
    done = subprocess.run(
        [*command, *extra, *paths], cwd=REPO_ROOT, env=environment, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"verify run {' '.join(extra)} exited {done.returncode}: {tail}")
    document: dict[str, Any] = json.loads(done.stdout)
    for record in document["cases"]:
        del record["seconds"]
    return seconds, document


def _on_cluster(workers: int, cases: tuple[str, ...], extra: list[str]) -> tuple[float, Any]:
    """:func:`_timed_run` with ``--scheduler`` on a fresh LocalCluster of ``workers``."""
    import distributed  # the extra: installed by nox -s bench

    with distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        return _timed_run(cases, [*extra, "--scheduler", cluster.scheduler_address])


def section() -> str:
    """Wall times of the local pool and of 1, 2 and 4 LocalCluster workers, as ratios."""
    quick = quick_mode()
    cases, workers = (QUICK_CASES, QUICK_WORKERS) if quick else (CASES, WORKERS)
    extra = ["--samples", "10000"] if quick else []
    local_seconds, local = _timed_run(cases, extra)
    rows = [("local process pool, --jobs 2 (default)", f"{local_seconds:.1f}", "1.00")]
    for count in workers:
        seconds, document = _on_cluster(count, cases, extra)
        if document != local:
            raise RuntimeError(f"{count} worker(s): the JSON differs from the local pool's")
        ratio = f"{seconds / local_seconds:.2f}"
        rows.append((f"LocalCluster, {count} worker(s) x 1 thread", f"{seconds:.1f}", ratio))
    samples = "10,000 samples per stream (quick mode)" if quick else "the planned sample sizes"
    return "\n\n".join(
        [
            "## Scale-out on Dask",
            f"`verify run --no-reports` over {len(cases)} bundled cases "
            f"({', '.join(cases)}) at {samples}, in a fresh process per configuration "
            f"(wall time, process start included; {os.cpu_count()} CPUs here). With "
            "`--scheduler`, each case is a Dask task running the same isolated child on "
            "its worker; the cluster is started before the clock. The JSON of every "
            "configuration, less its timings, equals the local pool's.",
            markdown_table(("configuration", "wall (s)", "over the local pool"), rows),
        ]
    )
