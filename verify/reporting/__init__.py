"""Stage 5, reports: ``reports/<case>.md`` with its PNG maps, and ``reports/README.md``.

Contract: reports are deterministic functions of the case, the code and the
settings (a fingerprint of all three heads each report, so a stale one is
detected); gathering computes, markdown only formats, publishing only writes.

Imports the earlier stages only; never :mod:`verify.api` or :mod:`verify.cli`.
"""
