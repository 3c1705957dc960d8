"""Case files (``cases/<name>.toml``), read, validated and turned into :class:`Case`.

Contract: case files come from strangers, so :func:`load_case` returns a :class:`Case`
or raises :class:`CaseError` -- never anything else, whatever the file holds.  A
``CaseError`` names the file, the offending field in dotted form (``parameters.k``,
``domain.sigma``, ``claims[1].quantity``; claims are counted from 1, in file order)
and says, in one line, what is wrong and what is allowed.

The case name is the file stem and must match ``[a-z0-9][a-z0-9_-]{0,63}``, so paths
derived from it are safe.  Expressions go through :func:`verify.cases.expressions.parse_expression`
only: ``r`` over ``z`` and the parameters, a claim's ``equals`` over ``mu``, ``sigma``
and the parameters.  Symbols come from :mod:`verify.cases.symbols`.  The allowed keys are
:data:`TOP_LEVEL_KEYS`; claim quantities are :data:`QUANTITY_NAMES`.
"""

from __future__ import annotations

import keyword
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import sympy

from verify.cases.estimators import ESTIMATOR_NAMES
from verify.cases.expressions import ALLOWED_FUNCTIONS, CONSTANTS, ExpressionError, parse_expression
from verify.cases.parameterization import (
    Parameterization,
    ParameterizationError,
    parse_parameterization,
)
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
    "parameterization",
)  # fmt: skip
_STATISTICS = ("mean", "variance")
# objective, gradient.<p>, <estimator>.<mean|variance>.<p> for p in mu, sigma.
QUANTITY_NAMES: tuple[str, ...] = (
    "objective",
    *(f"gradient.{p}" for p in GRADIENT_PARAMETERS),
    *(f"{e}.{s}.{p}" for e in ESTIMATOR_NAMES for s in _STATISTICS for p in GRADIENT_PARAMETERS),
)


@dataclass(frozen=True)
class Domain:
    """The (mu, sigma) box that reports map, as (low, high) pairs."""

    mu: tuple[float, float]
    sigma: tuple[float, float]


DEFAULT_DOMAIN = Domain(mu=(-2.0, 2.0), sigma=(0.2, 2.0))


@dataclass(frozen=True)
class Claim:
    """``quantity`` equals ``equals`` (kind "equals"), or estimator ``lower`` has the
    lowest variance for the ``parameter`` component of the gradient (kind "lower")."""

    index: int
    kind: Literal["equals", "lower"]
    quantity: str | None = None
    equals_text: str | None = None
    equals: sympy.Expr | None = None
    lower: str | None = None
    parameter: str | None = None


@dataclass(frozen=True)
class Case:
    """One validated case file."""

    name: str
    path: Path
    title: str
    description: str
    source: str | None
    r_text: str
    r: sympy.Expr
    parameters: dict[str, tuple[float, ...]]
    domain: Domain
    reference: dict[str, float]
    claims: tuple[Claim, ...]
    parameterization: Parameterization | None = None

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(self.parameters)

    @property
    def single_valued(self) -> dict[str, float]:
        """The parameters given exactly one value."""
        return {name: values[0] for name, values in self.parameters.items() if len(values) == 1}


class CaseError(Exception):
    """A case file was rejected: ``str(e) == f"{path}: {field}: {message}"``."""

    def __init__(self, path: str, field: str, message: str) -> None:
        self.path = path
        self.field = field
        self.message = " ".join(message.split())  # one line, whatever went in
        super().__init__(f"{path}: {field}: {self.message}")


class _Invalid(Exception):
    """Raised by the validators below as ``_Invalid(field, message)``; load_case adds the path."""


