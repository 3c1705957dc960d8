"""The pytest plugin: a ``verify_oracle`` fixture for another project's test suite.

Contract: installing ``verify`` registers this module with pytest (the ``pytest11``
entry point ``verify_oracle`` in pyproject.toml), so any test may take the fixture and
check an estimator in one line::

    def test_my_pathwise(verify_oracle):
        verify_oracle.assert_estimator(my_sampler, "z**2", estimator="pathwise",
                                       at={"mu": 1, "sigma": 1})

The fixture is an :class:`Oracle`: :func:`~verify.testing.check_estimator`,
:func:`~verify.testing.assert_estimator`, :class:`~verify.testing.Formulas`,
:class:`~verify.testing.Renamed` and :class:`~verify.api.case.Case` in one object.  A
case may be given as a :class:`~verify.api.case.Case`, a case file's path, or (here
only) a cost expression in ``z``, read by the same allow-list parser.  Each call has a
false-alarm rate of at most ``alpha`` (default 1e-6); a suite of k calls, at most k alpha.
"""

from __future__ import annotations

from typing import Any

import pytest

from verify.api import case as api_case
from verify.api.case import Case, CaseLike
from verify.testing.estimators import Formulas, Renamed
from verify.testing.oracle import EstimatorCheck, assert_estimator, check_estimator
from verify.testing.samples import Sampler


class Oracle:
    """The fixture: ``verify.testing`` with cases also given as expressions."""

    Case = Case
    Formulas = Formulas
    Renamed = Renamed

    @staticmethod
    def case(case: CaseLike) -> api_case.Case:
        """A case from a Case, a case file (``*.toml``) or a cost expression in ``z``."""
        if isinstance(case, str) and not case.endswith(".toml"):
            return Case(case)
        return Case.of(case)

    def check_estimator(self, sampler: Sampler, case: CaseLike, **arguments: Any) -> EstimatorCheck:
        """:func:`verify.testing.check_estimator`."""
        return check_estimator(sampler, self.case(case), **arguments)

    def assert_estimator(
        self, sampler: Sampler, case: CaseLike, **arguments: Any
    ) -> EstimatorCheck:
        """:func:`verify.testing.assert_estimator`: raises ``AssertionError`` unless it passed."""
        return assert_estimator(sampler, self.case(case), **arguments)


@pytest.fixture
def verify_oracle() -> Oracle:
    """``verify.testing`` as a fixture (module docstring)."""
    return Oracle()


__all__ = ["Oracle", "verify_oracle"]
