"""The import contracts in pyproject.toml catch what they exist to catch.

``lint-imports`` (import-linter) enforces two contracts over ``verify``: the stages
import downward only (cli -> api -> report -> analysis -> montecarlo -> exact ->
cases), and the modules of one stage have no import cycle.  Each test runs it on a
copy of the package, so the deliberately bad module never touches the real one: the
copy passes as it is, and fails once the bad module is added.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The lint-imports console script, run by this interpreter (no reliance on PATH).
RUN_LINT_IMPORTS = (
    "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"
)


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports with the project's contracts on the package copied to ``tree``."""
    environment = {**os.environ, "PYTHONPATH": str(tree)}  # the copy shadows the install
    return subprocess.run(
        [sys.executable, "-c", RUN_LINT_IMPORTS, "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("layers")
    shutil.copytree(ROOT / "verify", tree / "verify", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def with_module(package_copy: Path, tmp_path: Path, modules: dict[str, str]) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(package_copy, tree)
    for relative, source in modules.items():
        (tree / relative).write_text(source, encoding="utf-8")
    return tree


def test_the_package_keeps_both_contracts(package_copy: Path) -> None:
    result = lint_imports(package_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_layers_contract(package_copy: Path, tmp_path: Path) -> None:
    # The exact engine reaching up into the Monte Carlo stage: exact -> montecarlo.
    tree = with_module(
        package_copy,
        tmp_path,
        {"verify/exact/upward.py": "from verify.montecarlo import noise\n"},
    )
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "verify.exact.upward -> verify.montecarlo.noise" in result.stdout


def test_a_cycle_inside_a_stage_breaks_the_acyclic_contract(
    package_copy: Path, tmp_path: Path
) -> None:
    tree = with_module(
        package_copy,
        tmp_path,
        {
            "verify/reporting/first.py": "from verify.reporting import second\n",
            "verify/reporting/second.py": "from verify.reporting import first\n",
        },
    )
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "No cycles are allowed in verify.reporting" in result.stdout