def load_case(path: str | Path) -> Case:
    """The validated case in ``path``; raises :class:`CaseError` and nothing else."""
    shown = str(path)
    try:
        return _load(Path(path))
    except _Invalid as invalid:
        raise CaseError(shown, *invalid.args) from None
    except Exception as error:  # The contract: a bad file never escapes as anything else.
        message = f"cannot load the case ({type(error).__name__}: {error})"
        raise CaseError(shown, "file", message) from None


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
    name = path.stem
    if not NAME_PATTERN.fullmatch(name):
        raise _Invalid(
            "name",
            f"case name {_short(name)} (the file name without .toml) must be 1-64 lower-case "
            "letters, digits, '_' or '-', starting with a letter or digit",
        )
    data = _read(path)
    _no_unknown_keys(data, "", TOP_LEVEL_KEYS)
    parameters = _parameters(data.get("parameters"))
    symbols = {"z": Z} | {p: parameter_symbol(p) for p in parameters}
    if "r" not in data:
        raise _Invalid("r", 'missing; give the integrand as a string, e.g. r = "cos(k*z)"')
    r_text = _string(data["r"], "r")
    domain = _domain(data.get("domain"))
    return Case(
        name=name,
        path=path,
        title=_title(data.get("title", name)),
        description=_string(data.get("description", ""), "description"),
        source=None if data.get("source") is None else _string(data["source"], "source"),
        r_text=r_text,
        r=_expression(r_text, symbols, "r"),
        parameters=parameters,
        domain=domain,
        reference=_reference(data.get("reference"), domain),
        claims=_claims(data.get("claims"), point_symbols(tuple(parameters))),
        parameterization=_parameterization(data.get("parameterization"), tuple(parameters)),
    )


def _parameterization(value: object, parameters: tuple[str, ...]) -> Parameterization | None:
    if value is None:
        return None
    try:
        return parse_parameterization(_table(value, "parameterization"), parameters)
    except ParameterizationError as error:
        raise _Invalid(error.field, error.message) from None


