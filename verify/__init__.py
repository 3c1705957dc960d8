"""verify: exact answers to whether the pathwise gradient estimator beats the score function.

The pipeline, one module per stage:

- :mod:`verify.cases.symbols` -- the shared SymPy symbols ``z, mu, sigma, eps``.
- :mod:`verify.cases.expressions` -- the allow-list parser from case text to SymPy.
- :mod:`verify.cases.case_files` -- case files (``cases/<name>.toml``) to validated cases.
- :mod:`verify.exact.gaussian` -- closed-form Gaussian expectations (the rule-based engine).
- :mod:`verify.exact.quadrature` -- the labelled mpmath fallback where no closed form is found.
- :mod:`verify.cases.estimators` -- the single-sample gradient estimators as integrands.
- :mod:`verify.exact.derivation` -- a case's exact objective, gradient and estimator moments.
- :mod:`verify.exact.evaluation` -- those formulas evaluated at one point to 30 digits.
- :mod:`verify.cli.main` -- the ``verify`` command.
"""

from __future__ import annotations

__all__ = ["__version__"]
__version__ = "0.1.0"
