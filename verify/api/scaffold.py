"""``verify new`` from Python: a new case file, with every optional key present as a comment.

Contract: :func:`case_file_text` is the text of ``<name>.toml`` for a cost ``r`` and
its parameters: ``r`` and ``[parameters]`` as given, and every other key a case file
allows (:data:`~verify.cases.case_files.TOP_LEVEL_KEYS`: title, description, source,
domain, reference, parameterization, claims, and dimension and combine where the
loader has them) as a commented-out example, such that the file with every example
uncommented is valid too (the defaults, or a placeholder to edit; a test holds the
examples to the loader's keys).  Strings are written as TOML basic strings, so
nothing given can break out of its value.

:func:`new_case` writes that text to ``<directory>/<name>.toml``: first to a temporary
file in ``directory``, which the loader every command uses
(:func:`verify.cases.case_files.load_case`) must accept, then hard-linked to the
target, which never replaces an existing file (the check and the link are one
atomic step).  Bad input -- a bad name, ``r`` or parameter, or an existing target --
raises the one :class:`~verify.cases.case.CaseError` naming the target, with the
loader's field and message, and writes nothing.

>>> import tempfile
>>> case = new_case("bump", "exp(-a*z**2)", parameters={"a": [0.5, 1]},
...                 directory=tempfile.mkdtemp())
>>> case.name, case.parameters
('bump', {'a': (0.5, 1.0)})
>>> new_case("bump", "exp(-a*z**2)", parameters={"a": 1}, directory=case.path.parent)
Traceback (most recent call last):
    ...
verify.cases.case.CaseError: .../bump.toml: file: already exists; ...
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TypeAlias

from verify.api.case import Case
from verify.cases.case import DEFAULT_DOMAIN, CaseError
from verify.cases.case_files import NAME_PATTERN, TOP_LEVEL_KEYS, case_from_mapping, load_case

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
ParameterValues: TypeAlias = "Mapping[str, float | Iterable[float]]"


def case_file_text(name: str, r: str, parameters: ParameterValues | None = None) -> str:
    """The case file for ``r`` (see the module docstring); not validated here.

    Only keys the loader knows (``TOP_LEVEL_KEYS``) get an example.
    """
    values = {k: _floats(v) for k, v in (parameters or {}).items()}
    examples = _examples(name, {base: _fresh(base, values) for base in ("m", "s", "d")})
    lines = [
        f"# The case {name}: z ~ N(mu, sigma^2) and the cost r(z).  Written by `verify new`;",
        '# uncomment and edit any optional key (README.md, "Adding a case").',
        *examples.get("title", []),
        f"r = {_string(r)}  # required: an expression in z and the parameters",
    ]
    for key in (*_BEFORE_TABLES, "parameters", *_TABLES):
        if key == "parameters":
            lines += [
                "",
                "[parameters]  # every name in r other than z: a number or a list of numbers",
                *(f"{_key(k)} = [{', '.join(_number(x) for x in v)}]" for k, v in values.items()),
                *examples.get("parameters", []),
            ]
        elif key in TOP_LEVEL_KEYS:
            lines += ([""] if key in _TABLES else []) + examples[key]
    return "\n".join(lines) + "\n"


# The optional keys, in file order: top-level values must come before the first table.
_BEFORE_TABLES = ("description", "source", "dimension", "combine")
_TABLES = ("domain", "reference", "parameterization", "estimate", "cost", "claims")


def _examples(name: str, fresh: Mapping[str, str]) -> dict[str, list[str]]:
    """Commented-out examples by key, valid when uncommented; ``fresh`` names are unused."""
    m, s, d = fresh["m"], fresh["s"], fresh["d"]
    title = _string(name.replace("_", " ").capitalize())
    domain = DEFAULT_DOMAIN
    examples = {
        "title": [f"# title = {title}  # one line; defaults to the file name"],
        "description": [
            '# description = """',
            "# Markdown for the report: what the cost models, what to expect, why it matters.",
            '# """',
        ],
        "source": ['# source = "Author (year), title, section"  # the public reference'],
        "dimension": [f"# dimension = {_string(d)}  # z has {d} coordinates; r is f(z_i) of one"],
        "combine": ['# combine = "sum"  # the cost is sum_i f(z_i); or "product": prod_i f(z_i)'],
        "domain": [
            "# [domain]  # the (mu, sigma) box that reports map; these are the defaults",
            f"# mu = [{_number(domain.mu[0])}, {_number(domain.mu[1])}]",
            f"# sigma = [{_number(domain.sigma[0])}, {_number(domain.sigma[1])}]",
        ],
        "reference": [
            "# [reference]  # the point of tables and crossovers; default mu = sigma = 1",
            "# mu = 1.0",
            "# sigma = 1.0",
        ],
        "parameterization": [
            "# [parameterization]  # gradients in other parameters too (chain rule)",
            f"# mu = {_string(m)}",
            f'# sigma = {_string(f"exp({s})")}  # log-sigma; or softplus: "log(1 + exp({s}))"',
        ],
        "estimate": [
            "# [estimate]  # samples per estimate: M for score_loo, an integer >= 2",
            "# samples = 4",
        ],
        "cost": [
            "# [cost]  # evaluations of r that one evaluation of r' costs (>= 0)",
            "# derivative = 2",
        ],
        "claims": [
            "# [[claims]]  # an exact formula you expect, in mu, sigma and the parameters",
            '# quantity = "pathwise.variance.mu"  # objective, gradient.mu, score.mean.sigma, ...',
            '# equals = "0"  # replace with the formula',
            "",
            "# [[claims]]  # an inequality over the domain and every parameter value",
            '# lower = "pathwise"',
            '# parameter = "mu"',
        ],
    }
    if "dimension" in TOP_LEVEL_KEYS:
        examples["parameters"] = [f"# {d} = [1, 2, 8]  # with dimension: numbers of coordinates"]
    return examples


