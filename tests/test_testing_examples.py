"""The examples in examples/ run, and their adapters catch a wrong estimator too.

numpy and JAX run in every ``nox -s tests`` (the session installs the ``jax`` extra);
torch runs where it is importable: its default Linux wheel pulls the CUDA libraries
(2.9 GB of wheels, 5.2 GB installed, measured), too much for CI, see the README.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from verify.testing import check_estimator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example(name: str) -> ModuleType:
    """examples/<name>.py as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_and_catch(module: ModuleType) -> None:
    """main() passes both estimators; the score function under the pathwise name fails."""
    assert [result.estimator for result in module.main()] == ["pathwise", "score"]
    wrong = check_estimator(module.score, module.CASE, estimator="pathwise", at=module.AT)
    assert ("variance", "mu") in [(c["statistic"], c["parameter"]) for c in wrong.failures]


def test_the_numpy_example():
    run_and_catch(example("numpy_sampler"))


def test_the_jax_example():
    pytest.importorskip("jax", reason="the jax extra is not installed: pip install 'verify[jax]'")
    run_and_catch(example("jax_sampler"))


def test_the_torch_example():
    pytest.importorskip(
        "torch",
        reason="torch is optional, not installed in CI (its CUDA wheels are 2.9 GB): "
        "pip install 'verify[torch]'",
    )
    run_and_catch(example("torch_sampler"))
