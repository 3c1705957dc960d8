"""Sessions: ``verify`` (the main job), ``tests``, ``lint`` and ``bench``.

Each installs the package and what the session needs from pyproject.toml's
``[dependency-groups]`` into its own virtualenv, so a machine with only python3
and pip (plus nox) runs every session.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["verify", "tests"]
nox.options.reuse_existing_virtualenvs = True
# uv where it is installed (.ci/run installs it: a session's environment in seconds,
# against about a minute with pip), else virtualenv and pip, so that a machine with
# only python3 and pip still runs every session.
nox.options.default_venv_backend = "uv|virtualenv"

PYPROJECT = nox.project.load_toml("pyproject.toml")


def install(session: nox.Session, *groups: str, extras: str = "") -> None:
    """Install the package (with ``extras``, e.g. ``"distributed"``) and the named groups."""
    requirements = [r for g in groups for r in nox.project.dependency_groups(PYPROJECT, g)]
    session.install("-e", f".[{extras}]" if extras else ".", *requirements)


@nox.session
def verify(session: nox.Session) -> None:
    """Derive and check every case in cases/ and regenerate reports/, with progress on stderr.

    Fails on any failure.
    """
    install(session, "test")
    session.env["VERIFY_HYPOTHESIS_PROFILE"] = "thorough"
    # Progress (a line per case as it starts and finishes; a bar on a terminal) is on
    # stderr: keep it there, where nox would otherwise merge it into stdout, so the bar
    # draws on the terminal even when the summary is redirected.  `-- --quiet` hides it.
    session.run("verify", "run", *session.posargs, stderr=None)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite in parallel (pytest-xdist), with the derandomised ci profile.

    The distributed extra is installed: tests/test_distributed.py runs a LocalCluster;
    and the jax extra: tests/test_testing_examples.py runs examples/jax_sampler.py (measured:
    383 MB, about 8 s with uv, 25 s with pip).  The torch extra is not: its default Linux
    wheel pulls the CUDA libraries, 2.9 GB to download and 5.2 GB installed (README).
    """
    install(session, "test", extras="distributed,jax")
    # Derandomised: every run draws the same hypothesis examples, so CI cannot flake.
    session.env.setdefault("VERIFY_HYPOTHESIS_PROFILE", "ci")
    # Long statistical runs (false-alarm measurements) are marked slow: `nox -s tests -- -m slow`.
    session.run("pytest", "-n", "auto", *(session.posargs or ["-m", "not slow"]))


@nox.session
def lint(session: nox.Session) -> None:
    """Static checks: ruff (lint and format), mypy --strict, and the import contracts."""
    install(session, "lint", extras="distributed")  # mypy reads verify/cli/distributed.py
    session.run("ruff", "check", "verify", "tests", "benchmarks", "examples", "noxfile.py")
    session.run(
        "ruff", "format", "--check", "verify", "tests", "benchmarks", "examples", "noxfile.py"
    )
    session.run("mypy")
    # Stages import downward only, and no stage has an import cycle (pyproject.toml).
    session.run("lint-imports")


@nox.session
def bench(session: nox.Session) -> None:
    """Measure against baselines run side by side; writes reports/benchmarks.md.

    The distributed extra is installed: bench_scaleout.py times LocalClusters.
    """
    install(session, "test", extras="distributed")
    session.run("python", "benchmarks/run.py", *session.posargs)
