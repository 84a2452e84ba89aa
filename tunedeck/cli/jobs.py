"""`tunedeck jobs …`: submit, list, show, watch, cancel, retry and forget fine-tuning jobs (rendering only)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunedeck.cli.context import workspace
from tunedeck.cli.job_plan import print_base_models, show_plan
from tunedeck.cli.job_progress import follow
from tunedeck.cli.options import JobArg, JsonOpt, YesOpt, confirm, money
from tunedeck.cli.output import emit_json, stderr, stdout
from tunedeck.exitcodes import ExitCode

app = typer.Typer(help="Submit fine-tuning jobs and follow them to the end.", no_args_is_help=True)


def _model_help() -> str:
    from tunedeck.costs.base_models import help_text

    return f"Base model to fine-tune, in any letter case. {help_text()}. `tunedeck jobs models` lists them with prices."


MODEL_HELP = _model_help()


# -- submit ----------------------------------------------------------------------------------------------


@app.command("submit")
def submit_cmd(
    ctx: typer.Context,
    dataset: Annotated[Path, typer.Argument(help="Training file (JSONL chat format, or what `data convert` makes).")],
    provider: Annotated[str, typer.Option("--provider", "-p", help="openai, vertex or local.")],
    model: Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)],
    validation: Annotated[Path | None, typer.Option("--validation", help="Held-out validation file.")] = None,
    epochs: Annotated[
        int | None, typer.Option("--epochs", min=1, help="Epochs (default: the provider's auto).")
    ] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1)] = None,
    lr_multiplier: Annotated[float | None, typer.Option("--learning-rate-multiplier", min=0.0)] = None,
    suffix: Annotated[str | None, typer.Option("--suffix", help="Added to the fine-tuned model's name.")] = None,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
    tuning_mode: Annotated[
        str | None, typer.Option("--tuning-mode", help="Vertex open models: lora or full (default: the model's).")
    ] = None,
    client_key: Annotated[
        str | None,
        typer.Option("--client-key", help="Idempotency key: re-running with the same key never creates a second job."),
    ] = None,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Follow the job until it finishes.")] = False,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Validate, show the cost estimate, ask, then upload (once per content) and submit (once per key)."""
    from providers.base import TuningSpec

    ws = workspace(ctx)
    spec = TuningSpec(
        base_model=model,
        training_file=str(dataset),
        suffix=suffix,
        n_epochs=epochs or "auto",
        batch_size=batch_size or "auto",
        learning_rate_multiplier=lr_multiplier if lr_multiplier is not None else "auto",
        seed=seed,
        client_key=client_key or "",
        tuning_mode=tuning_mode,
    )
    plan = ws.jobs.plan(provider, spec, dataset, validation)
    if plan.spec.base_model != model:
        stderr.print(f"model: {plan.spec.base_model} (for {model!r})", highlight=False, markup=False)
    show_plan(plan)
    if not plan.ok:
        if json_out:
            emit_json({"submitted": False, "training": plan.report, "validation": plan.validation_report})
        raise typer.Exit(int(ExitCode.BAD_INPUT))
    ws.jobs.preflight(provider)  # a missing or refused key is said now, not after the user agreed to pay
    cost = money(plan.estimate.estimated_usd) if plan.estimate else "an unknown amount"
    confirm(f"Submit to {provider} ({plan.spec.base_model}) for {cost}?", yes)
    job = ws.jobs.submit(plan)
    stderr.print(f"[green]submitted[/] {job.id} ({provider} job {job.provider_job_id})", highlight=False)
    if watch:
        job = follow(ws, job, json_out=json_out)
    if json_out:
        from tunedeck.jobs.actions import job_as_dict

        emit_json(job_as_dict(job))
    else:
        stdout.print(job.id, highlight=False)
    if watch:
        from tunedeck.jobs.actions import exit_code_for

        raise typer.Exit(int(exit_code_for(job)))


# -- watching --------------------------------------------------------------------------------------------


@app.command("watch")
def watch_cmd(ctx: typer.Context, job_ref: JobArg, json_out: JsonOpt = False) -> None:
    """Follow a job until it finishes (exit 0 succeeded, 1 failed, 4 cancelled, 3 unknown)."""
    from tunedeck.jobs.actions import exit_code_for, job_as_dict

    ws = workspace(ctx)
    ws.jobs.reconcile()
    job = follow(ws, ws.jobs.find(job_ref), json_out=json_out)
    if json_out:
        emit_json(job_as_dict(job, ws.jobs.detail(job.id)))
    raise typer.Exit(int(exit_code_for(job)))


