"""`tunedeck jobs …`: submit, list, show, watch, cancel and retry fine-tuning jobs (thin over submit/monitor)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tunedeck.cli.output import emit_json, stderr, stdout
from tunedeck.errors import UsageError
from tunedeck.exitcodes import ExitCode

if TYPE_CHECKING:
    from tunedeck.jobs.monitor import Monitor
    from tunedeck.jobs.submit import SubmissionPlan
    from tunedeck.store import JobRecord
    from tunedeck.workspace import Workspace

app = typer.Typer(help="Submit fine-tuning jobs and follow them to the end.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Write JSON to stdout.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
JobArg = Annotated[str, typer.Argument(help="Job: tunedeck id (td-…), provider job id, or client key.")]


def open_workspace() -> Workspace:
    from tunedeck.workspace import Workspace

    return Workspace.open()


def confirm(question: str, yes: bool) -> None:
    """Ask before spending or destroying; without a terminal, only --yes proceeds."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{question} Not confirmed: no terminal to ask on.", "Pass --yes to proceed without asking.")
    if not typer.confirm(question, default=False, err=True):
        raise typer.Exit(int(ExitCode.CANCELLED))


def job_json(workspace: Workspace, job: JobRecord, *, history: bool = False, events: bool = False) -> dict[str, Any]:
    import dataclasses

    data = dataclasses.asdict(job)
    data["display_state"] = job.display_state
    if history:
        data["state_history"] = [dataclasses.asdict(c) for c in workspace.store.state_history(job.id)]
    if events:
        data["events"] = [dataclasses.asdict(e) for e in workspace.store.list_events(job.id)]
    return data


def find(workspace: Workspace, ref: str) -> JobRecord:
    job = workspace.store.find_job(ref)
    if job is None:
        raise UsageError(f"No job {ref!r} in the store.", "See `tunedeck jobs list`.")
    return job


def exit_code_for(job: JobRecord) -> ExitCode:
    from providers.base import JobState

    return {
        JobState.SUCCEEDED: ExitCode.OK,
        JobState.FAILED: ExitCode.BAD_INPUT,
        JobState.CANCELLED: ExitCode.CANCELLED,
    }.get(job.state, ExitCode.UNAVAILABLE)


def _money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


# -- submit ----------------------------------------------------------------------------------------------


@app.command("submit")
def submit_cmd(
    dataset: Annotated[Path, typer.Argument(help="Training file (JSONL chat format, or what `data convert` makes).")],
    provider: Annotated[str, typer.Option("--provider", "-p", help="openai, vertex or local.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Base model to fine-tune.")],
    validation: Annotated[Path | None, typer.Option("--validation", help="Held-out validation file.")] = None,
    epochs: Annotated[
        int | None, typer.Option("--epochs", min=1, help="Epochs (default: the provider's auto).")
    ] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1)] = None,
    lr_multiplier: Annotated[float | None, typer.Option("--learning-rate-multiplier", min=0.0)] = None,
    suffix: Annotated[str | None, typer.Option("--suffix", help="Added to the fine-tuned model's name.")] = None,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
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
    from tunedeck.jobs.submit import execute_plan, plan_submission

    workspace = open_workspace()
    spec = TuningSpec(
        base_model=model,
        training_file=str(dataset),
        suffix=suffix,
        n_epochs=epochs or "auto",
        batch_size=batch_size or "auto",
        learning_rate_multiplier=lr_multiplier if lr_multiplier is not None else "auto",
        seed=seed,
        client_key=client_key or "",
    )
    plan = plan_submission(workspace.settings, provider, spec, dataset, validation)
    show_plan(plan)
    if not plan.ok:
        if json_out:
            emit_json({"submitted": False, "training": plan.report, "validation": plan.validation_report})
        raise typer.Exit(int(ExitCode.BAD_INPUT))
    cost = _money(plan.estimate.estimated_usd) if plan.estimate else "an unknown amount"
    confirm(f"Submit to {provider} ({model}) for {cost}?", yes)
    workspace.reconcile()
    job = execute_plan(workspace.store, workspace.provider(provider), plan)
    stderr.print(f"[green]submitted[/] {job.id} ({provider} job {job.provider_job_id})", highlight=False)
    if watch:
        job = follow(workspace.monitor(), job, json_out=json_out)
    if json_out:
        emit_json(job_json(workspace, job))
    else:
        stdout.print(job.id, highlight=False)
    if watch:
        raise typer.Exit(int(exit_code_for(job)))


