"""`tunedeck endpoints …`: list what bills by the hour, test it, set idle auto-teardown, tear it down."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from tunedeck.cli.jobs import JsonOpt, YesOpt, confirm, open_workspace
from tunedeck.cli.output import emit_json, stderr, stdout
from tunedeck.errors import UsageError
from tunedeck.exitcodes import ExitCode

if TYPE_CHECKING:
    from tunedeck.endpoints.teardown import EndpointView, Inventory
    from tunedeck.workspace import Workspace

app = typer.Typer(help="Hourly-billed endpoints and loaded models: list, test, tear down.", no_args_is_help=True)


def _known_provider(name: str | None) -> str | None:
    """Checked while parsing, so a typo is a usage error (exit 2) before anything is listed or asked."""
    from providers.registry import available_providers

    if name is not None and name not in available_providers():
        raise typer.BadParameter(f"unknown provider {name!r}; choose one of: {', '.join(available_providers())}.")
    return name


ProviderOpt = Annotated[
    str | None, typer.Option("--provider", "-p", help="Only this provider.", callback=_known_provider)
]
EndpointArg = Annotated[str, typer.Argument(help="Endpoint id or display name (see `endpoints list`).")]


def inventory(workspace: Workspace, only: str | None) -> Inventory:
    return workspace.refresh_endpoints(only)


def _view_json(view: EndpointView) -> dict[str, Any]:
    record, live = view.record, view.live
    rate = live.hourly_rate_usd if live else (record.hourly_rate_usd if record else None)
    return {
        "provider": view.provider,
        "id": view.id,
        "display_name": view.display_name,
        "model": view.model,
        "ours": view.ours,
        "hourly_rate_usd": rate,
        "uptime_s": record.uptime_s() if record else None,
        "accrued_usd": record.accrued_cost_usd() if record else None,
        "last_used_at": record.last_used_at if record else (live.last_used_at if live else None),
        "idle_s": record.idle_s() if record else None,
        "idle_teardown_s": record.idle_teardown_s if record else None,
        "machine_type": live.machine_type if live else (record.machine_type if record else ""),
        "reachable": live is not None,
        "note": live.note if live else "",
    }


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes = int(seconds // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m{int(seconds % 60):02d}s"


@app.command("list")
def list_cmd(provider: ProviderOpt = None, json_out: JsonOpt = False) -> None:
    """Every hourly-billed thing tunedeck knows, with uptime, rate, accrued cost and last use."""
    workspace = open_workspace()
    found = inventory(workspace, provider)
    if json_out:
        emit_json(
            {
                "ours": [_view_json(v) for v in found.ours],
                "not_ours": [_view_json(v) for v in found.not_ours],
                "errors": found.errors,
            }
        )
        return
    for name, error in found.errors.items():
        stderr.print(f"[yellow]{name}:[/] could not list endpoints: {error}", highlight=False)
    if not found.ours and not found.not_ours:
        stderr.print("Nothing billed by the hour is running.")
        return
    from rich.table import Table

    table = Table("provider", "id", "model", "rate/h", "uptime", "accrued", "last use", "auto-teardown")
    for view in found.ours:
        data = _view_json(view)
        rate = data["hourly_rate_usd"]
        table.add_row(
            view.provider,
            view.id,
            view.model,
            "per token" if rate is None else f"${rate:,.2f}",
            _duration(data["uptime_s"]),
            "—" if data["accrued_usd"] is None else f"${data['accrued_usd']:,.2f}",
            "never" if data["last_used_at"] is None else f"{_duration(data['idle_s'])} ago",
            f"after {_duration(data['idle_teardown_s'])} idle" if data["idle_teardown_s"] else "off",
        )
    if found.ours:
        stdout.print(table)
    for view in found.not_ours:
        rate = view.live.hourly_rate_usd if view.live else None
        billed = f"${rate:,.2f}/h" if rate is not None else "per token"
        stdout.print(f"not ours (left alone): {view.provider}:{view.id} {view.model} {billed}", highlight=False)


def _resolve(workspace: Workspace, endpoint: str, provider: str | None) -> tuple[str, str]:
    matches = [r for r in workspace.store.find_endpoints(endpoint) if provider in (None, r.provider)]
    if len(matches) > 1:
        names = ", ".join(sorted({m.provider for m in matches}))
        raise UsageError(f"{endpoint!r} names endpoints on several providers ({names}).", "Add --provider.")
    if matches:
        return matches[0].provider, matches[0].id
    if provider:
        return provider, endpoint
    found = inventory(workspace, None)
    live = [v for v in [*found.ours, *found.not_ours] if endpoint in (v.id, v.display_name)]
    if len(live) == 1:
        return live[0].provider, live[0].id
    raise UsageError(f"No endpoint {endpoint!r} is known.", "See `tunedeck endpoints list`, or add --provider.")


@app.command("teardown")
def teardown_cmd(
    endpoint: Annotated[str | None, typer.Argument(help="Endpoint id or name.")] = None,
    all_idle: Annotated[
        str | None, typer.Option("--all-idle", help="Every endpoint of ours idle at least this long (e.g. 30m).")
    ] = None,
    provider: ProviderOpt = None,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Undeploy/unload and record it. Idempotent; foreign endpoints are never touched; failures can be re-run."""
    from tunedeck.endpoints.teardown import idle_endpoints, parse_duration, teardown_many

    if (endpoint is None) == (all_idle is None):
        raise UsageError(
            "Give one endpoint ID or --all-idle DURATION.", "e.g. `tunedeck endpoints teardown --all-idle 30m`"
        )
    workspace = open_workspace()
    if all_idle is not None:
        idle_for = parse_duration(all_idle)
        targets = [(v.provider, v.id) for v in idle_endpoints(inventory(workspace, provider), idle_for)]
        reason = f"bulk teardown: idle for at least {all_idle}"
        if not targets:
            stderr.print(f"No endpoint of ours has been idle for {all_idle}.")
            if json_out:
                emit_json([])
            return
    else:
        assert endpoint is not None
        targets = [_resolve(workspace, endpoint, provider)]
        reason = "requested by the user"
    listing = ", ".join(f"{p}:{e}" for p, e in targets)
    confirm(f"Tear down {listing}?", yes)
    results = teardown_many(workspace.store, [(workspace.provider(p), e) for p, e in targets], reason=reason)
    if json_out:
        emit_json(results)
    for result in results:
        cost = f" (accrued ≈ ${result.accrued_cost_usd:,.2f})" if result.accrued_cost_usd is not None else ""
        colour = "green" if result.ok else "red"
        stderr.print(
            f"[{colour}]{result.outcome}[/] {result.provider}:{result.endpoint_id}{cost} {result.detail}".rstrip(),
            highlight=False,
        )
    failed = [r for r in results if not r.ok]
    if failed:
        stderr.print(f"{len(failed)} of {len(results)} not torn down; run the same command again to retry.")
        raise typer.Exit(
            int(ExitCode.UNAVAILABLE if any(r.outcome == "failed" for r in failed) else ExitCode.BAD_INPUT)
        )


