"""The ``"dimension"`` block of ``verify evaluate --json`` for a symbolic-dimension case.

The contract (a case with ``dimension = "d"``, :mod:`verify.cases.dimension`): every
other key of the record is coordinate 1's (its ``covariance.trace`` is the trace of
coordinate 1's 2 x 2 block); this block adds

    "dimension": {"parameter": "d", "combine": "sum" | "product", "d": int,
                  "coordinate": 1,
                  "trace": {estimator: num},    # of the whole 2d x 2d covariance
                  "radius": {estimator: r}}

and :func:`with_coordinate_keys` repeats coordinate 1's ``"mu"`` and ``"sigma"`` under the
issue's component keys ``"mu1"`` and ``"sigma1"`` in ``gradient`` and every estimator's
``mean`` and ``variance`` (added beside them: the one-dimensional keys stay).  The
whole trace is d times coordinate 1's (all coordinates are alike), with its
rigorous radius (null where uncertified), as every other number of the record.
"""

from __future__ import annotations

import mpmath

from verify.cases.dimension import Dimension
from verify.exact.results import PointResult, scaled


def dimension_json(dimension: Dimension, d: float, result: PointResult) -> dict[str, object]:
    """The block of the module docstring at dimension ``d``."""
    traces = {e: scaled(result.trace(e), mpmath.mpf(int(d))) for e in result.means}
    return {
        "parameter": dimension.parameter,
        "combine": dimension.combine,
        "d": int(d),
        "coordinate": 1,
        "trace": {e: t.as_json() for e, t in traces.items()},
        "radius": {e: t.radius for e, t in traces.items()},
    }


def with_coordinate_keys(record: dict[str, object]) -> None:
    """Add ``mu1``/``sigma1`` beside ``mu``/``sigma`` (coordinate 1's), in place."""
    tables: list[object] = [record["gradient"]]
    estimators = record["estimators"]
    assert isinstance(estimators, dict)
    for entry in estimators.values():
        tables += [entry["mean"], entry["variance"]]
    for table in tables:
        assert isinstance(table, dict)
        table |= {f"{key}1": table[key] for key in ("mu", "sigma") if key in table}
