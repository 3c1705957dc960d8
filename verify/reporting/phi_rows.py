"""What the report of a phi-form case adds: the numbers in the phi names at the reference phi.

The contract: :func:`gather_phi` returns, for a case whose ``[parameterization]`` is
in the phi form (:mod:`verify.cases.phi`), one :class:`PhiRow` per parameter
combination of the report: at the case's reference phi
(``[parameterization] reference``, every name 0 by default) and that combination
of the data, mu and sigma follow from phi exactly
(:func:`verify.exact.phi_point.phi_point`) and the score and pathwise numbers are
chained to the phi names (:func:`verify.exact.phi_chain.chain`).  A combination where
the reference phi gives no valid Gaussian (sigma not > 0) has no result but the
reason, which the report states.  Other cases get no rows.  Rendering is
:mod:`verify.reporting.markdown_phi`.
"""

from __future__ import annotations

from dataclasses import dataclass

from verify.cases.case import Case
from verify.cases.estimators import CLASSIC_ESTIMATORS
from verify.cases.parameterization import ParameterizationError
from verify.cases.phi import PhiParameterization
from verify.exact.derivation import Derivation
from verify.exact.explicit import ExplicitDerivation
from verify.exact.explicit_results import evaluate_explicit
from verify.exact.phi_chain import PhiResult, chain
from verify.exact.phi_point import phi_point
from verify.exact.results import evaluate_point


@dataclass(frozen=True)
class PhiRow:
    """One parameter combination at the reference phi: the result, or why there is none."""

    combination: dict[str, float]
    result: PhiResult | None
    problem: str | None = None


def gather_phi(
    case: Case, derivation: Derivation | ExplicitDerivation, combinations: list[dict[str, float]]
) -> list[PhiRow]:
    """The rows of the phi section (none unless the case is in the phi form); an explicit
    dimension's derivation gives its full 2d x 2d covariances to chain."""
    form = case.parameterization
    if not isinstance(form, PhiParameterization):
        return []
    rows: list[PhiRow] = []
    for combination in combinations:
        data = {**case.single_valued, **combination}
        try:
            point = phi_point(form, form.reference, data)
        except ParameterizationError as error:
            rows.append(PhiRow(combination, None, error.message))
            continue
        # Score and pathwise only: the section compares the two the project settles.
        result = (
            evaluate_explicit(derivation, point.exact, CLASSIC_ESTIMATORS)
            if isinstance(derivation, ExplicitDerivation)
            else evaluate_point(derivation, point.exact, CLASSIC_ESTIMATORS)
        )
        rows.append(PhiRow(combination, chain(result, point)))
    return rows
