"""Run the CLI in-process as `tttgen` does (tttgen.cli.main): a TttgenError is its exit code and message; anything
else escaping is a traceback, which the input contract forbids, so it is re-raised for the test to fail on."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tttgen.cli import cli
from tttgen.errors import TttgenError


def run_cli(*args: str) -> tuple[int, str]:
    """(exit code, everything printed): 0 ok, 2 bad input; a crash raises."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=True)
    error = result.exception
    if isinstance(error, TttgenError):
        return error.exit_code, result.output + f"error: {error.render()}"
    if error is not None and not isinstance(error, SystemExit):
        raise error
    return result.exit_code, result.output


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
