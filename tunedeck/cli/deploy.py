"""`tunedeck endpoints deploy MODEL`: make a tuned model ready to answer, showing its hourly rate and asking first.

Registered on the `endpoints` group by `tunedeck.cli.main` (deploying creates what `endpoints` lists and tears down).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from tunedeck.cli.context import workspace as workspace_of
from tunedeck.cli.options import JsonOpt, YesOpt, confirm
from tunedeck.cli.output import emit_json, stderr

if TYPE_CHECKING:
    from tunedeck.models import DeployPlanView


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "off"
    minutes = int(seconds // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def describe(view: DeployPlanView) -> list[str]:
    plan = view.plan
    lines = [f"Deploy {plan.provider} model {plan.model}"]
    if plan.base_model:
        lines.append(f"  base model:   {plan.base_model}")
    if plan.hourly:
        hardware = plan.machine_type + (
            f" + {plan.accelerator_count}× {plan.accelerator_type}" if plan.accelerator_count else ""
        )
        lines.append(f"  machine:      {hardware}, {plan.min_replicas}–{plan.max_replicas} replica(s)")
        lines.append(f"  endpoint:     {plan.endpoint or 'a new dedicated endpoint (managed-by=tunedeck)'}")
        rate = "UNKNOWN" if plan.hourly_rate_usd is None else f"${plan.hourly_rate_usd:,.2f}/hour"
        lines.append(f"  rate:         {rate} — {plan.rate_note}")
    else:
        lines.append(f"  rate:         {plan.rate_note or 'not billed by the hour'}")
    for key, value in plan.details.items():
        if value:
            lines.append(f"  {key.replace('_', ' ') + ':':<13} {value}")
    lines.append(
        f"  idle teardown: after {_hours(view.idle_teardown_s)} unused"
        if view.idle_teardown_s
        else "  idle teardown: off"
    )
    if view.resumes is not None:
        lines.append(f"  resumes:      {view.resumes.id} ({view.resumes.state}): what it created is reused")
    if plan.note:
        lines.append(f"  {plan.note}")
    return lines


def deploy(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="The tuned model, as `tunedeck models list` shows it.")],
    provider: Annotated[str | None, typer.Option("--provider", "-p", help="local, openai or vertex.")] = None,
    machine_type: Annotated[str | None, typer.Option("--machine-type", help="e.g. g2-standard-12.")] = None,
    accelerator: Annotated[str | None, typer.Option("--accelerator", help="e.g. NVIDIA_L4.")] = None,
    count: Annotated[int | None, typer.Option("--count", min=1, help="Accelerators per replica.")] = None,
    min_replicas: Annotated[int, typer.Option("--min-replicas", min=1)] = 1,
    max_replicas: Annotated[int | None, typer.Option("--max-replicas", min=1)] = None,
    endpoint: Annotated[str | None, typer.Option("--endpoint", help="An existing endpoint of ours.")] = None,
    idle_teardown: Annotated[
        str | None, typer.Option("--idle-teardown", help="Tear down after this long unused (e.g. 30m, off).")
    ] = None,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Deploy a tuned model so it answers: Vertex open models on a dedicated endpoint (billed hourly; the rate is
    shown and you are asked first), local models loaded into the backend; per-token models need nothing."""
    from providers.errors import NotSupportedError

    workspace = workspace_of(ctx)
    actions = workspace.models
    try:
        view = actions.deploy_plan(
            model, provider, machine_type=machine_type, accelerator_type=accelerator, accelerator_count=count,
            min_replicas=min_replicas, max_replicas=max_replicas, endpoint=endpoint, idle_teardown=idle_teardown,
        )  # fmt: skip
    except NotSupportedError as exc:  # nothing to deploy (served per token): an answer, not a failure
        if json_out:
            emit_json({"deployed": False, "reason": exc.title, "hint": exc.hint})
        stderr.print(exc.title, highlight=False, soft_wrap=True)
        if exc.hint:
            stderr.print(exc.hint, highlight=False, soft_wrap=True)
        return
    for line in describe(view):
        stderr.print(line, highlight=False, soft_wrap=True)
    if view.plan.hourly:
        rate = "an unknown rate" if view.plan.hourly_rate_usd is None else f"${view.plan.hourly_rate_usd:,.2f}/hour"
        confirm(f"Deploy? It bills {rate} until it is torn down.", yes)
    unsubscribe = workspace.bus.subscribe(_progress)
    try:
        record = actions.deploy(view)
    finally:
        unsubscribe()
    if json_out:
        emit_json(_record_json(record))
    stderr.print(f"[green]deployed[/] {record.provider}:{record.endpoint_id}", highlight=False)
    if view.plan.hourly:
        stderr.print(
            f"Auto-teardown after {_hours(view.idle_teardown_s)} idle runs whenever tunedeck's monitor runs "
            "(`tunedeck jobs watch`, the terminal UI); `tunedeck endpoints teardown "
            f"{record.endpoint_id}` stops the charge now.",
            highlight=False,
            soft_wrap=True,
        )


def _progress(event: Any) -> None:
    from tunedeck.events import ProgressAdvanced

    if isinstance(event, ProgressAdvanced) and event.message:
        stderr.print(f"  {event.message}", highlight=False)


def _record_json(record: Any) -> dict[str, Any]:
    import dataclasses

    data = dataclasses.asdict(record)
    data["hardware"] = record.hardware
    return data
