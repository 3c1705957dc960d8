"""verify: exact answers to whether the pathwise gradient estimator beats the score function.

The package is a pipeline of stages, each a sub-package whose ``__init__`` states its
contract; imports point one way, enforced by import-linter (``nox -s lint``):

    cli -> testing -> api -> reporting -> analysis -> montecarlo -> exact -> cases

- :mod:`verify.cases` -- what the user writes: symbols, the allow-list parser, case
  files, estimator definitions, parameterizations, points;
- :mod:`verify.exact` -- exact numbers: the Gaussian expectation engine, certified
  quadrature and ball arithmetic, derivations, evaluation;
- :mod:`verify.montecarlo` -- seeded Monte Carlo checks with exact thresholds;
- :mod:`verify.analysis` -- sweeps, maps, crossovers and verdicts;
- :mod:`verify.reporting` -- ``reports/<case>.md``, maps and the index;
- :mod:`verify.api` -- the Python API re-exported here;
- :mod:`verify.testing` -- the test oracle for other people's estimators, and its
  pytest plugin;
- :mod:`verify.cli` -- the ``verify`` command over the API.

The API, for notebooks and other test suites (loaded on first use, so importing a
stage does not import them all):

>>> import verify
>>> case = verify.Case("cos(k*z)", parameters={"k": [2]})
>>> verify.evaluate(case, mu=1, sigma=1).lower("mu")
'score'
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from verify.api.case import Case
    from verify.api.check import CheckResult, check
    from verify.api.crossover import CrossoverResult, crossover
    from verify.api.evaluation import Evaluation, evaluate
    from verify.api.regions import RegionsResult, regions
    from verify.api.report import WrittenReport, report
    from verify.cases.case import CaseError

__version__ = "0.1.0"

# name -> module that defines it; resolved lazily by __getattr__ (PEP 562).
_API = {
    "Case": "verify.api.case",
    "CaseError": "verify.cases.case",
    "evaluate": "verify.api.evaluation",
    "Evaluation": "verify.api.evaluation",
    "crossover": "verify.api.crossover",
    "CrossoverResult": "verify.api.crossover",
    "check": "verify.api.check",
    "CheckResult": "verify.api.check",
    "regions": "verify.api.regions",
    "RegionsResult": "verify.api.regions",
    "report": "verify.api.report",
    "WrittenReport": "verify.api.report",
}
__all__ = [
    "Case",
    "CaseError",
    "CheckResult",
    "CrossoverResult",
    "Evaluation",
    "RegionsResult",
    "WrittenReport",
    "__version__",
    "check",
    "crossover",
    "evaluate",
    "regions",
    "report",
]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'verify' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
