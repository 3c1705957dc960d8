"""Monte Carlo verification benchmarks: throughput, memory, power and false-alarm calibration.

The contract: :func:`section` returns a markdown section whose every number is measured
(or, for the detectable errors, computed from exact moments) while it runs:

1. (throughput: see ``bench_throughput.py``, its own section);
2. the tracemalloc peak of one 1e8-sample stream, against the chunk size;
3. the smallest relative variance error the default sample size detects, from the exact
   standard error and the threshold of a full run (cosine, quadratic, exponential):
   the classic estimators at several parameter values, and all six estimators at the
   reference point, with the smallest detectable covariance error (as a correlation);
4. the false-alarm rate of every check of the bundled cases (means, variances and
   covariances) rerun with many seeds at a relaxed per-check alpha (1e-2 and 1e-3),
   observed against designed counts;
5. the wall time of ``verify check`` on every bundled case at the planned sample sizes;
6. the measured fraction of variance checks that a 2% variance error fails, at the
   planned sample sizes, with ``verify check --perturb`` (``_power.py``).

``--quick`` (``_timing.quick_mode``) shrinks every part to a smoke run.
"""

from __future__ import annotations

import math
import resource
import subprocess
import sys
import time
import tracemalloc

from _detectable import detectable, detectable_all, stream
from _power import ISSUE_CASES, perturbation_power
from _timing import REPO_ROOT, markdown_table, quick_mode

from verify.cases.case_files import discover_cases, load_cases
from verify.montecarlo.checks import count_checks, plan_streams
from verify.montecarlo.covariance import judge_covariance
from verify.montecarlo.engine import (
    CHUNK_SIZE,
    DEFAULT_SAMPLES,
    sample_moments,
    sample_pair,
    stream_seed,
)
from verify.montecarlo.sample_size import MAX_SAMPLES, MIN_PLANNED, POWER, RELATIVE_ERROR
from verify.montecarlo.significance import judge, threshold

RELAXED = (1e-2, 1e-3)


def peak_memory(samples: int) -> tuple[int, float]:
    sampler, _ = stream("quadratic", 0.0, "pathwise", "mu")
    tracemalloc.start()
    start = time.perf_counter()
    try:
        sample_moments(sampler, stream_seed(1, "memory", 0, 0), samples)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, time.perf_counter() - start


def calibration(paths: list, seeds: int, samples: int) -> tuple[str, int]:  # type: ignore[type-arg]
    cases, _ = load_cases(paths)
    streams = [
        (case.name, stream.key, stream.pair, stream.exact)
        for case in cases
        for stream in plan_streams(case)
        if stream.exact is not None and stream.pair is not None
    ]
    thresholds = {alpha: threshold(1, family_wise_alpha=alpha) for alpha in RELAXED}
    made = dict.fromkeys(RELAXED, 0)
    failed = dict.fromkeys(RELAXED, 0)
    for seed in range(seeds):
        for name, key, pair, exact in streams:
            sample = sample_pair(pair, stream_seed(seed, name, *key), samples)
            for alpha, t in thresholds.items():
                outcomes = [
                    *judge(exact.mu, sample.mu, samples, t),
                    *judge(exact.sigma, sample.sigma, samples, t),
                    judge_covariance(exact, sample, samples, t),
                ]
                judged = [o for o in outcomes if o.passed is not None]
                made[alpha] += len(judged)
                failed[alpha] += sum(1 for o in judged if o.passed is False)
    rows = []
    for alpha in RELAXED:
        expected = alpha * made[alpha]
        spread = 2.576 * math.sqrt(expected * (1 - alpha))
        rows.append(
            (
                f"{alpha:g}",
                f"{made[alpha]:,}",
                f"{expected:.1f} (99%: {max(expected - spread, 0):.0f}-{expected + spread:.0f})",
                f"{failed[alpha]}",
                f"{failed[alpha] / max(expected, 1e-300):.2f}",
            )
        )
    headers = ("alpha per check", "checks made", "designed false alarms", "observed", "ratio")
    return markdown_table(headers, rows), len(streams)


