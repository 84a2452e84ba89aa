"""Entry point of the `tunedeck` command: wires the subcommand groups; `run` turns every outcome into an exit code."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tunedeck import __version__
from tunedeck.cli import (
    advise,
    chat,
    data,
    demo,
    deploy,
    endpoints,
    infra,
    jobs,
    migrate,
    models,
    preferences,
    profile,
    serve,
)
from tunedeck.cli.context import state
from tunedeck.cli.errorpath import execute
from tunedeck.cli.eval import app as eval_app
from tunedeck.errors import UsageError

if TYPE_CHECKING:
    from tunedeck.workspace import Workspace

app = typer.Typer(
    help="Prepare data, provision, fine-tune, test and tear down LLMs on OpenAI, Vertex AI and a local backend.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data.app, name="data")
app.command("serve")(serve.serve)
app.add_typer(profile.app, name="profile")
app.add_typer(infra.app, name="infra")
app.add_typer(jobs.app, name="jobs")
app.add_typer(endpoints.app, name="endpoints")
endpoints.app.command("deploy")(deploy.deploy)
app.add_typer(models.app, name="models")
app.add_typer(preferences.app, name="preferences")
app.command("chat")(chat.chat)
app.command("demo")(demo.demo)
app.add_typer(eval_app, name="eval")
app.command("advise")(advise.advise)
app.add_typer(migrate.app, name="migrate")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tunedeck {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Bare `tunedeck` opens the terminal UI (`tunedeck ui`); every action there is also a subcommand here."""
    state(ctx)  # the workspace travels in the context: opened on first use, closed when the command ends
    if ctx.invoked_subcommand is None:
        if not _interactive():  # piped or scripted: the help, as before there was a UI
            typer.echo(ctx.get_help())
            return
        _open_ui(ctx, read_only=False, home=None)


@app.command("ui")
def ui(
    ctx: typer.Context,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Hide and refuse what spends or deletes (cancel, retry, teardown).")
    ] = False,
    home: Annotated[
        Path | None,
        typer.Option("--home", file_okay=False, help="Use this tunedeck home instead of TUNEDECK_HOME or the default."),
    ] = None,
) -> None:
    """Open the terminal UI: live jobs, endpoints, one-key teardown (what bare `tunedeck` does)."""
    if not _interactive():
        raise UsageError("The terminal UI needs a terminal.", "Every action it offers is also a subcommand here.")
    _open_ui(ctx, read_only=read_only, home=home)


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _open_ui(ctx: typer.Context, *, read_only: bool, home: Path | None) -> None:
    cli_state = state(ctx)
    if home is not None:
        cli_state.factory = functools.partial(_open_home, home.expanduser())
    from tui.launch import run_ui  # deferred: `tunedeck --help` and every subcommand never import Textual

    run_ui(cli_state.workspace(), read_only=read_only)


def _open_home(home: Path) -> Workspace:
    import os

    from tunedeck.settings import load_settings
    from tunedeck.workspace import Workspace

    return Workspace.open(load_settings({**os.environ, "TUNEDECK_HOME": str(home)}))


def run(argv: list[str] | None = None) -> None:
    """Console-script entry: every outcome leaves through `execute` as an exit code, never a traceback."""
    sys.exit(execute(app, sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    run()