def _read(path: Path) -> dict[str, object]:
    try:
        if not path.is_file():  # Also keeps FIFOs and devices from blocking the read.
            raise _Invalid("file", "does not exist or is not a regular file")
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as error:
        raise _Invalid("file", f"cannot read the file ({error})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise _Invalid("file", f"larger than 64 KiB; at most {MAX_FILE_BYTES} bytes are allowed")
    try:
        text = raw.decode("utf-8-sig")  # Tolerate the BOM some Windows editors write.
    except UnicodeDecodeError as error:
        message = f"not valid UTF-8 (bad byte at offset {error.start}); case files are UTF-8"
        raise _Invalid("file", message) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _Invalid("file", f"invalid TOML: {error}") from None
    except (RecursionError, ValueError) as error:
        # tomllib recurses into nested arrays, and int() refuses over 4300 digits.
        raise _Invalid("file", f"invalid TOML ({type(error).__name__}): {error}") from None


def _parameters(value: object) -> dict[str, tuple[float, ...]]:
    table = _table(value, "parameters")
    result: dict[str, tuple[float, ...]] = {}
    for key, raw in table.items():
        where = f"parameters.{_key(key)}"
        _parameter_name(key, where)
        if isinstance(raw, list):
            if not raw:
                raise _Invalid(where, "empty list; give a number or a non-empty list of numbers")
            if len(raw) > MAX_VALUES:
                raise _Invalid(where, f"{len(raw)} values; at most {MAX_VALUES} are allowed")
            result[key] = tuple(_number(v, f"{where}[{i}]") for i, v in enumerate(raw, start=1))
        else:
            result[key] = (_number(raw, where, "a number or a non-empty list of numbers"),)
    return result


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
    raise _Invalid(where, f"parameter name {_short(name)} {problem}; pick another name")


def _domain(value: object) -> Domain:
    table = _table(value, "domain", ("mu", "sigma"))
    mu = _interval(table.get("mu", DEFAULT_DOMAIN.mu), "domain.mu")
    sigma = _interval(table.get("sigma", DEFAULT_DOMAIN.sigma), "domain.sigma")
    if sigma[0] <= 0:
        raise _Invalid("domain.sigma", "both bounds must be > 0 (sigma is a standard deviation)")
    return Domain(mu=mu, sigma=sigma)


def _interval(value: object, where: str) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        got = f"{len(value)} items" if isinstance(value, list) else _kind(value)
        raise _Invalid(where, f"must be a list [low, high] of two numbers, got {got}")
    low, high = _number(value[0], f"{where}[1]"), _number(value[1], f"{where}[2]")
    if not low < high:
        raise _Invalid(where, f"low ({low}) must be less than high ({high})")
    return (low, high)


def _reference(value: object, domain: Domain) -> dict[str, float]:
    table = _table(value, "reference", ("mu", "sigma"))
    # The default point (1, 1), moved into the domain if it lies outside.
    point = {"mu": min(max(1.0, domain.mu[0]), domain.mu[1])}
    point["sigma"] = min(max(1.0, domain.sigma[0]), domain.sigma[1])
    point.update({key: _number(raw, f"reference.{key}") for key, raw in table.items()})
    if point["sigma"] <= 0:
        raise _Invalid("reference.sigma", "must be > 0 (sigma is a standard deviation)")
    return point


def _claims(value: object, names: Mapping[str, sympy.Symbol]) -> tuple[Claim, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _Invalid("claims", f"must be an array of tables ([[claims]]), got {_kind(value)}")
    return tuple(_claim(index, item, names) for index, item in enumerate(value, start=1))


def _claim(index: int, item: object, names: Mapping[str, sympy.Symbol]) -> Claim:
    where = f"claims[{index}]"
    if not isinstance(item, dict) or not ({"quantity", "equals", "lower", "parameter"} & set(item)):
        raise _Invalid(where, "a claim has either quantity and equals, or lower and parameter")
    if "quantity" in item or "equals" in item:
        _no_unknown_keys(item, where, ("quantity", "equals"), required=True)
        quantity = _choice(item["quantity"], f"{where}.quantity", QUANTITY_NAMES)
        text = _string(item["equals"], f"{where}.equals")
        expr = _expression(text, names, f"{where}.equals")
        return Claim(index, "equals", quantity=quantity, equals_text=text, equals=expr)
    _no_unknown_keys(item, where, ("lower", "parameter"), required=True)
    lower = _choice(item["lower"], f"{where}.lower", ESTIMATOR_NAMES)
    parameter = _choice(item["parameter"], f"{where}.parameter", GRADIENT_PARAMETERS)
    return Claim(index, "lower", lower=lower, parameter=parameter)


def _no_unknown_keys(
    table: Mapping[str, object], where: str, allowed: tuple[str, ...], *, required: bool = False
) -> None:
    prefix = f"{where}." if where else ""
    unknown = [key for key in table if key not in allowed]
    if unknown:
        raise _Invalid(
            prefix + _key(unknown[0]), f"unknown key; allowed keys here: {', '.join(allowed)}"
        )
    missing = [key for key in allowed if required and key not in table]
    if missing:
        raise _Invalid(
            prefix + missing[0], f"missing; this kind of entry needs {' and '.join(allowed)}"
        )


def _table(value: object, where: str, allowed: tuple[str, ...] | None = None) -> dict[str, object]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Invalid(where, f"must be a table ([{where}]), got {_kind(value)}")
    if allowed is not None:
        _no_unknown_keys(value, where, allowed)
    return value


def _expression(text: str, names: Mapping[str, sympy.Symbol], where: str) -> sympy.Expr:
    try:
        return parse_expression(text, names, field=where)
    except ExpressionError as error:
        raise _Invalid(where, str(error)) from None


def _choice(value: object, where: str, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise _Invalid(where, f"unknown value {_short(value)}; allowed: {', '.join(allowed)}")
    return value


def _number(value: object, where: str, wanted: str = "a number") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(where, f"must be {wanted}, got {_kind(value)}")
    # TOML integers are unbounded: compare before float() can overflow.
    if (isinstance(value, int) and abs(value) > 10**300) or not math.isfinite(value):
        raise _Invalid(where, "must be a finite number of sensible size")
    return float(value)


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise _Invalid(where, f"must be a string, got {_kind(value)}")
    return value


def _title(value: object) -> str:
    title = _string(value, "title")
    if len(title) > MAX_TITLE_LENGTH or not title.isprintable() or not title.strip():
        raise _Invalid("title", f"must be one printable line of 1-{MAX_TITLE_LENGTH} characters")
    return title


_KINDS = {str: "a string", bool: "a boolean", int: "an integer", float: "a float", list: "an array"}


def _kind(value: object) -> str:
    return "a table" if isinstance(value, dict) else _KINDS.get(type(value), "a date or time")


def _key(key: str) -> str:
    """A key as it may appear in a field name: plain if simple, quoted otherwise."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", key) else _short(key)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
