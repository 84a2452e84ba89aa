"""How every `tunedeck` command ends: one place turns results, our errors, usage errors, Ctrl-C and bugs into
an exit code from the README's table, a sentence on stderr and, with `--json`, an error document on stdout.

Nothing reaches the user as a traceback: an unexpected exception is written (redacted) to a crash log and
summed up in one line; TUNEDECK_DEBUG=1 also prints the traceback.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import typer

from tunedeck.cli.output import report, report_error
from tunedeck.errors import TunedeckError
from tunedeck.exitcodes import ExitCode

# Typer turns Ctrl-C into this exit code before we see it (typer.core._main); we report it as a cancellation.
_TYPER_INTERRUPT_EXIT = 130


def json_requested(args: Sequence[str]) -> bool:
    """`--json` anywhere among the options (not after a `--`): errors then also go to stdout as JSON."""
    for arg in args:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def execute(command: Callable[..., Any], args: Sequence[str]) -> int:
    """Run the Typer app on `args` and return the exit code; never raises except SystemExit from a command."""
    args = list(args)
    as_json = json_requested(args)
    try:
        result = command(args=args, standalone_mode=False)
    except typer.TyperException as exc:  # Typer's (vendored click's) usage errors: bad options, ranges, choices
        return _usage_error(exc, as_json)
    except typer.Abort:
        report("Cancelled.", "Nothing more was done.", int(ExitCode.CANCELLED), as_json=as_json)
        return int(ExitCode.CANCELLED)
    except TunedeckError as error:
        report_error(error, as_json=as_json)
        return int(error.exit_code)
    except KeyboardInterrupt:
        return _interrupted(as_json)
    except Exception as exc:  # the last resort: a bug, told as one sentence with the traceback kept aside
        return internal_error(exc, as_json)
    if result == _TYPER_INTERRUPT_EXIT:
        return _interrupted(as_json)
    # With standalone_mode=False, click returns the code of a `typer.Exit`, or the command's return value.
    return result if isinstance(result, int) and not isinstance(result, bool) else int(ExitCode.OK)


def _usage_error(exc: typer.TyperException, as_json: bool) -> int:
    code = int(exc.exit_code)
    if type(exc).__name__ == "NoArgsIsHelpError":
        return code  # the help itself was the answer; Typer has printed it already
    if as_json:
        ctx = getattr(exc, "ctx", None)
        hint = f"Run `{ctx.command_path} --help` for the usage." if ctx is not None else "Run `tunedeck --help`."
        report(exc.format_message(), hint, code, as_json=True)
        return code
    from typer import rich_utils  # deferred: only usage errors need the rich panel

    rich_utils.rich_format_error(exc)  # type: ignore[arg-type]  # the same object Typer formats itself
    return code


def _interrupted(as_json: bool) -> int:
    report("Interrupted.", "Stopped at your request (Ctrl-C).", int(ExitCode.CANCELLED), as_json=as_json)
    return int(ExitCode.CANCELLED)


def internal_error(exc: BaseException, as_json: bool) -> int:
    """Report a bug in one line, keeping its (redacted) traceback in a crash log the line names."""
    from providers.errors import redact_secrets
    from tunedeck.settings import debug_enabled

    text = redact_secrets("".join(traceback.format_exception(exc)))
    where = _write_crash_log(text)
    summary = redact_secrets(f"{type(exc).__name__}: {exc}".strip().rstrip(":"))
    if len(summary) > 200:
        summary = summary[:199] + "…"
    kept = f"the traceback is in {where}" if where else "the traceback could not be saved"
    debug = debug_enabled()
    report(
        f"internal error ({summary}); {kept}.",
        "This is a bug in tunedeck; please report it with that file."
        + ("" if debug else " Set TUNEDECK_DEBUG=1 to print the traceback here."),
        int(ExitCode.BAD_INPUT),
        as_json=as_json,
    )
    if debug:
        sys.stderr.write(text)
        sys.stderr.flush()
    return int(ExitCode.BAD_INPUT)


def _write_crash_log(text: str) -> Path | None:
    """`<data_dir>/logs/crash-….log` (the temp dir if the data dir is out of reach), readable by the user only."""
    name = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    candidates: list[Path] = []
    try:
        from tunedeck.settings import load_settings

        candidates.append(load_settings().data_dir / "logs")
    except Exception:  # a broken config must not hide the original bug
        pass
    candidates.append(Path(tempfile.gettempdir()))
    for folder in candidates:
        path = folder / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            return path
        except OSError:
            continue
    return None
