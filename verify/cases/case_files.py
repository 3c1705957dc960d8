"""Case files (``cases/<name>.toml``), read, validated and turned into :class:`Case` objects.

Contract: case files come from strangers, so :func:`load_case` returns a
:class:`~verify.cases.case.Case` or raises :class:`~verify.cases.case.CaseError` -- never
anything else, whatever the file holds.  A ``CaseError`` names the file, the offending
field in dotted form (``parameters.k``, ``domain.sigma``, ``claims[1].quantity``; claims
are counted from 1, in file order) and says, in one line, what is wrong and what is
allowed.  :func:`case_from_mapping` validates an already-parsed table the same way, with
the same messages: reading a file ends in it, so files and mappings share one path.

The case name is the file stem and must match ``[a-z0-9][a-z0-9_-]{0,63}``, so paths
derived from it are safe.  Expressions go through :func:`verify.cases.expressions.parse_expression`
only: ``r`` over ``z`` and the parameters, a claim's ``equals`` over ``mu``, ``sigma``
and the parameters.  Symbols come from :mod:`verify.cases.symbols`; the field validators
from :mod:`verify.cases.fields`.  The allowed keys are :data:`TOP_LEVEL_KEYS`; claim
quantities are :data:`~verify.cases.case.QUANTITY_NAMES`.
"""

from __future__ import annotations

import keyword
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import sympy

from verify.cases import fields
from verify.cases.budget import LOO_ESTIMATOR, parse_budget
from verify.cases.case import DEFAULT_DOMAIN, QUANTITY_NAMES, Case, CaseError, Claim, Domain
from verify.cases.coordinates import (
    Coordinates,
    component_names,
    parse_coordinates,
    reference_components,
)
from verify.cases.dimension import parse_dimension
from verify.cases.estimators import ESTIMATOR_NAMES
from verify.cases.expressions import ExpressionError, parse_expression
from verify.cases.grammar import ALLOWED_FUNCTIONS, CONSTANTS
from verify.cases.parameterization import (
    Parameterization,
    ParameterizationError,
    parse_parameterization,
)
from verify.cases.phi import PhiParameterization, parse_phi_parameterization
from verify.cases.symbols import (
    GRADIENT_PARAMETERS,
    RESERVED_NAMES,
    Z,
    parameter_symbol,
    point_symbols,
)

MAX_FILE_BYTES = 64 * 1024
MAX_VALUES = 50
MAX_TITLE_LENGTH = 200
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
PARAMETER_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
TOP_LEVEL_KEYS = (
    "title", "r", "description", "source", "parameters", "domain", "reference", "claims",
    "parameterization", "dimension", "combine", "estimate", "cost",
)  # fmt: skip


def load_case(path: str | Path) -> Case:
    """The validated case in ``path``; raises :class:`CaseError` and nothing else."""
    try:
        return _load(Path(path))
    except Exception as error:  # The contract: a bad file never escapes as anything else.
        raise _rejection(str(path), error) from None


def case_from_mapping(data: Mapping[str, object], name: str, path: Path) -> Case:
    """The validated case that ``data`` (a parsed case file) describes, named ``name``.

    Validated exactly as a file is, with the same messages; ``path`` is the case's
    :attr:`~verify.cases.case.Case.path` and what a :class:`CaseError` names.  Raises
    :class:`CaseError` and nothing else.

    >>> case = case_from_mapping({"r": "cos(k*z)", "parameters": {"k": [2]}}, "custom",
    ...                          Path("<custom>"))
    >>> case.r, case.parameters
    (cos(k*z), {'k': (2.0,)})
    >>> case_from_mapping({"r": "cos(k*z)"}, "custom", Path("<custom>"))
    Traceback (most recent call last):
    ...
    verify.cases.case.CaseError: <custom>: r: unknown name 'k'; allowed names: z, pi, E
    """
    try:
        return _case(data, name, path)
    except Exception as error:  # As for a file: bad input never escapes as anything else.
        raise _rejection(str(path), error) from None


