"""The `tunedeck` console script: bare `tunedeck` in a terminal opens the UI straight away; anything else is the
Typer CLI in `tunedeck.cli.main`.

Opening the UI does not build the CLI: importing every command group (Typer, the dataset toolkit, …) took
longer than Textual itself, and the first frame is meant to come within 1.5× of a minimal Textual app's
(benchmarks/bench_tui.py). Every subcommand, `--help` and non-terminal use go through Typer unchanged.
"""

from __future__ import annotations

import sys


def run(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args and sys.stdin.isatty() and sys.stdout.isatty():
        _open_ui()
        return
    from tunedeck.cli.main import run as run_cli

    run_cli(args)


def _open_ui() -> None:
    from tunedeck.errors import TunedeckError

    try:
        from tui.launch import open_and_run  # deferred: only the UI pays for Textual

        open_and_run()
    except TunedeckError as error:  # a broken config.toml, an unreadable store: said plainly, with its exit code
        from tunedeck.cli.output import report_error

        report_error(error)
        sys.exit(int(error.exit_code))
    except KeyboardInterrupt:
        from tunedeck.exitcodes import ExitCode

        sys.exit(int(ExitCode.CANCELLED))
