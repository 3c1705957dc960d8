"""Stage 6, the Python API: the functions behind every ``verify`` command.

Contract: everything the command line does is a call here, and the command is a
thin layer of argument parsing over it (:mod:`verify.cli`), so a notebook or another
test suite gets the same numbers without shelling out:

- :class:`~verify.api.case.Case` -- ``Case.from_file(path)`` or ``Case("cos(k*z)",
  parameters={"k": [1, 2]})``, through the same allow-list parser as case files;
- :func:`~verify.api.evaluation.evaluate` -- exact values at one point; ``.to_json()``
  is ``verify evaluate --json``;
- :func:`~verify.api.crossover.crossover` -- crossovers along one variable;
- :func:`~verify.api.regions.regions` -- boxes of the domain proven for one estimator;
- :func:`~verify.api.check.check` -- the Monte Carlo checks and claims;
- :func:`~verify.api.report.report` -- what ``verify run`` writes for one case.

Bad input raises :class:`~verify.cases.case.CaseError` and nothing else; its
message is the command's one line.  Results have ``_repr_markdown_`` for notebooks.
"""
