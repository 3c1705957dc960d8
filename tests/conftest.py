"""Hypothesis profiles, chosen by the VERIFY_HYPOTHESIS_PROFILE environment variable.

- ``ci`` (the default, and ``nox -s tests``): few examples, derandomised, so that every
  run draws the same examples: a failure in CI is a bug, never a new draw;
- ``fast``: ``ci`` without derandomisation, for a developer hunting new examples
  (``VERIFY_HYPOTHESIS_PROFILE=fast``); a failure it finds is pinned with ``@example``;
- ``thorough``: many more examples, derandomised too.

Deadlines are off everywhere: the oracle is 30-digit quadrature, whose time varies
with the drawn point, and timing belongs in ``nox -s bench``, not in tests.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Five drawn examples per property, plus every pinned @example: the suite's oracles are
# slow quadrature, and CI has ten minutes for everything (`thorough` draws a hundred).
settings.register_profile(
    "fast", max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", parent=settings.get_profile("fast"), derandomize=True, print_blob=True
)
settings.register_profile(
    "thorough",
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("VERIFY_HYPOTHESIS_PROFILE", "ci"))
