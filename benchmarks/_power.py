"""Measured detection of a 2% variance error by ``verify check`` at the planned sample sizes.

The contract: :func:`perturbation_power` runs ``verify check`` on the given cases (by
default the quadratic, cosine and Gaussian bump of the issue) as a subprocess, once
unperturbed and once each with ``--perturb variance=1.02`` and ``variance=0.98``, and
returns a markdown table of what it measured: variance checks made, the fraction
failed, skipped checks, variance checks below the 0.99 design power, and wall time.
Used by ``bench_montecarlo.py``; ``python benchmarks/_power.py`` prints the table.
In quick mode (``_timing.quick_mode``) one case at ``--samples 10000`` (a smoke run:
the fractions then say nothing about the design).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _timing import REPO_ROOT, markdown_table, quick_mode

ISSUE_CASES = ("quadratic", "cosine", "gaussian_bump")
PERTURBATIONS = (None, "variance=1.02", "variance=0.98")


def run_check(paths: list[Path], perturb: str | None, extra: list[str]) -> tuple[Any, float]:
    """The JSON document of one ``verify check --json`` run and its wall time."""
    command = [sys.executable, "-m", "verify.cli", "check", *map(str, paths), "--json", *extra]
    if perturb is not None:
        command += ["--perturb", perturb]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise RuntimeError(f"verify check exited {done.returncode}: {done.stderr.strip()}")
    return json.loads(done.stdout), wall


def summary(document: Any) -> dict[str, int]:
    """Counts of one run: variance checks made and failed, skipped checks, under-powered."""
    checks = [check for case in document["cases"] for check in case["checks"]]
    made = [c for c in checks if c["statistic"] == "variance" and c["passed"] is not None]
    return {
        "made": len(made),
        "failed": sum(1 for c in made if c["passed"] is False),
        "skipped": int(document["checks_skipped"]),
        "checks": len(checks),
        "below": int(document.get("checks_below_power", 0)),
    }


def perturbation_power(names: tuple[str, ...] = ISSUE_CASES) -> str:
    """The markdown table of the module docstring."""
    quick = quick_mode()
    paths = [REPO_ROOT / "cases" / f"{name}.toml" for name in names[: 1 if quick else None]]
    extra = ["--samples", "10000"] if quick else []
    rows = []
    for perturb in PERTURBATIONS:
        document, wall = run_check(paths, perturb, extra)
        counts = summary(document)
        rows.append(
            (
                perturb or "none",
                f"{counts['made']}",
                f"{counts['failed']} ({counts['failed'] / max(counts['made'], 1):.1%})",
                f"{counts['skipped']} of {counts['checks']}",
                f"{counts['below']}",
                f"{wall:.1f}",
            )
        )
    headers = ("--perturb", "variance checks made", "failed", "checks skipped")
    return markdown_table((*headers, "below 0.99 power", "wall time (s)"), rows)


if __name__ == "__main__":
    print(perturbation_power())
