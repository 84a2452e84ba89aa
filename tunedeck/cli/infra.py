"""`tunedeck infra …`: plan (offline under mocks when Pulumi is absent), up, refresh, destroy and outputs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from tunedeck.cli.context import workspace
from tunedeck.cli.output import emit_json, stderr, stdout

if TYPE_CHECKING:
    from infra.plan import OfflinePlan
    from tunedeck.workspace import Workspace

app = typer.Typer(
    help="Provision GCP for Vertex AI tuning with Pulumi (`plan` works offline, without the Pulumi CLI).",
    no_args_is_help=True,
)

STACK = typer.Option("dev", "--stack", "-s", help="Stack name; its config is Pulumi.<stack>.yaml.")
JSON = typer.Option(False, "--json", help="Write the result as JSON to stdout.")
WORK_DIR = typer.Option(
    None,
    "--work-dir",
    help="Directory holding Pulumi.yaml (default: infra.work_dir in config.toml, else the tunedeck checkout).",
)


def _streaming(ctx: typer.Context) -> Workspace:
    """The workspace, with the engine's output lines going to stderr (so `--json` on stdout stays parseable)."""
    from tunedeck.events import OutputLine

    ws = workspace(ctx)

    def stream(event: object) -> None:
        if isinstance(event, OutputLine):
            sys.stderr.write(event.line + "\n")
            sys.stderr.flush()

    ctx.call_on_close(ws.subscribe(stream))
    return ws


def _short_type(token: str) -> str:
    # gcp:storage/bucket:Bucket → storage.Bucket
    parts = token.split(":")
    return f"{parts[1].split('/')[0]}.{parts[2]}" if len(parts) == 3 else token


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_compact(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).lower() if isinstance(value, bool) else str(value)


def _print_plan(plan: OfflinePlan) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"Offline plan for stack {plan.stack!r} ({len(plan.resources)} resources)", show_lines=True)
    for column in ("Type", "Name", "Key properties", "Labels"):
        table.add_column(column, overflow="fold")
    for resource in plan.resources:
        properties = "\n".join(f"{k}: {_compact(v)}" for k, v in resource.properties.items())
        labels = ", ".join(f"{k}={v}" for k, v in resource.labels.items())
        # Text cells: values such as [datasets/] must not be read as rich markup.
        table.add_row(_short_type(resource.type), resource.name, Text(properties), Text(labels))
    stdout.print(table)
    _print_outputs(plan.outputs)


@app.command()
def plan(
    ctx: typer.Context,
    stack: str = STACK,
    json_out: bool = JSON,
    work_dir: Path | None = WORK_DIR,
    offline: bool = typer.Option(False, "--offline", help="Plan under mocks even when the Pulumi CLI is installed."),
) -> None:
    """What `up` would do: `pulumi preview` with the CLI, else the program run offline under Pulumi's mocks."""
    ws = _streaming(ctx)
    if not offline and not ws.stacks.pulumi_installed():
        stderr.print("[dim]Pulumi CLI not installed: planning offline under mocks (no cloud calls).[/]")
    result = ws.stacks.plan(stack, work_dir, offline=offline)
    if not isinstance(result, dict):
        if json_out:
            emit_json(result)
        else:
            _print_plan(result)
        return
    changes = result
    if json_out:
        emit_json({"stack": stack, "offline": False, "changes": changes})
    else:
        stdout.print(", ".join(f"{op}: {count}" for op, count in changes.items()) or "no changes")


@app.command()
def up(ctx: typer.Context, stack: str = STACK, json_out: bool = JSON, work_dir: Path | None = WORK_DIR) -> None:
    """Create or update the stack's resources and save its outputs for tunedeck."""
    outputs = _streaming(ctx).stacks.up(stack, work_dir)
    if json_out:
        emit_json(outputs)
    else:
        _print_outputs(outputs.as_outputs())


@app.command()
def refresh(ctx: typer.Context, stack: str = STACK, json_out: bool = JSON, work_dir: Path | None = WORK_DIR) -> None:
    """Reconcile the stack's state with what exists in GCP."""
    changes = _streaming(ctx).stacks.refresh(stack, work_dir)
    if json_out:
        emit_json({"stack": stack, "changes": changes})
    else:
        summary = ", ".join(f"{op} {count}" for op, count in changes.items()) or "no changes"
        stderr.print(f"Stack {stack!r} refreshed: {summary}.")


def confirm_destroy(warning: str, stack: str) -> None:
    """Ask the user to type the stack name; anything else (or no terminal) cancels."""
    from infra.errors import DestroyCancelledError

    stderr.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False)
    try:
        answer = stderr.input(f"Type the stack name ([bold]{escape(stack)}[/]) to destroy it: ")
    except EOFError:
        answer = None
    if answer is None or answer.strip() != stack:
        raise DestroyCancelledError(
            "Destroy cancelled: the stack name was not confirmed.",
            "Type the stack name exactly, or pass --yes to destroy without asking.",
        )


@app.command()
def destroy(
    ctx: typer.Context,
    stack: str = STACK,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    json_out: bool = JSON,
    work_dir: Path | None = WORK_DIR,
) -> None:
    """Delete the stack's resources (asks you to type the stack name unless --yes)."""
    ws = _streaming(ctx)
    ws.stacks.require_pulumi()  # before asking: a confirmation that leads nowhere wastes the user's time
    if not yes:
        confirm_destroy(ws.stacks.destroy_warning(stack, work_dir), stack)
    changes = ws.stacks.destroy(stack, work_dir)
    if json_out:
        emit_json({"stack": stack, "changes": changes})
    else:
        stderr.print(f"Stack {stack!r} destroyed.")


def _print_outputs(outputs: dict[str, Any]) -> None:
    for name, value in outputs.items():
        stdout.print(f"[bold]{name}[/]: {escape(_compact(value))}", highlight=False)


@app.command()
def outputs(ctx: typer.Context, stack: str = STACK, json_out: bool = JSON, work_dir: Path | None = WORK_DIR) -> None:
    """The stack's outputs: live from Pulumi when installed, else the copy saved by the last `up`/`outputs`."""
    result = workspace(ctx).stacks.outputs(stack, work_dir)
    if result.source == "saved":
        when = result.saved_at.isoformat() if result.saved_at else "an earlier run"
        stderr.print(f"[dim]Pulumi CLI not installed: showing the outputs saved at {when}.[/]")
    if json_out:
        emit_json(result)
    else:
        _print_outputs(result.as_outputs())