# -- list / show / cancel / retry / forget ---------------------------------------------------------------


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    provider: Annotated[str | None, typer.Option("--provider", "-p")] = None,
    active: Annotated[bool, typer.Option("--active", help="Only jobs that have not finished.")] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="Ask the providers about unfinished jobs first.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
    json_out: JsonOpt = False,
) -> None:
    """Jobs recorded in the store, newest first."""
    from tunedeck.jobs.actions import job_as_dict

    ws = workspace(ctx)
    if refresh:
        ws.jobs.refresh()
    jobs = ws.jobs.all(provider=provider, active=active, limit=limit)
    if json_out:
        emit_json([job_as_dict(j) for j in jobs])
        return
    if not jobs:
        stderr.print("No jobs yet. Submit one with `tunedeck jobs submit DATASET --provider P --model M`.")
        return
    from tunedeck.cli.job_table import job_table

    table, left_out = job_table(jobs, stdout.width)
    stdout.print(table)
    if left_out:
        stderr.print(
            f"[dim]({', '.join(left_out)} left out to fit {stdout.width} columns: see `jobs show ID` or --json)[/]",
            highlight=False,
        )


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    job_ref: JobArg,
    events: Annotated[bool, typer.Option("--events", help="Include every recorded event.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """One job: spec, state history, progress, metrics and costs."""
    from tunedeck.jobs.actions import job_as_dict

    detail = workspace(ctx).jobs.detail(job_ref)
    job = detail.job
    if json_out:
        emit_json(job_as_dict(job, detail, events=events))
        return
    rows = [
        ("id", job.id),
        ("provider", f"{job.provider} {job.provider_job_id or ''}"),
        ("client key", job.client_key),
        ("base model", job.base_model),
        ("state", f"{job.display_state} {job.state_detail}".strip()),
        ("progress", detail.progress.describe() or "—"),
        ("fine-tuned model", job.fine_tuned_model or "—"),
        ("error", job.error or "—"),
        ("estimated", f"{money(job.estimated_cost_usd)} ({job.estimated_tokens or '?'} tokens)"),
        ("actual", f"{money(job.actual_cost_usd)} ({job.billed_tokens or '?'} billed tokens)"),
        ("created", f"{job.created_at:%Y-%m-%d %H:%M:%S}Z"),
    ]
    for name, value in rows:
        stdout.print(f"[bold]{name:>16}[/] {value}", highlight=False)
    for change in detail.history:
        stdout.print(f"{'':>16} {change.at:%H:%M:%S} {change.state} {change.detail}".rstrip(), highlight=False)
    if detail.metrics:
        _print_metrics(detail.metrics)
    for event in detail.events if events else []:
        stdout.print(f"{'':>16} {event.created_at:%H:%M:%S} {event.level} {event.message}", highlight=False)


def _print_metrics(metrics: list) -> None:
    """The last few metrics events as a table: step, losses and whatever else the provider reports."""
    from rich.table import Table

    shown = metrics[-10:]
    keys = ["step", "train_loss", "valid_loss"]
    keys += sorted({k for e in shown for k in (e.metrics or {})} - set(keys) - {"total_steps"})
    table = Table(title=f"metrics (last {len(shown)} of {len(metrics)})")
    for key in keys:
        table.add_column(key, justify="right", overflow="fold")
    for event in shown:
        values = event.metrics or {}
        table.add_row(*(_metric(k, values.get(k)) for k in keys))
    stdout.print(table)


def _metric(key: str, value: object) -> str:
    """Losses and rates with 4 decimals (a loss of 1.0 is 1.0000, not 1); counts as whole numbers."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or key == "step" or key.endswith(("_steps", "tokens", "_s")):
        return f"{value:,.0f}"
    return f"{value:.4f}"


@app.command("cancel")
def cancel_cmd(ctx: typer.Context, job_ref: JobArg, yes: YesOpt = False, json_out: JsonOpt = False) -> None:
    """Ask the provider to cancel a running job (what has been trained so far may still be billed)."""
    from tunedeck.errors import UsageError
    from tunedeck.jobs.actions import job_as_dict

    ws = workspace(ctx)
    job = ws.jobs.find(job_ref)
    if job.finished or job.provider_job_id is None:
        raise UsageError(f"Job {job.id} is {job.display_state}; there is nothing to cancel.")
    confirm(f"Cancel {job.id} ({job.provider} {job.provider_job_id})?", yes)
    job = ws.jobs.cancel(job.id)
    if json_out:
        emit_json(job_as_dict(job))
    else:
        stderr.print(f"{job.id}: {job.display_state}", highlight=False)


@app.command("retry")
def retry_cmd(
    ctx: typer.Context,
    job_ref: JobArg,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Ask for this base model instead (any letter case).")
    ] = None,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Submit again a job marked "not submitted", with its original client key (never a duplicate), optionally
    with another base model (the new estimate is shown and confirmed)."""
    from tunedeck.jobs.actions import job_as_dict

    ws = workspace(ctx)
    if model is not None:
        edited = ws.jobs.retry_plan(job_ref, model)
        stderr.print(
            f"{edited.id}: {edited.provider} {edited.base_model}, estimated {money(edited.estimated_cost_usd)}",
            highlight=False,
            markup=False,
        )
        ws.jobs.preflight(edited.provider)
        confirm(f"Submit {edited.id} to {edited.provider} ({edited.base_model})?", yes)
    job = ws.jobs.retry(job_ref, model=model)
    if json_out:
        emit_json(job_as_dict(job))
    else:
        stderr.print(f"[green]submitted[/] {job.id} ({job.provider} job {job.provider_job_id})", highlight=False)


@app.command("forget")
def forget_cmd(ctx: typer.Context, job_ref: JobArg, json_out: JsonOpt = False) -> None:
    """Remove a submission that never reached a provider (`not-submitted`); submitted jobs are kept."""
    from tunedeck.jobs.actions import job_as_dict

    job = workspace(ctx).jobs.forget(job_ref)
    if json_out:
        emit_json(job_as_dict(job) | {"forgotten": True})
    else:
        stderr.print(f"forgot {job.id} ({job.display_state})", highlight=False)


@app.command("models")
def models_cmd(
    ctx: typer.Context,
    provider: Annotated[str | None, typer.Option("--provider", "-p", help="Only this provider.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """The base models each provider fine-tunes (what `jobs submit --model` takes), with what training and then
    using the tuned model cost."""
    rows = workspace(ctx).jobs.base_models(provider)
    if json_out:
        emit_json([row.as_dict() for row in rows])
        return
    print_base_models(rows)
