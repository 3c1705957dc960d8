"""Stage 1, what the user writes: the vocabulary and the validated case.

Contract: everything a case can say, and nothing computed from it.  The shared
symbols (``z, mu, sigma, eps``, parameters), the estimators a case may name, the
allow-list parser from text to SymPy (never ``eval``, ``sympify`` or ``parse_expr``),
case files read into a :class:`~verify.cases.case.Case` or refused with one
:class:`~verify.cases.case.CaseError` line, parameterizations, points.

Imports only the standard library, SymPy and itself: every later stage
(``exact -> montecarlo -> analysis -> reporting -> api -> cli``) may import it, and it
imports none of them (an import-linter layers contract, ``nox -s lint``).
"""
