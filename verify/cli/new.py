"""``verify new NAME --r EXPR [--parameter NAME=V1,V2,...]... [--cases DIR]``: a new case.

Writes ``DIR/NAME.toml`` (default ``cases/``) with every optional key present as a
comment, validated by the loader every command uses before it is written, and
never over an existing file (:func:`verify.api.scaffold.new_case`).  Then prints the
path and the commands to run next.  Exit codes: 0 written; 2 bad input -- a bad
``--parameter`` item (``--parameter: ...``), or whatever the loader rejects (a bad
name, ``r`` or parameter: ``DIR/NAME.toml: field: message``), or an existing file;
one line on stderr, and nothing is written.
"""

from __future__ import annotations

import argparse

from verify.api.scaffold import new_case
from verify.cli.inputs import InputError

EXIT_OK = 0


def add_new_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``verify new`` and its options."""
    new = commands.add_parser("new", help="write a new case file, every optional key commented")
    new.add_argument("name", help="the case name, also the file name (NAME.toml)")
    new.add_argument("--r", required=True, metavar="EXPR", help='the cost, e.g. "cos(k*z)"')
    new.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=V1,V2,...",
        help="a parameter of r and its values, e.g. k=0.5,1,2 (repeatable)",
    )
    new.add_argument("--cases", default="cases", metavar="DIR", help="where (default cases/)")
    new.set_defaults(handler=command_new)


def command_new(arguments: argparse.Namespace) -> int:
    """Write the case file and print what to run next."""
    parameters = parse_parameters(arguments.parameter)
    case = new_case(arguments.name, arguments.r, parameters=parameters, directory=arguments.cases)
    at = {**case.reference, **{k: values[0] for k, values in case.parameters.items()}}
    point = " ".join(f"--at {name}={_shown(value)}" for name, value in at.items())
    print(f"wrote {case.path}")
    print("next, its exact values at one point, then its Monte Carlo checks:")
    print(f"  verify evaluate {case.path} {point}")
    print(f"  verify check {case.path}")
    print("and its report, with every other case's: verify run (or nox -s verify)")
    return EXIT_OK


def parse_parameters(items: list[str]) -> dict[str, list[float]]:
    """``["k=0.5,1", "a=-2"]`` to ``{"k": [0.5, 1.0], "a": [-2.0]}``; InputError otherwise.

    Names and the values' finiteness are left to the case loader, so its messages
    apply; only the shape and that each value is a number are checked here.
    """
    parameters: dict[str, list[float]] = {}
    for item in items:
        name, separator, text = item.partition("=")
        name = name.strip()
        if not separator or not name or not text.strip():
            raise InputError(f"--parameter: {item}: expected NAME=VALUE or NAME=V1,V2,...")
        if name in parameters:
            raise InputError(f"--parameter: {name}: given twice; list its values once (k=1,2)")
        values = []
        for value in text.split(","):
            try:
                values.append(float(value))
            except ValueError:
                raise InputError(f"--parameter: {name}: {value!r} is not a number") from None
        parameters[name] = values
    return parameters


def _shown(value: float) -> str:
    """A number as the command line takes it back: ``1`` for 1.0, else the shortest repr."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)
