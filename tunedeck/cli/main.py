"""Entry point of the `tunedeck` command: wires the subcommand groups and turns our errors into exit codes."""

from __future__ import annotations

import sys

import typer

from tunedeck import __version__
from tunedeck.cli import advise, chat, data, demo, endpoints, infra, jobs, profile, serve
from tunedeck.cli.eval import app as eval_app
from tunedeck.cli.output import report_error, stderr
from tunedeck.errors import TunedeckError
from tunedeck.exitcodes import ExitCode

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
app.command("chat")(chat.chat)
app.command("demo")(demo.demo)
app.add_typer(eval_app, name="eval")
app.command("advise")(advise.advise)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tunedeck {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Bare `tunedeck` opens the terminal UI (not built yet: it prints this help instead)."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        stderr.print("[dim]The terminal UI is not part of this release yet; every action is a subcommand.[/]")


def run(argv: list[str] | None = None) -> None:
    """Console-script entry: never let one of our errors escape as a traceback."""
    try:
        app(args=argv, standalone_mode=True)
    except TunedeckError as error:
        report_error(error)
        sys.exit(int(error.exit_code))
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(int(ExitCode.CANCELLED))


if __name__ == "__main__":
    run()
