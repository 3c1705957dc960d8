"""Option values that start with '-': ``--range -3:3``, ``--at -1``, ``--r "-z**2"``.

argparse reads any token that starts with '-' as an option unless it looks like a
plain negative number (``-3``, ``-0.5``), so ``--range -3:3`` fails with "expected one
argument" and only ``--range=-3:3`` works.  The contract of :func:`attach_values`:
before parsing, every option that takes one value and is followed by a token that
starts with a single '-' and is *not* an option of the command being parsed is
rewritten to the ``--option=value`` form, which argparse always reads as that
option's value.  So ``--range -3:3``, ``--range -.5:1``, ``--at -1`` (then reported
as a bad ``--at`` item) and ``--r -z**2`` reach their option; ``--range=-3:3`` is
unchanged; ``--range --json`` (a real option where a value belongs) and everything
after ``--`` are left to argparse.  Long-option abbreviations (``--ran -3:3``) are
resolved as argparse would, when unambiguous.

>>> parser = argparse.ArgumentParser()
>>> _ = parser.add_argument("--range")
>>> _ = parser.add_argument("--json", action="store_true")
>>> attach_values(parser, ["--range", "-3:3", "--json"])
['--range=-3:3', '--json']
>>> parser.parse_args(attach_values(parser, ["--range", "-3:3"])).range
'-3:3'
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def attach_values(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[str]:
    """``argv`` with each dash-led value joined to its option (see the module docstring).

    Subcommands are followed: once a token names a subcommand of ``parser``, the
    options that follow are that subcommand's.  The options are read from the
    parsers themselves (argparse's ``_actions``), so a new option needs nothing here.
    """
    result: list[str] = []
    active = parser
    tokens = list(argv)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token == "--":
            result.extend(tokens[index - 1 :])
            break
        subcommand = _subcommands(active).get(token)
        if subcommand is not None:
            active = subcommand
            result.append(token)
            continue
        takes_value = _value_option(active, token) is not None
        if takes_value and index < len(tokens) and _is_dash_value(active, tokens[index]):
            result.append(_joined(token, tokens[index]))
            index += 1
            continue
        result.append(token)
    return result


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _value_option(parser: argparse.ArgumentParser, token: str) -> argparse.Action | None:
    """The option ``token`` names if it takes exactly one value (``nargs`` unset)."""
    if not token.startswith("-") or "=" in token:
        return None
    actions = {s: a for a in parser._actions for s in a.option_strings}
    action = actions.get(token)
    if action is None and token.startswith("--") and parser.allow_abbrev:
        matches = {actions[s] for s in actions if s.startswith(token) and s.startswith("--")}
        action = matches.pop() if len(matches) == 1 else None
    return action if action is not None and action.nargs is None else None


def _is_dash_value(parser: argparse.ArgumentParser, token: str) -> bool:
    """A token argparse would take for an option, but that names none of ``parser``'s."""
    if not token.startswith("-") or token.startswith("--") or token == "-":
        return False
    options = {s for a in parser._actions for s in a.option_strings}
    # "-h" and "-hx" (short options with something attached) stay options.
    return token not in options and token[:2] not in options


def _joined(option: str, value: str) -> str:
    return f"{option}={value}" if option.startswith("--") else f"{option}{value}"