def _rejection(shown: str, error: Exception) -> CaseError:
    """The one CaseError, naming ``shown``, that a failed validation raises."""
    if isinstance(error, CaseError):  # from case_from_mapping, under the normalised path
        return CaseError(shown, error.field, error.message)
    if isinstance(error, fields.Invalid):
        return CaseError(shown, *error.args)
    message = f"cannot load the case ({type(error).__name__}: {error})"
    return CaseError(shown, "file", message)


def load_cases(paths: Iterable[str | Path]) -> tuple[list[Case], list[CaseError]]:
    """The cases that load, and one error per file that does not (or repeats a name)."""
    cases: list[Case] = []
    errors: list[CaseError] = []
    first_path: dict[str, str] = {}
    for path in paths:
        try:
            case = load_case(path)
        except CaseError as error:
            errors.append(error)
            continue
        if case.name in first_path:
            message = f"duplicate case name '{case.name}'; {first_path[case.name]} uses it too"
            errors.append(CaseError(str(path), "name", message))
            continue
        first_path[case.name] = str(path)
        cases.append(case)
    return cases, errors


def discover_cases(directory: str | Path = "cases") -> list[Path]:
    """The ``*.toml`` files in ``directory``, sorted; FileNotFoundError if it is missing."""
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"case directory not found: {root}")
    return sorted(path for path in root.glob("*.toml") if path.is_file())


def _load(path: Path) -> Case:
    _name(path.stem)  # before reading: a bad name is reported even for an unreadable file
    return case_from_mapping(_read(path), path.stem, path)


