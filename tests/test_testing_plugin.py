"""The pytest plugin: another project's suite checks an estimator in one line."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from verify.testing.plugin import Oracle

ROOT = Path(__file__).resolve().parent.parent
ENTRY_POINT = "verify_oracle"

SUITE = """
import numpy as np


def pathwise(n, seed):
    eps = np.random.default_rng(seed).standard_normal(n)
    z = 1 + eps
    return np.column_stack([2 * z, 2 * z * eps])


def score(n, seed):
    eps = np.random.default_rng(seed).standard_normal(n)
    r = (1 + eps) ** 2
    return np.column_stack([r * eps, r * (eps**2 - 1)])


def test_pathwise(verify_oracle):
    verify_oracle.assert_estimator(pathwise, "z**2", estimator="pathwise", at={"mu": 1, "sigma": 1})


def test_score_is_not_pathwise(verify_oracle):
    verify_oracle.assert_estimator(score, "z**2", estimator="pathwise", at={"mu": 1, "sigma": 1})
"""


def test_a_suite_using_the_fixture_passes_and_fails_as_its_estimators_do(tmp_path):
    (tmp_path / "test_estimators.py").write_text(textwrap.dedent(SUITE))
    # As an installed verify would load it, by the plugin module (the entry point is
    # not loaded here: without the package installed from this tree it may be absent).
    environment = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "verify.testing.plugin",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    run = subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 1 passed" in run.stdout
    assert "verify.testing: estimator 'pathwise' for r = z**2" in run.stdout
    assert "variance of mu: exact 4, empirical" in run.stdout


def test_the_entry_point_names_the_plugin_module():
    entry_points = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    assert entry_points["pytest11"] == {ENTRY_POINT: "verify.testing.plugin"}
    installed = {e.name: e.value for e in importlib.metadata.entry_points(group="pytest11")}
    if ENTRY_POINT not in installed:
        pytest.skip("verify is not installed from this tree (pip install -e . registers it)")
    assert installed[ENTRY_POINT] == "verify.testing.plugin"


def test_the_fixture_reads_a_case_from_an_expression_a_file_or_a_case():
    oracle = Oracle()
    assert str(oracle.case("z**2").r) == "z**2"
    assert oracle.case(str(ROOT / "cases" / "quadratic.toml")).name == "quadratic"
    case = oracle.Case("cos(k*z)", parameters={"k": [1]})
    assert oracle.case(case) is case
