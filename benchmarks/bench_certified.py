"""Certified numbers: ``verify evaluate`` per case against the previous implementation.

Measured here, in one run:

- **evaluate-point time per case**: ``verify evaluate CASE --json`` (all six
  estimators, process start included) at the reference point, for every bundled case
  and for shifted and scaled variants of bundled costs (:data:`VARIANTS`), for this tree
  and for :data:`BASELINE_REVISION` (the last commit before issue 21: nested quadrature
  where SymPy finds no antiderivative, mpmath where no growth bound was proved),
  checked out with ``git worktree`` and run on the same case file, one after the other;
- **the certified radius achieved**: the largest radius relative to its value (or
  absolute, for values below 1e-5) over every number in that JSON;
- **quadrature against mpmath.quad** for the quadrature costs: time and radius of
  one certified expectation against mpmath's tanh-sinh at 40 digits (no bound).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mpmath
import sympy
from _timing import REPO_ROOT, markdown_table, quick_mode

from verify.cases.case_files import discover_cases, load_case
from verify.cases.symbols import EPS
from verify.exact.quadrature import certified_expectation, clear_cache

BASELINE_REVISION = "c97bd08"
# Issue 21's target: any cost a user brings, one point in at most 3 s with process start.
TARGET_SECONDS = 3.0
# Shifted and scaled variants of bundled costs, as a user would write them.
VARIANTS = {
    "variant_shifted_bump": 'r = "exp(-a*(z - b)**2)"\n[parameters]\na = 1\nb = 0.5\n',
    "variant_scaled_sigmoid": 'r = "sigmoid(2*z - 1)"\n',
    "variant_shifted_softplus": 'r = "softplus(z + 1)/2"\n',
    "variant_tanh": 'r = "tanh(k*z)"\n[parameters]\nk = 2\n',
    "variant_atan": 'r = "atan(k*z)"\n[parameters]\nk = 2\n',
    "variant_shifted_cosine": 'r = "cos(k*z + 1)"\n[parameters]\nk = 3\n',
}
TIME_LIMIT = 300.0


def _evaluate_seconds(root: Path, case_path: Path, at: list[str]) -> tuple[float, dict | None]:
    command = [sys.executable, "-m", "verify.cli", "evaluate", str(case_path), "--json"]
    command += [f"--at={a}" for a in at]
    environment = dict(os.environ, PYTHONPATH=str(root))
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, cwd=root, env=environment, capture_output=True, text=True, timeout=TIME_LIMIT
        )
    except subprocess.TimeoutExpired:
        return float("inf"), None
    seconds = time.perf_counter() - start
    return seconds, json.loads(done.stdout) if done.returncode == 0 else None


def _reference(case_path: Path) -> list[str]:
    case = load_case(case_path)
    point = dict(case.reference)
    point |= {name: values[0] for name, values in case.parameters.items()}
    return [f"{name}={value!r}" for name, value in point.items()]


def _worst_radius(record: dict | None) -> str:
    if record is None or "radius" not in record:
        return "none"
    worst = 0.0
    for name, radius in record["radius"].items():
        if radius is None:
            return f"uncertified ({name})"
        value = _value(record, name)
        size = abs(value) if isinstance(value, float) and abs(value) > 1e-5 else 1.0
        worst = max(worst, radius / size)
    return f"{worst:.1e}"


def _value(record: dict, name: str) -> object:
    parts = name.split(".")
    if parts[0] == "objective":
        return record["objective"]
    if parts[0] == "gradient":
        return record["gradient"][parts[1]]
    if parts[1] == "bias":
        return record["bias"][parts[0]][parts[2]]
    estimator = record["estimators"].get(parts[0], {})
    if parts[1] in ("mean", "variance", "baseline"):
        return estimator[parts[1]][parts[2]]
    covariance = estimator.get("covariance")
    if not isinstance(covariance, dict):  # the baseline revision's record: a number, or none
        return covariance
    if parts[1] == "trace":
        return covariance["trace"]
    if len(parts) == 4:  # an explicit dimension: <estimator>.covariance.<a>.<b>, a matrix entry
        components = record["dimension"]["components"]
        return covariance["matrix"][components.index(parts[2])][components.index(parts[3])]
    return covariance["mu_sigma"]


def _variant_paths(directory: Path) -> list[Path]:
    paths = []
    for name, text in VARIANTS.items():
        path = directory / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def evaluate_section() -> str:
    paths = discover_cases(REPO_ROOT / "cases")
    if quick_mode():
        paths = [p for p in paths if p.stem in ("quadratic", "softplus")]
    rows, ratios = [], []
    with tempfile.TemporaryDirectory() as directory:
        if not quick_mode():
            paths += _variant_paths(Path(directory))
        baseline = Path(directory) / "baseline"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(baseline), BASELINE_REVISION],
            cwd=REPO_ROOT, check=True, capture_output=True,
        )  # fmt: skip
        try:
            for path in paths:
                at = _reference(path)
                new, record = _evaluate_seconds(REPO_ROOT, path, at)
                old, _ = _evaluate_seconds(baseline, path, at)
                method = record["method"] if record else "failed"
                ratios.append(old / new)
                rows.append(
                    (path.stem, method, f"{new:.2f}", f"{old:.2f}", f"{old / new:.1f}x",
                     _worst_radius(record))
                )  # fmt: skip
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(baseline)],
                cwd=REPO_ROOT, check=False, capture_output=True,
            )  # fmt: skip
    table = markdown_table(
        ("case", "method", "new (s)", f"{BASELINE_REVISION} (s)", "speed-up", "worst radius"),
        rows,
    )
    closed = [float(r[2]) for r in rows if r[1] == "closed-form"]
    quadrature = [float(r[2]) for r in rows if r[1] == "quadrature"]
    over = [r[0] for r in rows if float(r[2]) > TARGET_SECONDS]
    uncertified = [r[0] for r in rows if r[5].startswith(("uncertified", "none"))]
    summary = (
        f"Slowest closed-form case {max(closed, default=0):.2f} s, slowest quadrature case "
        f"{max(quadrature, default=0):.2f} s; over the {TARGET_SECONDS:g} s target: "
        f"{', '.join(over) or 'none'}; without a certified radius: "
        f"{', '.join(uncertified) or 'none'}. Speed-up against {BASELINE_REVISION}: median "
        f"{sorted(ratios)[len(ratios) // 2]:.1f}x."
    )
    return "\n\n".join(
        [
            "### `verify evaluate` at the reference point (all six estimators, process start "
            "included)",
            "Worst radius: the largest error bound over every number of the JSON, relative to "
            "its value (absolute below 1e-5). Rows `variant_*` are shifted or scaled bundled "
            "costs written as a user would (see `VARIANTS` in `bench_certified.py`).",
            table,
            summary,
        ]
    )


QUADRATURE_INTEGRANDS = {
    "softplus(0.3 + 0.7 eps)^2 eps^2": sympy.log(
        1 + sympy.exp(sympy.Rational(3, 10) + sympy.Rational(7, 10) * EPS)
    )
    ** 2
    * EPS**2,
    "sigmoid(2 eps) eps^4": EPS**4 / (1 + sympy.exp(-2 * EPS)),
    "erf(eps + 1)^2 eps^2": sympy.erf(EPS + 1) ** 2 * EPS**2,
    "tanh(eps) abs(eps - 1/3)": sympy.tanh(EPS) * sympy.Abs(EPS - sympy.Rational(1, 3)),
}


def quadrature_section() -> str:
    rows = []
    for name, integrand in QUADRATURE_INTEGRANDS.items():
        clear_cache()
        start = time.perf_counter()
        ball = certified_expectation(integrand, {})
        certified = time.perf_counter() - start
        function = sympy.lambdify(EPS, integrand, modules="mpmath")
        start = time.perf_counter()
        with mpmath.workdps(40):
            mpmath.quad(lambda x, f=function: f(x) * mpmath.npdf(x), [-mpmath.inf, 0, mpmath.inf])
        plain = time.perf_counter() - start
        rows.append(
            (name, f"{certified * 1000:.0f}", f"{float(ball.rad()):.1e}", f"{plain * 1000:.0f}",
             f"{plain / certified:.1f}x")
        )  # fmt: skip
    return "\n\n".join(
        [
            "### One expectation: certified quadrature against mpmath.quad at 40 digits",
            markdown_table(
                ("integrand", "certified (ms)", "radius", "mpmath.quad (ms)", "speed-up"), rows
            ),
        ]
    )


def section() -> str:
    """Certified evaluation: time per point against the baseline, radii, quadrature."""
    return "\n\n".join(["## Certified numbers", evaluate_section(), quadrature_section()])
