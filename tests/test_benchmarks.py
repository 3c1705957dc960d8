"""The benchmark runner's contract (benchmarks/run.py) and its helpers; no timing assertions.

The runner is exercised on stub benchmark modules (fast, and able to show each
failure it must catch) and once, in ``--quick`` mode, on the real derivation
benchmark, checking only the shape of the markdown it writes.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent
RUNNER = REPO / "benchmarks" / "run.py"

STUB_A = 'def section() -> str:\n    return "## Alpha\\n\\nalpha measured"\n'
STUB_B = (
    "import os\n\n"
    "def section() -> str:\n"
    "    return f\"## Beta\\n\\nquick={os.environ.get('VERIFY_BENCH_QUICK')}\"\n"
)


def run_runner(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RUNNER), *arguments],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )


@pytest.fixture
def stub_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "bench"
    directory.mkdir()
    (directory / "bench_b.py").write_text(STUB_B)
    (directory / "bench_a.py").write_text(STUB_A)
    (directory / "helper.py").write_text("raise RuntimeError('not a bench module')\n")
    return directory


@pytest.fixture
def bench_modules(monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    import _baselines
    import _timing
    import bench_coverage
    import bench_derivation

    return {
        "timing": _timing,
        "baselines": _baselines,
        "derivation": bench_derivation,
        "coverage": bench_coverage,
    }


def test_runner_writes_header_and_sections_in_name_order(stub_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.md"
    done = run_runner("--bench-dir", str(stub_dir), "--output", str(output), "--quick")
    assert done.returncode == 0, done.stderr
    text = output.read_text()
    assert text.startswith("# Benchmarks\n")
    measured_on = r"^Measured on: Python \d+\.\d+\.\d+ .*sympy .*CPUs, .*load average"
    assert re.search(measured_on, text, re.M)
    assert text.index("## Alpha") < text.index("## Beta")
    assert "quick=1" in text  # --quick reaches the modules
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)  # no dates: reproducible text


def test_only_runs_one_module_and_full_mode_is_not_quick(stub_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.md"
    done = run_runner("--bench-dir", str(stub_dir), "--output", str(output), "--only", "b")
    assert done.returncode == 0, done.stderr
    text = output.read_text()
    assert "## Beta" in text
    assert "quick=None" in text
    assert "## Alpha" not in text


def test_only_into_an_existing_report_replaces_its_section_and_keeps_the_rest(
    stub_dir: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out.md"
    assert run_runner("--bench-dir", str(stub_dir), "--output", str(output)).returncode == 0
    (stub_dir / "bench_b.py").write_text(STUB_B.replace("quick=", "again quick="))
    (stub_dir / "bench_c.py").write_text(STUB_A.replace("Alpha", "Gamma"))
    for name in ("b", "c"):
        done = run_runner("--bench-dir", str(stub_dir), "--output", str(output), "--only", name)
        assert done.returncode == 0, done.stderr
    text = output.read_text()
    assert text.startswith("# Benchmarks\n")
    assert text.count("## Alpha") == text.count("## Beta") == text.count("## Gamma") == 1
    assert "again quick=None" in text
    assert "\nquick=None" not in text  # the old Beta is gone
    assert text.index("## Alpha") < text.index("## Beta") < text.index("## Gamma")
    assert text.count("Measured alone by `run.py --only") == 2


def test_unknown_only_name_is_bad_usage(stub_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.md"
    done = run_runner("--bench-dir", str(stub_dir), "--output", str(output), "--only", "nope")
    assert done.returncode == 2
    assert "no benchmark named 'nope'" in done.stderr
    assert not output.exists()


@pytest.mark.parametrize(
    "source",
    [
        "x = 1\n",  # no section()
        "def section() -> str:\n    return 42\n",  # not a string
        "def section() -> str:\n    raise ZeroDivisionError('boom')\n",
    ],
)
def test_a_broken_module_fails_the_run_and_writes_nothing(
    stub_dir: Path, tmp_path: Path, source: str
) -> None:
    (stub_dir / "bench_c.py").write_text(source)
    output = tmp_path / "out.md"
    done = run_runner("--bench-dir", str(stub_dir), "--output", str(output))
    assert done.returncode == 1
    assert "bench_c failed" in done.stderr
    assert not output.exists()


def test_quick_derivation_benchmark_has_its_tables(tmp_path: Path) -> None:
    output = tmp_path / "out.md"
    done = run_runner("--quick", "--only", "derivation", "--output", str(output))
    assert done.returncode == 0, done.stderr
    text = output.read_text()
    assert re.search(
        r"\| case \| r \| derive \+ \d+ formulas: median s \(min-max\) \| method \|", text
    )
    assert (
        "| expectation | ours (ms) | sympy.stats `E` | ratio | `sympy.integrate` | ratio "
        "| agree? |" in text
    )
    assert "target: every case under 1 s:" in text
    assert "Target: at least 30x faster than sympy.stats" in text
    assert "| E[r], r = (z-k)**2 |" in text


def test_quick_throughput_benchmark_has_a_row_and_a_verdict_per_estimator(
    tmp_path: Path,
) -> None:
    output = tmp_path / "out.md"
    done = run_runner("--quick", "--only", "throughput", "--output", str(output))
    assert done.returncode == 0, done.stderr
    text = output.read_text()
    assert "| of raw RNG | of its baseline | target | meets target |" in text
    rows = re.findall(
        r"^\| (?:cosine|quadratic|exponential|erf) .*\| (yes|\*\*no\*\*) \|$", text, re.M
    )
    assert len(rows) == 4 * 6  # four costs, six estimators: no row left out
    assert re.search(r"one eps: \d+ of 16 meet the target", text)


def test_throughput_verdict_follows_the_family_target(
    bench_modules: dict[str, ModuleType],
) -> None:
    import bench_throughput

    row = bench_throughput.Row("c", "score", True, stream=5.0, raw=20.0, raw_and_cost=10.0)
    assert row.fraction == 0.5
    assert row.meets
    multi = bench_throughput.Row(
        "c", "measure_valued", False, stream=5.0, raw=20.0, raw_and_cost=10.0
    )
    assert multi.fraction == 0.25
    assert not multi.meets


def test_measure_reports_a_timeout(bench_modules: dict[str, ModuleType]) -> None:
    timing = bench_modules["timing"]
    result = timing.measure(
        lambda: time.sleep(5), clear=lambda: None, limit=0.05, repeats=3, repeat_below=1.0
    )
    assert result.status == "timeout"


def test_measure_repeats_only_cheap_calls(bench_modules: dict[str, ModuleType]) -> None:
    timing = bench_modules["timing"]
    cleared: list[int] = []
    cheap = timing.measure(
        lambda: 7, clear=lambda: cleared.append(1), limit=5.0, repeats=3, repeat_below=60.0
    )
    assert (cheap.status, len(cheap.seconds), cheap.result, len(cleared)) == ("ok", 3, 7, 3)
    once = timing.measure(lambda: 7, clear=lambda: None, limit=5.0, repeats=3, repeat_below=0.0)
    assert len(once.seconds) == 1


def test_agreement_catches_a_wrong_digit(bench_modules: dict[str, ModuleType]) -> None:
    agree = bench_modules["baselines"].agree
    ours = ["0.123456789012345678", "0"]
    assert agree(ours, ["0.123456789012345678000001", "0"])
    assert not agree(ours, ["0.123456789012355678", "0"])  # 14th digit differs
    assert not agree(ours, ["0.123456789012345678", "0.001"])  # imaginary part
    assert not agree(ours, ["nan", "nan"])


def test_baseline_answer_with_an_integral_is_unevaluated(
    bench_modules: dict[str, ModuleType],
) -> None:
    import sympy

    baselines = bench_modules["baselines"]
    z = sympy.Symbol("z")
    unevaluated = sympy.Integral(sympy.exp(-(z**4)), (z, 0, 1))
    assert baselines._at_test_point(unevaluated) is None
    real, imaginary = baselines._at_test_point(baselines.K + 1)
    assert (real[:4], imaginary) == ("2.30", "0")


def test_methods_name_every_quadrature_quantity(bench_modules: dict[str, ModuleType]) -> None:
    describe = bench_modules["derivation"].describe_methods
    closed = {"objective": ["closed-form", ""], "gradient.mu": ["closed-form", ""]}
    assert describe(closed) == "closed form"
    mixed = {**closed, "score.mu^2": ["quadrature", "no Gaussian rule for log"]}
    assert describe(mixed) == "quadrature: score.mu^2 (no Gaussian rule for log)"
    every = {"objective": ["quadrature", "x"], "gradient.mu": ["quadrature", ""]}
    assert describe(every) == "quadrature: all (x)"
    reasons = {f"m^{i}": ["quadrature", f"reason {i}"] for i in range(4)}
    assert describe(reasons) == "quadrature: all (reason 0; reason 1; 2 more)"


def test_coverage_tells_legitimate_skips_from_holes(bench_modules: dict[str, ModuleType]) -> None:
    coverage = bench_modules["coverage"]
    folded = coverage._folded("not checked at d = 64: Monte Carlo runs for d <= 8")
    assert folded == "not checked at d = N: Monte Carlo runs for d <= N"
    # The engine's own wording of a missing moment (verify/montecarlo/significance.py).
    assert coverage._LEGITIMATE.search("the variance is infinite or does not exist")
    assert coverage._LEGITIMATE.search("3 of 1024 float64 samples overflowed (inf or nan)")
    assert not coverage._LEGITIMATE.search(folded)
    assert not coverage._LEGITIMATE.search("d-dimensional case: score_loo is checked in one")