def new_case(
    name: str,
    r: str,
    *,
    parameters: ParameterValues | None = None,
    directory: str | Path = "cases",
) -> Case:
    """Write ``<directory>/<name>.toml`` (see the module docstring) and return its case.

    ``directory`` is created if it is missing (and removed again if nothing is written).
    """
    root = Path(directory)
    target = root / f"{name}.toml"
    if not NAME_PATTERN.fullmatch(name):
        case_from_mapping({"r": r}, name, target)  # raises the loader's error for the name
        raise CaseError(str(target), "name", "not a valid case name")  # not reached
    if target.exists() or target.is_symlink():
        raise _exists(target)
    text = case_file_text(name, r, parameters)
    created = not root.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root, prefix=".verify-new-") as scratch:
            draft = Path(scratch) / target.name
            draft.write_text(text, encoding="utf-8")
            try:
                load_case(draft)
            except CaseError as error:  # the loader's line, naming the file to be
                raise CaseError(str(target), error.field, error.message) from None
            _publish(draft, target, text)
    except BaseException:
        if created:
            _remove_empty(root)
        raise
    return Case.from_file(target)


def _publish(draft: Path, target: Path, text: str) -> None:
    """Link ``draft`` to ``target``, which must not exist (atomic: no check-then-write race)."""
    try:
        os.link(draft, target)
    except FileExistsError:
        raise _exists(target) from None
    except OSError:  # a file system without hard links: create exclusively instead
        try:
            with target.open("x", encoding="utf-8") as handle:
                handle.write(text)
        except FileExistsError:
            raise _exists(target) from None


def _exists(target: Path) -> CaseError:
    message = "already exists; verify new never overwrites a case (edit it, or pick a new name)"
    return CaseError(str(target), "file", message)


def _remove_empty(root: Path) -> None:
    with contextlib.suppress(OSError):  # not empty after all, or gone: nothing of ours is in it
        root.rmdir()


def _floats(value: float | Iterable[float]) -> list[float]:
    if isinstance(value, int | float):
        return [float(value)]
    return [float(x) for x in value]


def _fresh(base: str, taken: Mapping[str, object]) -> str:
    """``base``, or ``base2``, ``base3``, ...: a name no parameter uses."""
    name, counter = base, 1
    while name in taken:
        counter += 1
        name = f"{base}{counter}"
    return name


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else _string(name)


def _string(text: str) -> str:
    """``text`` as a TOML basic string, whatever it holds.

    Control characters are escaped; a lone surrogate (undecodable command-line bytes)
    becomes U+FFFD, which the expression parser then rejects with its own message.
    """
    escaped = []
    for character in text:
        code = ord(character)
        if character in '"\\':
            escaped.append("\\" + character)
        elif code < 0x20 or code == 0x7F:
            escaped.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            escaped.append("\ufffd")
        else:
            escaped.append(character)
    return '"' + "".join(escaped) + '"'


def _number(value: float) -> str:
    """A TOML float (``repr``: shortest round trip; ``inf``/``nan`` are left to the loader)."""
    return repr(value)
