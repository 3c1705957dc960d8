"""``verify.testing``: ``verify`` as the test oracle for other people's gradient estimators.

Contract: :func:`check_estimator` compares single-sample gradient estimates drawn by
someone else's code (numpy, JAX or torch) with the exact mean, variance and covariance
of the estimator they claim to be, by the same statistics as ``verify check``, with a
false-alarm rate of at most ``alpha`` per call (Bonferroni over that call's checks)
and a planned power; :func:`assert_estimator` raises ``AssertionError`` with a message
naming what failed.  The details are :mod:`verify.testing.oracle`'s; the pytest plugin
(fixture ``verify_oracle``) is :mod:`verify.testing.plugin`.

>>> import numpy as np
>>> def pathwise(n, seed):  # r(z) = z**2: g_mu = 2 z, g_sigma = 2 z eps
...     eps = np.random.default_rng(seed).standard_normal(n)
...     z = 1.0 + 1.0 * eps
...     return np.column_stack([2 * z, 2 * z * eps])
>>> result = check_estimator(pathwise, Case("z**2"), estimator="pathwise",
...                          at={"mu": 1, "sigma": 1})
>>> result.passed, result.samples
(True, ...)
"""

from __future__ import annotations

from verify.api.case import Case
from verify.testing.estimators import Formulas, Renamed
from verify.testing.oracle import EstimatorCheck, assert_estimator, check_estimator

__all__ = [
    "Case",
    "EstimatorCheck",
    "Formulas",
    "Renamed",
    "assert_estimator",
    "check_estimator",
]
