"""``verify.Case``: a case from a file, or from an expression in a notebook.

Contract: a :class:`Case` is a validated :class:`verify.cases.case.Case` (it is
one, a subclass, so every stage accepts it), built only through the allow-list
parser: ``Case("cos(k*z)", parameters={"k": [1, 2]})`` validates exactly the
mapping a case file would hold, with the same one-line :class:`CaseError` messages
(``<custom>: r: ...``).  There is no way around the parser.

>>> case = Case("cos(k*z)", parameters={"k": [1, 2]})
>>> case.r, case.parameters
(cos(k*z), {'k': (1.0, 2.0)})
>>> Case("__import__('os')")
Traceback (most recent call last):
    ...
verify.cases.case.CaseError: <custom>: r: ...
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, SupportsFloat, TypeAlias

from verify.cases.case import Case as ValidatedCase
from verify.cases.case import CaseError
from verify.cases.case_files import case_from_mapping, load_case
from verify.cases.parameterization import ParameterizationError
from verify.cases.phi import PhiParameterization
from verify.cases.symbols import GRADIENT_PARAMETERS
from verify.exact.phi_point import PhiPoint, phi_point

CaseLike: TypeAlias = "ValidatedCase | str | Path"


class Case(ValidatedCase):
    """A validated case; see the module docstring.

    Keywords are the keys of a case file (``parameters``, ``domain``, ``reference``,
    ``claims``, ``parameterization``, ``title``, ``description``, ``source``), in the
    shapes TOML would give them; ``name`` plays the file stem.
    """

    def __init__(
        self,
        r: str,
        *,
        parameters: Mapping[str, object] | None = None,
        name: str = "custom",
        **keys: object,
    ) -> None:
        data: dict[str, object] = {"r": r, **keys}
        if parameters is not None:
            data["parameters"] = {
                # A number is a one-value list; anything else goes to validation as given.
                k: [v] if isinstance(v, int | float) else _listed(v)
                for k, v in parameters.items()
            }
        _adopt(self, case_from_mapping(data, name, Path(f"<{name}>")))

    @classmethod
    def from_file(cls, path: str | Path) -> Case:
        """The case in ``path`` (``cases/<name>.toml``); raises :class:`CaseError`."""
        return cls.of(load_case(path))

    @classmethod
    def of(cls, case: CaseLike) -> Case:
        """``case`` itself, the validated case it wraps, or the case file it names."""
        if isinstance(case, Case):
            return case
        if isinstance(case, str | Path):
            return cls.from_file(case)
        adopted = cls.__new__(cls)
        _adopt(adopted, case)
        return adopted


def _listed(value: object) -> object:
    if isinstance(value, Mapping):  # {"range": [low, high]}: a table, as in TOML
        return dict(value)
    return list(value) if isinstance(value, Iterable) and not isinstance(value, str) else value


def _adopt(target: Case, validated: ValidatedCase) -> None:
    for field in dataclasses.fields(validated):
        object.__setattr__(target, field.name, getattr(validated, field.name))


def complete_point(case: ValidatedCase, values: Mapping[str, Any]) -> dict[str, float]:
    """mu, sigma and every parameter, in that order; single-valued parameters filled in.

    Raises :class:`CaseError` (field ``at``) for an unknown name, a value that is not a
    finite number, a missing value, or sigma <= 0.
    """
    names = ("mu", "sigma", *case.parameter_names)
    point = {**case.single_valued}
    for name, value in values.items():
        if name not in names:
            raise CaseError(str(case.path), "at", f"{name}: expected one of {', '.join(names)}")
        point[name] = finite_value(case, name, value)
    missing = [n for n in names if n not in point]
    if missing:
        form = case.parameterization
        hint = (
            f" (or give the point in phi: {', '.join(form.phi)})"
            if isinstance(form, PhiParameterization) and "mu" in missing
            else ""
        )
        raise CaseError(str(case.path), "at", f"missing value for {', '.join(missing)}{hint}")
    if point["sigma"] <= 0:
        raise CaseError(str(case.path), "at", "sigma: sigma must be > 0")
    return {name: point[name] for name in names}


def complete_phi_point(case: ValidatedCase, values: Mapping[str, Any]) -> PhiPoint | None:
    """The point in phi that ``values`` give, or None when they give no phi name.

    Only for a case in the phi form (:mod:`verify.cases.phi`): the phi names and every
    parameter (single-valued ones filled in); mu and sigma are then computed from phi
    exactly (:func:`verify.exact.phi_point.phi_point`).  Raises :class:`CaseError`
    (field ``at``) when mu or sigma is given as well -- a point is given either in
    (mu, sigma) or in phi, never both -- for an unknown name, a missing or non-finite
    value, and where sigma(phi) is not > 0.
    """
    form = case.parameterization
    if not isinstance(form, PhiParameterization) or not any(n in values for n in form.phi):
        return None
    path = str(case.path)
    both = [t for t in dict.fromkeys((*GRADIENT_PARAMETERS, *form.components)) if t in values]
    if both:
        theta = "mu and sigma" if form.components == GRADIENT_PARAMETERS else "mu_i and sigma_i"
        raise CaseError(
            path,
            "at",
            f"{both[0]}: give the point either in {theta} or in phi "
            f"({', '.join(form.phi)}), not both",
        )
    names = (*form.phi, *case.parameter_names)
    point = {**case.single_valued}
    for name, value in values.items():
        if name not in names:
            raise CaseError(path, "at", f"{name}: expected one of {', '.join(names)}")
        point[name] = finite_value(case, name, value)
    missing = [n for n in names if n not in point]
    if missing:
        raise CaseError(path, "at", f"missing value for {', '.join(missing)}")
    try:
        return phi_point(
            form, {n: point[n] for n in form.phi}, {n: point[n] for n in case.parameter_names}
        )
    except ParameterizationError as error:
        raise CaseError(path, error.field, error.message) from None


def finite_value(case: ValidatedCase, name: str, value: object) -> float:
    """``value`` as a finite float; CaseError (field ``at``) naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, SupportsFloat):
        raise CaseError(str(case.path), "at", f"{name}: {value!r} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise CaseError(str(case.path), "at", f"{name}: the value must be finite")
    return number
