"""`tunedeck endpoints …`: list what bills by the hour, test it, set idle auto-teardown, tear it down."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from tunedeck.cli.context import workspace
from tunedeck.cli.options import EndpointArg, JsonOpt, ProviderOpt, YesOpt, confirm
from tunedeck.cli.output import emit_json, stderr, stdout
from tunedeck.errors import UsageError
from tunedeck.exitcodes import ExitCode

if TYPE_CHECKING:
    from tunedeck.endpoints.inventory import EndpointView, Inventory
    from tunedeck.endpoints.teardown import TeardownResult

app = typer.Typer(help="Hourly-billed endpoints and loaded models: list, test, tear down.", no_args_is_help=True)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes = int(seconds // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m{int(seconds % 60):02d}s"


def _rate(view: EndpointView) -> str:
    rate = view.hourly_rate_usd
    return "per token" if rate is None else f"${rate:,.2f}/h"


def _machine(view: EndpointView) -> str:
    """'g2-standard-12 + 1× NVIDIA_L4 ×2' for a deployment: machine, accelerator and replicas."""
    replicas = view.live.replicas if view.live else 0
    machine = view.machine_type or "—"
    return f"{machine} ×{replicas}" if replicas and replicas > 1 else machine


def inventory_json(found: Inventory) -> dict[str, object]:
    return {
        "ours": [v.as_dict() for v in found.ours],
        "not_ours": [v.as_dict() for v in found.not_ours],
        "errors": found.errors,
        "providers": {
            name: {"status": check.status.value, "detail": check.detail, "hint": check.hint}
            for name, check in sorted(found.checks.items())
        },
        "all_checked": found.all_checked,
        "nothing_running": found.nothing_running,
        "burn_rate_usd_per_h": found.burn_rate_usd_per_h,
    }


def _print_checks(found: Inventory) -> None:
    from tunedeck.endpoints.inventory import CheckStatus

    for name, check in sorted(found.checks.items()):
        # Escaped: details and hints quote config sections such as "[vertex]", which are not markup.
        detail, hint = escape(check.detail), escape(check.hint)
        if check.status is CheckStatus.CHECKED:
            stderr.print(f"[green]{name}:[/] checked", highlight=False)
        elif check.status is CheckStatus.NOT_CONFIGURED:
            stderr.print(f"[dim]{name}: not configured, so nothing of yours runs there ({detail})[/]", highlight=False)
            if hint:
                stderr.print(f"[dim]  to set it up: {hint}[/]", highlight=False)
        else:
            stderr.print(f"[yellow]{name}: could not check: {detail}[/]", highlight=False)
            if hint:
                stderr.print(f"[yellow]  hint: {hint}[/]", highlight=False)


@app.command("list")
def list_cmd(ctx: typer.Context, provider: ProviderOpt = None, json_out: JsonOpt = False) -> None:
    """Every hourly-billed thing tunedeck knows, with uptime, rate, accrued cost and last use, and which
    providers were actually checked."""
    found = workspace(ctx).endpoints.inventory(provider)
    if json_out:
        emit_json(inventory_json(found))
        return
    _print_checks(found)
    if not found.ours and not found.not_ours:
        if found.nothing_running:
            stderr.print("Nothing billed by the hour is running.")
        else:
            stderr.print(
                "Nothing is listed, but not every provider could be checked (above): something may still be billing."
            )
        return
    from rich.table import Table

    table = Table()
    for header in ("provider", "id", "model", "machine", "rate", "uptime", "accrued", "last use", "auto-teardown"):
        kept = header in ("id", "model")
        table.add_column(header, overflow="fold" if kept else "ellipsis", min_width=12 if kept else None)
    for view in found.ours:
        accrued = view.accrued_cost_usd()
        idle_limit = view.idle_teardown_s
        table.add_row(
            view.provider,
            view.id,
            view.model,
            _machine(view),
            _rate(view),
            _duration(view.uptime_s()),
            "—" if accrued is None else f"${accrued:,.2f}",
            "never" if view.last_used_at is None else f"{_duration(view.idle_s())} ago",
            f"after {_duration(idle_limit)} idle" if idle_limit else "off",
        )
    if found.ours:
        stdout.print(table)
    for view in found.not_ours:
        line = f"not ours (left alone): {view.provider}:{view.id} {view.model} {_rate(view)}"
        stdout.print(line, highlight=False, markup=False)


def _print_results(results: list[TeardownResult]) -> None:
    for result in results:
        cost = f" (accrued ≈ ${result.accrued_cost_usd:,.2f})" if result.accrued_cost_usd is not None else ""
        colour = "green" if result.ok else "red"
        stderr.print(
            f"[{colour}]{result.outcome}[/] "
            + escape(f"{result.provider}:{result.endpoint_id}{cost} {result.detail}".rstrip()),
            highlight=False,
        )


@app.command("teardown")
def teardown_cmd(
    ctx: typer.Context,
    endpoint: Annotated[str | None, typer.Argument(help="Endpoint id or name.")] = None,
    all_idle: Annotated[
        str | None, typer.Option("--all-idle", help="Every endpoint of ours idle at least this long (e.g. 30m).")
    ] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Everything tunedeck owns, across providers (foreign ones are never touched).")
    ] = False,
    provider: ProviderOpt = None,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Undeploy/unload and record it. Idempotent; foreign endpoints are never touched; failures can be re-run."""
    from tunedeck.endpoints.idle import parse_duration

    if sum(x is not None and x is not False for x in (endpoint, all_idle, everything or None)) != 1:
        raise UsageError(
            "Give one endpoint ID, --all-idle DURATION, or --all.",
            "e.g. `tunedeck endpoints teardown --all-idle 30m`, or `--all` for everything tunedeck owns.",
        )
    ws = workspace(ctx)
    if provider is not None:
        ws.require_known_provider(provider)  # before asking anything
    if endpoint is not None:
        targets = [ws.endpoints.resolve(endpoint, provider)]
        reason = "requested by the user"
        listing = ", ".join(f"{p}:{e}" for p, e in targets)
    else:
        if all_idle is not None:
            views = ws.endpoints.idle(parse_duration(all_idle), provider)
            reason = f"bulk teardown: idle for at least {all_idle}"
            nothing = f"No endpoint of ours has been idle for {all_idle}."
        else:
            views = ws.endpoints.inventory(provider).ours
            reason, nothing = "teardown of everything tunedeck owns", "Nothing of ours is running."
        if not views:
            stderr.print(nothing)
            if json_out:
                emit_json([])
            return
        targets = [(v.provider, v.id) for v in views]
        for view in views:
            accrued = view.accrued_cost_usd()
            spent = f", accrued ≈ ${accrued:,.2f}" if accrued is not None else ""
            line = f"  {view.provider}:{view.id} ({view.model}, {_rate(view)}{spent})"
            stderr.print(line, highlight=False, markup=False)
        listing = f"these {len(targets)}"
    confirm(f"Tear down {listing}?", yes)
    results = ws.endpoints.teardown_targets(targets, reason=reason)
    if json_out:
        emit_json(results)
    _print_results(results)
    failed = [r for r in results if not r.ok]
    if failed:
        stderr.print(f"{len(failed)} of {len(results)} not torn down; run the same command again to retry.")
        raise typer.Exit(
            int(ExitCode.UNAVAILABLE if any(r.outcome == "failed" for r in failed) else ExitCode.BAD_INPUT)
        )


