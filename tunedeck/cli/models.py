"""`tunedeck models …`: every tuned model across providers, and deleting one tunedeck made (irreversible)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tunedeck.cli.context import workspace
from tunedeck.cli.options import JsonOpt, ProviderOpt, YesOpt, confirm
from tunedeck.cli.output import emit_json, stderr, stdout

if TYPE_CHECKING:
    from tunedeck.models import TunedModelView

app = typer.Typer(help="Tuned models across providers: list them, delete one tunedeck made.", no_args_is_help=True)


def model_json(view: TunedModelView) -> dict[str, Any]:
    data = dataclasses.asdict(view)
    data["deployments"] = [
        {"id": d.id, "state": d.state, "endpoint_id": d.endpoint_id, "hardware": d.hardware} for d in view.deployments
    ]
    return data


def _served(view: TunedModelView) -> str:
    if not view.reachable:
        return "unknown (provider unreachable)"
    if not view.served:
        return "—" if view.provider != "openai" else "OpenAI API, per token"
    parts = []
    for place in view.served:
        where = place.endpoint_id.rsplit("/", 1)[-1]
        if place.billing == "hourly":
            rate = "rate unknown" if place.hourly_rate_usd is None else f"${place.hourly_rate_usd:,.2f}/h"
            parts.append(f"{where} ({place.replicas}× {place.machine}, {rate})")
        else:
            parts.append(f"{where} ({place.billing})")
    return "; ".join(parts)


@app.command("list")
def list_cmd(ctx: typer.Context, provider: ProviderOpt = None, json_out: JsonOpt = False) -> None:
    """Every tuned model: provider, base model, the job that made it, where it is served, who owns it."""
    listing = workspace(ctx).models.list(provider)
    if json_out:
        emit_json({"models": [model_json(m) for m in listing.models], "errors": listing.errors})
        return
    for name, error in listing.errors.items():
        stderr.print(f"[yellow]{name}:[/] could not list models: {error}", highlight=False)
    if not listing.models:
        stderr.print("No tuned models.")
        return
    from rich.table import Table

    table = Table()
    for column in ("provider", "model", "base model", "job", "created", "served", "base shuts down", "owner"):
        table.add_column(column, overflow="fold")  # ids are copied from here: wrap them, never cut them
    for view in listing.models:
        table.add_row(
            view.provider,
            view.id,
            view.base_model or "?",
            view.job_id or view.provider_job_id or "—",
            f"{view.created_at:%Y-%m-%d}" if view.created_at else "—",
            _served(view),
            view.base_shutdown_date or "—",
            view.owner,
        )
    stdout.print(table)


@app.command("delete")
def delete_cmd(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="The model as `models list` shows it (or its last path segment).")],
    provider: ProviderOpt = None,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Delete a tuned model tunedeck made, undeploying it first. It cannot be undone; foreign models are refused."""
    from tunedeck.models import NotOursError

    actions = workspace(ctx).models
    view = actions.find(model, provider)
    if not view.ours:
        raise NotOursError(
            f"{view.provider} model {view.id} was not made by tunedeck (owner: {view.owner}); it is left alone.",
            "Delete it where it was made (the provider's console or API) if it is yours to delete.",
        )
    deployed = [s.endpoint_id for s in view.served if s.billing != "per token"]
    first = f" It is served on {', '.join(deployed)}, which will be torn down first." if deployed else ""
    confirm(f"Delete {view.provider} model {view.id}?{first} This cannot be undone.", yes)
    result = actions.delete(view)
    if json_out:
        emit_json(result)
    for torn in result.teardowns:
        stderr.print(f"{torn.outcome} {torn.provider}:{torn.endpoint_id}", highlight=False)
    if result.deleted:
        stderr.print(f"[green]deleted[/] {result.provider}:{result.model}", highlight=False)
    if result.note:
        stderr.print(result.note, highlight=False)