@app.command("autostop")
def autostop_cmd(
    endpoint: EndpointArg,
    idle: Annotated[
        str | None, typer.Argument(help="Tear down after this long unused (e.g. 30m); omit with --off.")
    ] = None,
    off: Annotated[bool, typer.Option("--off", help="Never tear this endpoint down automatically.")] = False,
    provider: ProviderOpt = None,
) -> None:
    """Idle auto-teardown for one endpoint, run by the monitor (`jobs watch`, the TUI)."""
    from tunedeck.endpoints.teardown import parse_duration

    if (idle is not None) != off:
        workspace = open_workspace()
        name, endpoint_id = _resolve(workspace, endpoint, provider)
        seconds = None if off else parse_duration(idle or "").total_seconds()
        workspace.store.set_idle_teardown(name, endpoint_id, seconds)
        stderr.print(f"{name}:{endpoint_id}: " + ("auto-teardown off" if off else f"tear down after {idle} idle"))
        return
    raise UsageError("Give a duration (e.g. 30m) or --off.")


@app.command("test")
def test_cmd(
    endpoint: EndpointArg,
    prompt: Annotated[str, typer.Option("--prompt", help="What to send.")] = "Say hello in five words.",
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = 32,
    provider: ProviderOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Send one short prompt to the endpoint's model; report the reply and its latency."""
    from providers.base import ChatMessage
    from tunedeck.cli.chat import timed_reply

    workspace = open_workspace()
    name, endpoint_id = _resolve(workspace, endpoint, provider)
    record = workspace.store.get_endpoint(name, endpoint_id)
    model = record.model if record else endpoint_id
    turn = timed_reply(workspace, name, model, [ChatMessage("user", prompt)], max_tokens, 0.0, stream=False)
    result = {"endpoint": endpoint_id, **turn}
    if json_out:
        emit_json(result)
        return
    stdout.print(result["reply"], highlight=False)
    first = result["first_token_s"]
    ttft = f"{first:.2f}s" if first is not None else "—"
    tokens = result["completion_tokens"] or "?"
    stderr.print(f"first token {ttft}, total {result['total_s']:.2f}s, {tokens} tokens", highlight=False)