def show_plan(plan: SubmissionPlan) -> None:
    report = plan.report
    stats = report.stats
    stderr.print(
        f"{report.path}: {stats.n_valid_examples} valid examples, {stats.billable_tokens:,} billable tokens/epoch"
        f" ({stats.token_method})",
        highlight=False,
    )
    for checked in [report, plan.validation_report]:
        if checked is None:
            continue
        name = Path(checked.path).name
        for issue in checked.errors[:20]:
            stderr.print(f"[red]error[/] {name}:{issue.line}: {issue.message}", highlight=False)
        if len(checked.errors) > 20:
            stderr.print(f"… and {len(checked.errors) - 20} more errors in {name}", highlight=False)
        for issue in checked.warnings[:5]:
            stderr.print(f"[yellow]warning[/] {name}:{issue.line}: {issue.message}", highlight=False)
    if plan.estimate is not None:
        stderr.print(f"cost: {plan.estimate.describe()}", highlight=False)
    elif plan.cost_note:
        stderr.print(f"cost: {plan.cost_note}", highlight=False)


# -- watching --------------------------------------------------------------------------------------------


def follow(monitor: Monitor, job: JobRecord, *, json_out: bool = False) -> JobRecord:
    """Watch one job to its end with a progress bar and live loss on stderr; returns its final record."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tunedeck.jobs.monitor import UpdateKind

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=stderr, transient=False) as bar:
        task = bar.add_task(f"{job.id} {job.display_state}", total=None)
        loss = ""
        for update in monitor.watch(job.id):
            job = update.job
            for event in update.events:
                metrics = event.metrics or {}
                if "step" in metrics:
                    total = metrics.get("total_steps")
                    bar.update(task, completed=metrics["step"], total=total if total else None)
                    parts = [
                        f"{k}={metrics[k]:.4f}" for k in ("train_loss", "valid_loss") if metrics.get(k) is not None
                    ]
                    loss = " ".join(parts)
                    if not stderr.is_terminal and not json_out:
                        # No live bar in a log or pipe: one line per step keeps the progress visible there.
                        of = f"/{int(total)}" if total else ""
                        bar.console.print(f"step {int(metrics['step'])}{of} {loss}", highlight=False)
                elif not json_out:
                    bar.console.print(f"[dim]{event.created_at:%H:%M:%S}[/] {event.message}", highlight=False)
            if update.kind in (UpdateKind.UNKNOWN, UpdateKind.RATE_LIMITED):
                wait = f" (asking again in {update.retry_in_s:.0f}s)" if update.retry_in_s else ""
                bar.console.print(f"[yellow]{update.detail}[/]{wait}", highlight=False)
            bar.update(task, description=f"{job.id} {job.display_state} {loss}".rstrip())
    job = monitor.store.require_job(job.id)
    colour = {"succeeded": "green", "failed": "red", "cancelled": "yellow"}.get(job.state.value, "white")
    stderr.print(f"[{colour}]{job.display_state}[/] {job.fine_tuned_model or job.error or ''}", highlight=False)
    return job


@app.command("watch")
def watch_cmd(job_ref: JobArg, json_out: JsonOpt = False) -> None:
    """Follow a job until it finishes (exit 0 succeeded, 1 failed, 4 cancelled, 3 unknown)."""
    workspace = open_workspace()
    workspace.reconcile()
    job = find(workspace, job_ref)
    if job.submission != "submitted":
        raise UsageError(
            f"Job {job.id} was never submitted ({job.submission}).", f"Retry: tunedeck jobs retry {job.id}"
        )
    job = follow(workspace.monitor(), job, json_out=json_out)
    if json_out:
        emit_json(job_json(workspace, job, history=True))
    raise typer.Exit(int(exit_code_for(job)))


# -- list / show / cancel / retry ------------------------------------------------------------------------


@app.command("list")
def list_cmd(
    provider: Annotated[str | None, typer.Option("--provider", "-p")] = None,
    active: Annotated[bool, typer.Option("--active", help="Only jobs that have not finished.")] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="Ask the providers about unfinished jobs first.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
    json_out: JsonOpt = False,
) -> None:
    """Jobs recorded in the store, newest first."""
    workspace = open_workspace()
    if refresh:
        workspace.reconcile()
        monitor = workspace.monitor()
        for job in monitor.pollable_jobs():
            monitor.poll_job(job)
    jobs = workspace.store.list_jobs(unfinished_only=active, provider=provider, limit=limit)
    if json_out:
        emit_json([job_json(workspace, j) for j in jobs])
        return
    if not jobs:
        stderr.print("No jobs yet. Submit one with `tunedeck jobs submit DATASET --provider P --model M`.")
        return
    from rich.table import Table

    table = Table("id", "provider", "base model", "state", "created", "fine-tuned model", "est.", "actual")
    for j in jobs:
        table.add_row(
            j.id,
            j.provider,
            j.base_model,
            j.display_state,
            f"{j.created_at:%Y-%m-%d %H:%M}",
            j.fine_tuned_model or "",
            _money(j.estimated_cost_usd),
            _money(j.actual_cost_usd),
        )
    stdout.print(table)


@app.command("show")
def show_cmd(
    job_ref: JobArg,
    events: Annotated[bool, typer.Option("--events", help="Include every recorded event.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """One job: spec, state history, metrics and costs."""
    workspace = open_workspace()
    job = find(workspace, job_ref)
    if json_out:
        emit_json(job_json(workspace, job, history=True, events=events))
        return
    rows = [
        ("id", job.id),
        ("provider", f"{job.provider} {job.provider_job_id or ''}"),
        ("client key", job.client_key),
        ("base model", job.base_model),
        ("state", f"{job.display_state} {job.state_detail}".strip()),
        ("fine-tuned model", job.fine_tuned_model or "—"),
        ("error", job.error or "—"),
        ("estimated", f"{_money(job.estimated_cost_usd)} ({job.estimated_tokens or '?'} tokens)"),
        ("actual", f"{_money(job.actual_cost_usd)} ({job.billed_tokens or '?'} billed tokens)"),
        ("created", f"{job.created_at:%Y-%m-%d %H:%M:%S}Z"),
    ]
    for name, value in rows:
        stdout.print(f"[bold]{name:>16}[/] {value}", highlight=False)
    for change in workspace.store.state_history(job.id):
        stdout.print(f"{'':>16} {change.at:%H:%M:%S} {change.state} {change.detail}".rstrip(), highlight=False)
    recorded = workspace.store.list_events(job.id)
    metrics = [e.metrics for e in recorded if e.metrics]
    if metrics:
        stdout.print(f"[bold]{'last metrics':>16}[/] {dict(metrics[-1])}", highlight=False)
    for event in recorded if events else []:
        stdout.print(f"{'':>16} {event.created_at:%H:%M:%S} {event.level} {event.message}", highlight=False)


@app.command("cancel")
def cancel_cmd(job_ref: JobArg, yes: YesOpt = False, json_out: JsonOpt = False) -> None:
    """Ask the provider to cancel a running job (what has been trained so far may still be billed)."""
    workspace = open_workspace()
    job = find(workspace, job_ref)
    if job.finished or job.provider_job_id is None:
        raise UsageError(f"Job {job.id} is {job.display_state}; there is nothing to cancel.")
    confirm(f"Cancel {job.id} ({job.provider} {job.provider_job_id})?", yes)
    remote = workspace.provider(job.provider).cancel_job(job.provider_job_id)
    workspace.store.record_status(job.id, remote)
    job = workspace.store.require_job(job.id)
    if json_out:
        emit_json(job_json(workspace, job))
    else:
        stderr.print(f"{job.id}: {job.display_state}", highlight=False)


@app.command("retry")
def retry_cmd(job_ref: JobArg, json_out: JsonOpt = False) -> None:
    """Submit again a job marked "not submitted", with its original client key (never a duplicate)."""
    from tunedeck.jobs.submit import retry_submission

    workspace = open_workspace()
    workspace.reconcile()
    job = find(workspace, job_ref)
    if job.submission == "submitted":
        raise UsageError(f"Job {job.id} is already submitted ({job.provider_job_id}).")
    job = retry_submission(workspace.store, workspace.provider(job.provider), job.id)
    if json_out:
        emit_json(job_json(workspace, job))
    else:
        stderr.print(f"[green]submitted[/] {job.id} ({job.provider} job {job.provider_job_id})", highlight=False)
