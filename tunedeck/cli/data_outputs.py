"""What `data convert` and `data split` ask and decide about their outputs before any work: consent to replace
existing files, and where the human summary goes when the dataset itself is written to standard output."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tunedeck.cli.output import stderr, stdout
from tunedeck.errors import TunedeckError, UsageError
from tunedeck.exitcodes import ExitCode
from tunedeck.util.outputs import existing_files, resolve_output

ForceOpt = Annotated[bool, typer.Option("--force", help="Replace existing output files without asking.")]


def may_replace(force: bool, *outputs: Path | None) -> bool:
    """Consent to replace existing output files: --force, or a yes on a terminal; otherwise the core refuses
    with "already exists; pass --force" (exit 2). A no is a cancellation (exit 4)."""
    existing = existing_files(*outputs)
    if force or not existing:
        return force
    if not (sys.stdin.isatty() and stderr.is_terminal):
        return False
    names = ", ".join(str(path) for path in existing)
    if typer.confirm(f"{names} already exist{'s' if len(existing) == 1 else ''}. Replace?", default=False, err=True):
        return True
    raise TunedeckError(f"Not replaced: {names}.", "Nothing was written.", exit_code=ExitCode.CANCELLED)


def summary_console(*outputs: Path | None, as_json: bool = False) -> Console:
    """Where the human summary goes: stdout, unless the dataset itself is being written there (then stderr;
    and `--json` is refused, since the result document and the data would share stdout)."""
    to_stdout = False
    with contextlib.suppress(TunedeckError):  # an unusable output is reported by the command itself
        to_stdout = any(out is not None and resolve_output(out, overwrite=True).to_stdout for out in outputs)
    if to_stdout and as_json:
        raise UsageError(
            "--json and a dataset written to standard output would share it.",
            "Write the dataset to a file, or drop --json.",
        )
    return stderr if to_stdout else stdout