def full_check_seconds(paths: list) -> tuple[float, float, int]:  # type: ignore[type-arg]
    """Wall and CPU seconds (the command and its case processes) of ``verify check``."""
    command = [sys.executable, "-m", "verify.cli", "check", *map(str, paths), "--jobs", "2"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def section() -> str:
    quick = quick_mode()
    paths = discover_cases(REPO_ROOT / "cases")
    cases, _ = load_cases(paths)
    family = sum(count_checks(case) for case in cases)
    memory_samples = 10**6 if quick else 10**8
    peak, seconds = peak_memory(memory_samples)
    seeds, calibration_samples = (2, 10_000) if quick else (40, 2**15)
    calibration_paths = paths[:2] if quick else paths
    calibrated, streams = calibration(calibration_paths, seeds, calibration_samples)
    lines = [
        "## Monte Carlo verification",
        "",
        f"Fixed-N tables: {DEFAULT_SAMPLES:,} samples per stream (the least `verify check` "
        f"plans; see below for the planned sizes), chunks of {CHUNK_SIZE:,} float64 "
        f"values; the {len(cases)} bundled cases make {family} checks, so a full run's "
        f"per-check alpha is 1e-6/{family} = {1e-6 / family:.2g} and |z| <= "
        f"{threshold(family):.3f} (before the skewness correction).",
        "",
        'Throughput of every estimator against raw RNG: the section "Monte Carlo '
        'throughput" (`bench_throughput.py`).',
        "",
        "### Memory",
        "",
        f"tracemalloc peak of one {memory_samples:.0e}-sample stream: {peak / 2**10:,.0f} KiB "
        f"({peak / (CHUNK_SIZE * 8):.1f} chunks of {CHUNK_SIZE * 8 / 2**10:.0f} KiB; "
        f"the samples themselves would take {memory_samples * 8 / 2**20:,.0f} MiB), "
        f"in {seconds:.1f} s.",
        "",
        "### Smallest detectable variance error",
        "",
        f"A variance formula off by a factor (1 + delta) is flagged at N = {DEFAULT_SAMPLES:,} "
        f"with probability 1/2 when delta = t * SE(s^2) / sigma^2, and 0.99 at (t + 2.33) * "
        "SE / sigma^2, with SE from the exact fourth moment and t the full run's threshold. "
        "Cells: 50% / 99% detection.",
        "",
        detectable(family),
        "",
        "All six estimators at mu = sigma = 1 (the point `verify check` checks the further "
        "estimators at). Covariance cells: the smallest covariance error flagged, divided by "
        "sigma_mu sigma_sigma (a correlation), at 50% / 99% detection.",
        "",
        detectable_all(family),
        "",
        "### False-alarm calibration",
        "",
        f"Every check of {len(calibration_paths)} bundled cases ({streams} joint streams, "
        "each checked for both means, both variances and the covariance) rerun with "
        f"{seeds} seeds at N = "
        f"{calibration_samples:,} (smaller than the default, so the normal approximation is "
        "tested where it is weakest) and a relaxed per-check alpha. The design rate of a "
        f"real run is 1e-6 per full run: alpha = 1e-6/{family} per check.",
        "",
        calibrated,
    ]
    lines += [
        "",
        "### Detection of a 2% variance error at the planned N",
        "",
        f"`verify check` of {', '.join(ISSUE_CASES)} with each stream's N planned for "
        f"{POWER:.0%} power against a {RELATIVE_ERROR:.0%} variance error "
        f"({MIN_PLANNED:,} to {MAX_SAMPLES:,} samples), unperturbed and with every exact "
        "variance multiplied by 1.02 or 0.98 (`--perturb`); measured, not computed.",
        "",
        perturbation_power(),
    ]
    if not quick:
        wall, cpu, code = full_check_seconds(paths)
        lines += [
            "",
            "### Full run",
            "",
            f"`verify check` of all {len(paths)} bundled cases at the planned N with "
            f"`--jobs 2`: {wall:.1f} s wall time, {cpu:.1f} s of CPU in all its processes "
            f"(so about {cpu / 2:.0f} s of wall time on 2 otherwise idle cores); exit code {code}.",
        ]
    return "\n".join(lines)
