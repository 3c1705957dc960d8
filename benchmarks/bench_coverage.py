"""Verification coverage: which Monte Carlo checks run, which skip and why, and what they catch.

Measured here, in one run, with the command a user would type:

- **skipped checks by reason**: ``verify check cases/*.toml --json`` (planned sample
  sizes, the default seed); every skipped check's reason, with numbers folded to ``N``
  so that one reason at several points counts once, and whether the reason is an
  infinite or undefined moment (the only skips issue 21 allows);
- **power where it counts**: the checks below the planned power of 0.99 against a
  2% error (the 2^24 cap binds), by estimator;
- **the self-test**: ``verify check CASE --perturb variance=1.02`` on cosine,
  quadratic and gaussian_bump: the share of variance checks (score_loo's included) that
  a 2% error in every exact variance makes fail.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from _timing import REPO_ROOT, markdown_table, quick_mode

from verify.cases.case_files import discover_cases

PERTURBED_CASES = ("cosine", "quadratic", "gaussian_bump")
# Reasons a check may skip because the moment it needs does not exist.
_LEGITIMATE = re.compile(r"infinite|undefined|diverge|does not exist|not finite|nan", re.I)
CHECK_TIME_LIMIT = 1800.0


def _check(paths: list[str], *options: str) -> tuple[dict[str, Any], float]:
    command = [sys.executable, "-m", "verify.cli", "check", *paths, "--json", *options]
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=CHECK_TIME_LIMIT
    )
    seconds = time.perf_counter() - start
    if not done.stdout.strip():
        raise RuntimeError(f"verify check printed nothing: {done.stderr[-2000:]}")
    return json.loads(done.stdout), seconds


def _checks(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [check for case in document["cases"] for check in case["checks"]]


def _folded(reason: str) -> str:
    return re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "N", reason)


def skipped_section(paths: list[str]) -> str:
    document, seconds = _check(paths)
    checks = _checks(document)
    skipped = [check for check in checks if check["passed"] is None]
    reasons = Counter(_folded(check.get("reason", "no reason given")) for check in skipped)
    rows = [
        (f"`{reason}`", str(count), "yes" if _LEGITIMATE.search(reason) else "**no**")
        for reason, count in reasons.most_common()
    ]
    low = Counter(
        check["estimator"]
        for check in checks
        if isinstance(check.get("power"), float) and check["power"] < 0.99
    )
    low_rows = [(estimator, str(count)) for estimator, count in sorted(low.items())]
    others = sum(int(count) for _, count, legitimate in rows if legitimate == "**no**")
    return "\n\n".join(
        [
            "### Skipped checks by reason",
            f"`verify check` over {len(paths)} cases (planned sample sizes, default seed): "
            f"{len(checks)} checks, {len(skipped)} skipped, {others} of them for a reason "
            f"other than an infinite or undefined moment; {seconds:.0f} s wall.",
            markdown_table(
                ("reason (numbers as N)", "checks", "moment infinite or undefined"), rows
            )
            if rows
            else "No check was skipped.",
            "Checks below 0.99 power against a 2% error (the 2^24 cap binds), by estimator:",
            markdown_table(("estimator", "checks"), low_rows) if low_rows else "None.",
        ]
    )


def perturbed_section() -> str:
    rows = []
    for name in PERTURBED_CASES:
        path = str(REPO_ROOT / "cases" / f"{name}.toml")
        document, seconds = _check([path], "--perturb", "variance=1.02")
        variance = [
            check
            for check in _checks(document)
            if check["statistic"] == "variance" and check["passed"] is not None
        ]
        caught = sum(1 for check in variance if check["passed"] is False)
        loo = [check for check in variance if check["estimator"] == "score_loo"]
        loo_caught = sum(1 for check in loo if check["passed"] is False)
        share = caught / len(variance) if variance else float("nan")
        rows.append(
            (name, str(len(variance)), str(caught), f"{share:.1%}",
             f"{loo_caught} of {len(loo)}", f"{seconds:.0f}")
        )  # fmt: skip
    return "\n\n".join(
        [
            "### The self-test: every exact variance times 1.02",
            "`verify check cases/NAME.toml --perturb variance=1.02`: the variance checks that "
            "fail (target: at least 99%, score_loo's included).  An exact variance of 0 "
            "(a deterministic estimator, e.g. quadratic's coupled measure-valued mu at k = 1) "
            "is perturbed on the estimator's scale, to 0.02 E[g^2] (verify.montecarlo.perturb): "
            "a factor would leave it 0.",
            markdown_table(
                (
                    "case",
                    "variance checks",
                    "failed",
                    "share",
                    "score_loo failed",
                    "wall (s)",
                ),
                rows,
            ),
        ]
    )


def section() -> str:
    """Verification coverage: skipped checks by reason, low power, the perturbation self-test."""
    paths = [str(path) for path in discover_cases(REPO_ROOT / "cases")]
    if quick_mode():
        paths = [p for p in paths if p.endswith(("quadratic.toml", "dimension_sum_cosine.toml"))]
        return "\n\n".join(["## Verification coverage", skipped_section(paths)])
    return "\n\n".join(["## Verification coverage", skipped_section(paths), perturbed_section()])
