"""Wall times of the two CI jobs, measured here.

- the main job's work: ``verify run --no-reports`` over every bundled case (derive,
  evaluate, map, cross over and check; the virtualenv and report writing excluded),
  with the count of passed, failed and skipped checks from its JSON (the skips by reason
  are ``bench_coverage.py``'s);
- the test suite: ``pytest -n auto -m "not slow"``, as ``nox -s tests`` runs it.

Quick mode (``run.py --quick``, used by the tests) times nothing and says so.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import time

from _timing import REPO_ROOT, markdown_table, quick_mode


def _timed(command: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    environment = dict(os.environ, VERIFY_HYPOTHESIS_PROFILE="ci")
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True)
    return time.perf_counter() - start, done


def section() -> str:
    """The CI jobs' wall times."""
    if quick_mode():
        return "## CI wall times\n\n(quick mode: not measured)"
    verify = [sys.executable, "-m", "verify.cli", "run", "--no-reports", "--json"]
    run_seconds, run = _timed(verify)
    record = json.loads(run.stdout)
    checks = [c for case in record["cases"] for c in case.get("checks", {}).get("checks", [])]
    outcome = collections.Counter(
        {True: "passed", False: "failed", None: "skipped"}[c["passed"]] for c in checks
    )
    pytest = [sys.executable, "-m", "pytest", "-n", "auto", "-q", "-m", "not slow"]
    # pytest-benchmark, where a machine has it, refuses to run under xdist: kept out.
    test_seconds, tests = _timed([*pytest, "-p", "no:cacheprovider", "-p", "no:benchmark"])
    summary = tests.stdout.strip().splitlines()[-1] if tests.stdout.strip() else "no output"
    if tests.returncode != 0:  # a suite that did not run is no wall time: fail the section
        raise RuntimeError(f"pytest exited {tests.returncode}: {summary}")
    counts = ", ".join(f"{outcome[k]} {k}" for k in ("passed", "failed", "skipped"))
    rows = [
        ("verify run --no-reports (all cases)", f"{run_seconds:.0f}", counts),
        ("pytest -n auto -m 'not slow'", f"{test_seconds:.0f}", summary),
    ]
    return "\n\n".join(
        [
            "## CI wall times",
            markdown_table(("job", "wall (s)", "result"), rows),
            "The skipped checks by reason are under *Verification coverage*.",
        ]
    )