@app.command("autostop")
def autostop_cmd(
    ctx: typer.Context,
    endpoint: EndpointArg,
    idle: Annotated[
        str | None, typer.Argument(help="Tear down after this long unused (e.g. 30m); omit with --off.")
    ] = None,
    off: Annotated[bool, typer.Option("--off", help="Never tear this endpoint down automatically.")] = False,
    provider: ProviderOpt = None,
) -> None:
    """Idle auto-teardown for one endpoint, run by the monitor (`jobs watch`, the TUI)."""
    if (idle is not None) == off:
        raise UsageError("Give a duration (e.g. 30m) or --off.")
    name, endpoint_id = workspace(ctx).endpoints.set_autostop(endpoint, None if off else idle, provider)
    stderr.print(f"{name}:{endpoint_id}: " + ("auto-teardown off" if off else f"tear down after {idle} idle"))


@app.command("test")
def test_cmd(
    ctx: typer.Context,
    endpoint: EndpointArg,
    prompt: Annotated[str, typer.Option("--prompt", help="What to send.")] = "Say hello in five words.",
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = 32,
    provider: ProviderOpt = None,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Send one short prompt to the endpoint's model; report the reply and its latency. A model you tore down
    is loaded again by this, so it asks first (--yes: load it without asking)."""
    ws = workspace(ctx)
    target = ws.endpoints.prepare_test(endpoint, provider)
    if target.reloads:
        stderr.print(f"[yellow]{escape(target.reloads)}[/]", highlight=False)
        confirm(f"Load {target.model} again to test it?", yes)
    name, endpoint_id = target.provider, target.endpoint_id
    reply = ws.endpoints.test(endpoint_id, prompt, provider=name, max_tokens=max_tokens)
    if json_out:
        emit_json({"endpoint": endpoint_id, **reply.as_dict()})
        return
    stdout.print(reply.reply, highlight=False)
    stderr.print(reply.describe(), highlight=False)
