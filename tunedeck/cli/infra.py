"""`tunedeck infra …`: plan (offline under mocks when Pulumi is absent), up, refresh, destroy and outputs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from tunedeck.cli.context import workspace
from tunedeck.cli.output import emit_json, stderr, stdout
from tunedeck.errors import UsageError

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
    for column in ("Type", "Name", "Key properties", "Labels", "Billing"):
        table.add_column(column, overflow="fold")
    for resource in plan.resources:
        properties = "\n".join(f"{k}: {_compact(v)}" for k, v in resource.properties.items())
        labels = ", ".join(f"{k}={v}" for k, v in resource.labels.items())
        billing = Text(resource.bills, style="yellow" if resource.bills.startswith("bills") else "") or Text("free")
        # Text cells: values such as [datasets/] must not be read as rich markup.
        table.add_row(_short_type(resource.type), resource.name, Text(properties), Text(labels), billing)
    stdout.print(table)
    billed = [r for r in plan.resources if r.bills.startswith("bills")]
    if billed:
        names = ", ".join(f"{_short_type(r.type)} {r.name}" for r in billed)
        stdout.print(f"[yellow]Billed while they exist:[/] {escape(names)}; every other resource is free.")
    _print_outputs(plan.outputs)


def _has_terminal() -> bool:
    return sys.stdin.isatty()


def _ask(question: str, given: str | None, default: str | None, interactive: bool) -> str | None:
    if given is not None or not interactive:
        return given if given is not None else default
    answer = typer.prompt(question, default=default or "", show_default=bool(default), err=True)
    return answer.strip() or None


@app.command()
def init(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Where to write the project (default: here).")] = Path("."),
    stack: str = STACK,
    project: str | None = typer.Option(None, "--project", help="Your GCP project id (asked when omitted)."),
    region: str | None = typer.Option(None, "--region", help="GCP region [default: us-central1]."),
    bucket_prefix: str | None = typer.Option(
        None, "--bucket-prefix", help="The bucket is named <prefix>-<project> [default: tunedeck]."
    ),
    endpoint: str | None = typer.Option(None, "--endpoint", help="Create a dedicated Vertex AI endpoint of this name."),
    budget: int | None = typer.Option(None, "--budget", min=1, help="Monthly budget alert amount, in USD."),
    billing_account: str | None = typer.Option(None, "--billing-account", help="Billing account for the budget."),
    json_out: bool = JSON,
) -> None:
    """Write Pulumi.yaml and Pulumi.<stack>.yaml for your own project: asks on a terminal when --project is not
    given; then `tunedeck infra plan --work-dir DIR` plans it, with or without the Pulumi CLI."""
    from infra.scaffold import InitAnswers

    interactive = project is None and _has_terminal() and not json_out  # flags given: nothing is asked
    if project is None and not interactive:
        raise UsageError(
            "Give --project: there is no terminal to ask on.", "e.g. tunedeck infra init DIR --project my-gcp-project"
        )
    asked_project = _ask("GCP project id", project, None, interactive)
    if not asked_project:
        raise UsageError("A GCP project id is needed.", "e.g. --project my-gcp-project")
    answers = InitAnswers(
        project=asked_project,
        region=_ask("Region", region, "us-central1", interactive) or "us-central1",
        stack=stack,
        bucket_prefix=_ask("Bucket prefix (the bucket is PREFIX-PROJECT)", bucket_prefix, "tunedeck", interactive)
        or "tunedeck",
        endpoint=_ask("Dedicated endpoint name (empty: none)", endpoint, None, interactive),
        budget_amount=budget
        if budget is not None or not interactive
        else _int_or_none(_ask("Monthly budget alert in USD (empty: none)", None, None, interactive)),
        billing_account=billing_account,
    )
    result = workspace(ctx).stacks.init(directory, answers)
    if json_out:
        emit_json(
            {
                "work_dir": str(result.work_dir),
                "written": [str(p) for p in result.written],
                "kept": [str(p) for p in result.kept],
                "bucket": result.bucket_name,
                "budget_pending": result.budget_pending,
            }
        )
        return
    for path in result.written:
        stderr.print(f"[green]wrote[/] {escape(str(path))}", highlight=False)
    for path in result.kept:
        stderr.print(f"kept {escape(str(path))} (already there)", highlight=False)
    stderr.print(f"The bucket will be gs://{result.bucket_name}.", highlight=False)
    if result.budget_pending:
        stderr.print(
            "[yellow]The budget is written commented out[/]: its billing account must be stored encrypted, which "
            f"needs the Pulumi CLI (see Pulumi.{stack}.yaml). `infra plan` works meanwhile, without a budget.",
            highlight=False,
        )
    where = escape(str(result.work_dir))
    stderr.print(
        f"Next: tunedeck infra plan --stack {escape(stack)} --work-dir {where}\n"
        f'(or put work_dir = "{where}" under [infra] in config.toml, and leave out --work-dir)',
        highlight=False,
    )


def _int_or_none(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError as exc:
        raise UsageError(f"{text!r} is not a whole number of US dollars.", "e.g. 100, or leave it empty") from exc


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