def _name(name: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise fields.Invalid(
            "name",
            f"case name {fields.short(name)} (the file name without .toml) must be 1-64 "
            "lower-case letters, digits, '_' or '-', starting with a letter or digit",
        )


def _case(data: Mapping[str, object], name: str, path: Path) -> Case:
    _name(name)
    fields.no_unknown_keys(data, "", TOP_LEVEL_KEYS)
    parameters = _parameters(data.get("parameters"))
    coordinates = _coordinates(data)
    samples = {"z": Z} if coordinates is None else coordinates.sample_names()
    symbols = samples | {p: parameter_symbol(p) for p in parameters}
    if "r" not in data:
        raise fields.Invalid("r", 'missing; give the integrand as a string, e.g. r = "cos(k*z)"')
    r_text = fields.string(data["r"], "r")
    domain = _domain(data.get("domain"))
    common = _common_fields(data, name, path, r_text, symbols)
    if coordinates is not None:
        return _explicit_case(data, common, coordinates, parameters, domain)
    return Case(
        **common,
        parameters=parameters,
        domain=domain,
        reference=_reference(data.get("reference"), domain),
        claims=_claims(data.get("claims"), point_symbols(tuple(parameters))),
        parameterization=_parameterization(data.get("parameterization"), tuple(parameters)),
        dimension=parse_dimension(data.get("dimension"), data.get("combine"), parameters),
        budget=parse_budget(data.get("estimate"), data.get("cost")),
        ranges=_ranges(data.get("parameters"), parameters),
    )


def _coordinates(data: Mapping[str, object]) -> Coordinates | None:
    """An integer ``dimension`` (explicit z1..zd), or None for a name or no dimension."""
    value = data.get("dimension")
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    coordinates = parse_coordinates(value)
    for key, why in (
        (
            "combine",
            'needs a symbolic dimension, dimension = "d"; an explicit r in z1..zd '
            "is already combined",
        ),
        ("claims", "are not supported with an explicit dimension yet"),
    ):
        if key in data:
            raise fields.Invalid(key, why)
    return coordinates


def _common_fields(
    data: Mapping[str, object],
    name: str,
    path: Path,
    r_text: str,
    symbols: Mapping[str, sympy.Symbol],
) -> dict[str, Any]:
    """The fields every case has, whatever its dimension: names, texts and r."""
    return {
        "name": name,
        "path": path,
        "title": _title(data.get("title", name)),
        "description": fields.string(data.get("description", ""), "description"),
        "source": None if data.get("source") is None else fields.string(data["source"], "source"),
        "r_text": r_text,
        "r": _expression(r_text, symbols, "r"),
    }


def _explicit_case(
    data: Mapping[str, object],
    common: dict[str, Any],
    coordinates: Coordinates,
    parameters: dict[str, tuple[float, ...]],
    domain: Domain,
) -> Case:
    """A case with ``dimension = d``: r over z1..zd, a reference point per component."""
    table = fields.table(data.get("reference"), "reference")
    defaults = {"mu": 1.0, "sigma": 1.0}
    return Case(
        **common,
        parameters=parameters,
        domain=domain,
        reference=reference_components(coordinates.count, table, defaults),
        claims=(),
        parameterization=_parameterization(
            data.get("parameterization"), tuple(parameters), component_names(coordinates.count)
        ),
        coordinates=coordinates,
        budget=parse_budget(data.get("estimate"), data.get("cost")),
    )


def _parameterization(
    value: object, parameters: tuple[str, ...], components: tuple[str, ...] | None = None
) -> Parameterization | PhiParameterization | None:
    """The ``[parameterization]`` table; ``components`` (mu1..sigmad) for an explicit dimension,
    which takes the phi form only (the one-name form renames mu and sigma, of which it has 2d)."""
    if value is None:
        return None
    table = fields.table(value, "parameterization")
    try:
        if components is not None:
            if "phi" not in table:
                raise ParameterizationError(
                    "parameterization.phi",
                    "missing; with an explicit dimension the map is in the phi form: "
                    f"phi = [names] and {', '.join(components)} as expressions",
                )
            return parse_phi_parameterization(table, parameters, components)
        if "phi" in table:  # several trainable names (verify.cases.phi)
            return parse_phi_parameterization(table, parameters)
        return parse_parameterization(table, parameters)
    except ParameterizationError as error:
        raise fields.Invalid(error.field, error.message) from None


def _read(path: Path) -> dict[str, object]:
    try:
        if not path.is_file():  # Also keeps FIFOs and devices from blocking the read.
            raise fields.Invalid("file", "does not exist or is not a regular file")
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as error:
        raise fields.Invalid("file", f"cannot read the file ({error})") from None
    if len(raw) > MAX_FILE_BYTES:
        message = f"larger than 64 KiB; at most {MAX_FILE_BYTES} bytes are allowed"
        raise fields.Invalid("file", message)
    try:
        text = raw.decode("utf-8-sig")  # Tolerate the BOM some Windows editors write.
    except UnicodeDecodeError as error:
        message = f"not valid UTF-8 (bad byte at offset {error.start}); case files are UTF-8"
        raise fields.Invalid("file", message) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise fields.Invalid("file", f"invalid TOML: {error}") from None
    except (RecursionError, ValueError) as error:
        # tomllib recurses into nested arrays, and int() refuses over 4300 digits.
        raise fields.Invalid("file", f"invalid TOML ({type(error).__name__}): {error}") from None


def _parameters(value: object) -> dict[str, tuple[float, ...]]:
    table = fields.table(value, "parameters")
    result: dict[str, tuple[float, ...]] = {}
    for key, raw in table.items():
        where = f"parameters.{fields.key(key)}"
        _parameter_name(key, where)
        if isinstance(raw, list):
            if not raw:
                message = "empty list; give a number or a non-empty list of numbers"
                raise fields.Invalid(where, message)
            if len(raw) > MAX_VALUES:
                raise fields.Invalid(where, f"{len(raw)} values; at most {MAX_VALUES} are allowed")
            result[key] = tuple(
                fields.number(v, f"{where}[{i}]") for i, v in enumerate(raw, start=1)
            )
        elif isinstance(raw, dict):
            spec = fields.table(raw, where, ("range",))
            result[key] = fields.interval(spec.get("range"), f"{where}.range")
        else:
            wanted = "a number, a non-empty list of numbers or {range = [low, high]}"
            result[key] = (fields.number(raw, where, wanted),)
    return result


def _ranges(
    value: object, parameters: Mapping[str, tuple[float, ...]]
) -> dict[str, tuple[float, float]]:
    """The parameters given as ``{range = [low, high]}`` (validated by :func:`_parameters`)."""
    table = fields.table(value, "parameters")
    return {
        k: (parameters[k][0], parameters[k][1]) for k, raw in table.items() if isinstance(raw, dict)
    }


def _parameter_name(name: str, where: str) -> None:
    if name in RESERVED_NAMES:
        problem = f"is reserved ({', '.join(sorted(RESERVED_NAMES))} are taken)"
    elif name in ALLOWED_FUNCTIONS or name in CONSTANTS:
        problem = "is the name of an allowed function or constant"
    elif keyword.iskeyword(name):
        problem = "is a Python keyword"
    elif not PARAMETER_PATTERN.fullmatch(name):
        # ASCII only: Python normalizes Unicode identifiers, which would alias names.
        # Starting with a letter also rules out dunders such as __class__.
        problem = "is not allowed; use 1-32 ASCII letters, digits, '_', starting with a letter"
    else:
        return
    raise fields.Invalid(where, f"parameter name {fields.short(name)} {problem}; pick another name")


def _domain(value: object) -> Domain:
    table = fields.table(value, "domain", ("mu", "sigma"))
    mu = fields.interval(table.get("mu", DEFAULT_DOMAIN.mu), "domain.mu")
    sigma = fields.interval(table.get("sigma", DEFAULT_DOMAIN.sigma), "domain.sigma")
    if sigma[0] <= 0:
        message = "both bounds must be > 0 (sigma is a standard deviation)"
        raise fields.Invalid("domain.sigma", message)
    return Domain(mu=mu, sigma=sigma)


def _reference(value: object, domain: Domain) -> dict[str, float]:
    table = fields.table(value, "reference", ("mu", "sigma"))
    # The default point (1, 1), moved into the domain if it lies outside.
    point = {"mu": min(max(1.0, domain.mu[0]), domain.mu[1])}
    point["sigma"] = min(max(1.0, domain.sigma[0]), domain.sigma[1])
    point.update({key: fields.number(raw, f"reference.{key}") for key, raw in table.items()})
    if point["sigma"] <= 0:
        raise fields.Invalid("reference.sigma", "must be > 0 (sigma is a standard deviation)")
    return point


def _claims(value: object, names: Mapping[str, sympy.Symbol]) -> tuple[Claim, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        message = f"must be an array of tables ([[claims]]), got {fields.kind(value)}"
        raise fields.Invalid("claims", message)
    return tuple(_claim(index, item, names) for index, item in enumerate(value, start=1))


def _claim(index: int, item: object, names: Mapping[str, sympy.Symbol]) -> Claim:
    where = f"claims[{index}]"
    if not isinstance(item, dict) or not ({"quantity", "equals", "lower", "parameter"} & set(item)):
        message = "a claim has either quantity and equals, or lower and parameter"
        raise fields.Invalid(where, message)
    if "quantity" in item or "equals" in item:
        fields.no_unknown_keys(item, where, ("quantity", "equals"), required=True)
        quantity = fields.choice(item["quantity"], f"{where}.quantity", QUANTITY_NAMES)
        text = fields.string(item["equals"], f"{where}.equals")
        expr = _expression(text, names, f"{where}.equals")
        return Claim(index, "equals", quantity=quantity, equals_text=text, equals=expr)
    fields.no_unknown_keys(item, where, ("lower", "parameter"), required=True)
    lower = fields.choice(item["lower"], f"{where}.lower", (*ESTIMATOR_NAMES, LOO_ESTIMATOR))
    parameter = fields.choice(item["parameter"], f"{where}.parameter", GRADIENT_PARAMETERS)
    return Claim(index, "lower", lower=lower, parameter=parameter)


def _expression(text: str, names: Mapping[str, sympy.Symbol], where: str) -> sympy.Expr:
    try:
        return parse_expression(text, names, field=where)
    except ExpressionError as error:
        raise fields.Invalid(where, str(error)) from None


def _title(value: object) -> str:
    title = fields.string(value, "title")
    if len(title) > MAX_TITLE_LENGTH or not title.isprintable() or not title.strip():
        message = f"must be one printable line of 1-{MAX_TITLE_LENGTH} characters"
        raise fields.Invalid("title", message)
    return title
