"""Stage 7, the ``verify`` command: a thin layer over :mod:`verify.api`.

Contract, exit codes: 0 success; 1 a check failed or a claim was refuted; 2 bad
input (one line on stderr naming the file and the field, no traceback unless
``--debug``).  ``--json`` prints exactly one JSON object on stdout.  Each case runs
in its own process with time and memory limits (:mod:`~verify.cli.isolation`), here
or, with ``--scheduler``, on a Dask cluster's worker (:mod:`~verify.cli.executor`).
"""

from __future__ import annotations

from verify.cli.main import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, main

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_OK", "main"]
