"""Every command's --help prints and exits 0 (a '%' in a help text once crashed argparse)."""

from __future__ import annotations

import pytest

from verify.cli.main import build_parser, main


@pytest.mark.parametrize("command", ["evaluate", "run", "crossover", "check", "new"])
def test_help_of_every_command(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert command in build_parser().format_help()
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert f"verify {command}" in capsys.readouterr().out
