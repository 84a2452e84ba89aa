"""`tunedeck migrate …`: carry fine-tunes off OpenAI before it stops taking new jobs; thin over `ws.migrate`."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tunedeck.cli.context import workspace as workspace_of
from tunedeck.cli.options import JsonOpt, YesOpt, confirm, money
from tunedeck.cli.output import emit_json, stderr, stdout

if TYPE_CHECKING:
    from tunedeck.migration import RetrainPlan
    from tunedeck.workspace import Workspace

app = typer.Typer(
    help="Carry fine-tunes off OpenAI: list them, export data and golden answers, retrain elsewhere, compare.",
    no_args_is_help=True,
)

SourceArg = Annotated[str, typer.Argument(help="The job: OpenAI job id (ftjob-…), or a tunedeck job id.")]
FolderArg = Annotated[
    str, typer.Argument(help="The export folder, or the job id whose default folder (migrate-JOB) is here.")
]
ProviderOpt = Annotated[str, typer.Option("--provider", "-p", help="Where the job ran (openai, or local).")]


@app.command("list")
def list_cmd(ctx: typer.Context, provider: ProviderOpt = "openai", json_out: JsonOpt = False) -> None:
    """Your fine-tuning jobs and models, with base model, creation date, shutdown date and the days left."""
    from tunedeck.migration.deadline import describe

    found = workspace_of(ctx).migrate.list(provider)
    if json_out:
        emit_json(found.as_dict())
        return
    from rich.table import Table

    table = Table(box=None)
    table.add_column("job", no_wrap=True)  # the id to copy into `migrate export`: never broken across lines
    for header in ("state", "base model", "fine-tuned model", "created", "shutdown"):
        table.add_column(header, overflow="fold")
    for row in found.rows:
        created = f"{row.created_at:%Y-%m-%d}" if row.created_at else "—"
        table.add_row(
            row.job_id or "—", row.state, row.base_model or "—", row.model or "—", created, row.shutdown_date or "—"
        )
    if found.rows:
        stdout.print(table)
    else:
        stderr.print(f"No fine-tuning jobs or fine-tuned models on {provider}.", highlight=False)
    for note in found.notes:
        stderr.print(f"[dim]{note}[/]", highlight=False)
    stderr.print(describe(), highlight=False, markup=False)
    if found.rows:
        stderr.print("Next: `tunedeck migrate export JOB` while the model still answers.", highlight=False)


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    job: SourceArg,
    provider: ProviderOpt = "openai",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder to create (default: ./migrate-JOB).", file_okay=False)
    ] = None,
    heldout: Annotated[
        Path | None, typer.Option("--heldout", help="Prompts for golden answers (default: the validation file).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N held-out items.")] = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1, help="Per golden answer.")] = 256,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Write into an existing, non-empty folder (replacing its files).")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Download the job's files, per-step metrics, hyperparameters and record, and record golden answers."""
    from tunedeck.migration import ExportRequest

    ws = workspace_of(ctx)
    request = ExportRequest(job, provider, out, heldout, limit, overwrite, max_tokens)
    with _progress(ws):
        result = ws.migrate.export(request)
    manifest = result.manifest
    if json_out:
        emit_json({"folder": str(result.folder), "manifest": manifest.model_dump(mode="json")})
        return
    for saved in manifest.saved:
        stderr.print(f"[green]saved[/]   {saved.path} ({saved.bytes:,} bytes)", highlight=False)
    for missing in manifest.missing:
        stderr.print(f"[yellow]missing[/] {missing.kind}: {missing.reason}", highlight=False, markup=True)
    golden = manifest.golden
    if golden:
        failed = f", {golden['failed']} failed" if golden.get("failed") else ""
        stderr.print(
            f"golden answers: {golden['answered']} of {golden['asked']} from {golden['model']}{failed}",
            highlight=False,
            markup=False,
        )
    stdout.print(str(result.folder), highlight=False, markup=False)
    stderr.print(f"Next: `tunedeck migrate retrain {result.folder} --to local|vertex`.", highlight=False)


@app.command("retrain")
def retrain_cmd(
    ctx: typer.Context,
    job: FolderArg,
    to: Annotated[str, typer.Option("--to", help="local or vertex.")],
    from_dir: Annotated[
        Path | None, typer.Option("--from", help="The export folder (default: JOB itself, or ./migrate-JOB).")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Base model on the target (default: a comparable one).")
    ] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", min=1, help="Instead of the original's.")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1)] = None,
    lr_multiplier: Annotated[float | None, typer.Option("--learning-rate-multiplier", min=0.0)] = None,
    wait: Annotated[
        bool, typer.Option("--wait", "-w", help="Follow the job, then compare with the golden answers.")
    ] = False,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Convert the exported data, submit a comparable job (asking first), and with --wait compare its model."""
    from tunedeck.migration import RetrainRequest
    from tunedeck.migration.compare import find_folder

    ws = workspace_of(ctx)
    folder = from_dir if from_dir is not None else find_folder(job)
    named = job if from_dir is not None and Path(job).expanduser().resolve() != from_dir.resolve() else None
    request = RetrainRequest(folder, to, model, named, epochs, batch_size, lr_multiplier)
    plan = ws.migrate.plan_retrain(request)
    _show_retrain_plan(plan)
    if not plan.submission.ok:
        from tunedeck.exitcodes import ExitCode

        if json_out:
            emit_json({"submitted": False, "plan": plan.as_dict()})
        raise typer.Exit(int(ExitCode.BAD_INPUT))
    ws.jobs.preflight(to)
    estimate = plan.submission.estimate
    cost = money(estimate.estimated_usd) if estimate else "an unknown amount"
    confirm(f"Submit to {to} ({plan.submission.spec.base_model}) for {cost}?", yes)
    submitted = ws.migrate.retrain(plan)
    stderr.print(f"[green]submitted[/] {submitted.id} ({to} job {submitted.provider_job_id})", highlight=False)
    from tunedeck.jobs.actions import exit_code_for, job_as_dict

    document: dict[str, Any] = {"plan": plan.as_dict(), "job": job_as_dict(submitted)}
    if not wait:
        if json_out:
            emit_json(document)
        else:
            stdout.print(submitted.id, highlight=False)
            stderr.print(f"Later: `tunedeck migrate compare {folder}` once it has succeeded.", highlight=False)
        return
    from tunedeck.cli.job_progress import follow

    finished = follow(ws, submitted, json_out=json_out)
    document["job"] = job_as_dict(finished)
    code = exit_code_for(finished)
    if code != 0:
        if json_out:
            emit_json(document)
        raise typer.Exit(int(code))
    document["comparison"] = _compare(ws, folder, yes=yes, json_out=json_out)
    if json_out:
        emit_json(document)


@app.command("compare")
def compare_cmd(
    ctx: typer.Context,
    job: FolderArg,
    html: Annotated[Path | None, typer.Option("--html", help="Also write the self-contained HTML report.")] = None,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Score the retrained model and its base against the original's golden answers (as `eval run` reports)."""
    from tunedeck.migration.compare import find_folder

    ws = workspace_of(ctx)
    report = _compare(ws, find_folder(job), yes=yes, json_out=json_out, html=html)
    if json_out:
        emit_json(report)


# -- output ----------------------------------------------------------------------------------------------


def _show_retrain_plan(plan: RetrainPlan) -> None:
    from tunedeck.cli.job_plan import show_plan

    spec = plan.submission.spec
    mapped = plan.mapped
    stderr.print(
        f"retrain {plan.manifest.job_id} ({plan.manifest.base_model}) on {plan.target} as {spec.base_model}: "
        f"epochs {mapped.n_epochs}, batch size {mapped.batch_size}, "
        f"learning-rate multiplier {mapped.learning_rate_multiplier}",
        highlight=False,
        markup=False,
    )
    for note in mapped.notes + plan.conversion_notes():
        stderr.print(f"  note: {note}", highlight=False, markup=False)
    show_plan(plan.submission)


def _compare(
    ws: Workspace, folder: Path, *, yes: bool, json_out: bool, html: Path | None = None
) -> dict[str, Any] | None:
    """The evaluation against the golden answers: printed as `eval run` prints it, or returned for --json."""
    request = ws.migrate.compare_request(folder)
    stderr.print(
        "comparing with the golden answers (references: the original model's answers; "
        "`retrained` should score near the top, and above `base`):",
        highlight=False,
        markup=False,
    )
    if not json_out:
        from tunedeck.cli.eval import run_request

        run_request(ws, request, yes=yes, json_out=False, html=html, junit=None)
        return None
    plan = ws.evals.plan(request)
    if plan.estimate.costs_money:
        confirm(f"Run the comparison: {plan.estimate.describe()}?", yes)
    with _progress(ws, "eval"):
        report = ws.evals.execute(plan)
    if html is not None:
        from tunedeck.evaluation.report_html import write_html

        write_html(report, html)
    return dataclasses.asdict(report)


@contextlib.contextmanager
def _progress(ws: Workspace, prefix: str = "migrate") -> Iterator[None]:
    """Downloads and golden answers as bars on a terminal; a line per tenth in a log (stdout stays clean)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tunedeck.events import ProgressAdvanced

    def accepts(event: object) -> bool:
        return isinstance(event, ProgressAdvanced) and event.task.startswith(prefix)

    if not stderr.is_terminal:
        said: dict[str, float] = {}

        def say(event: ProgressAdvanced) -> None:
            step = event.total / 10 if event.total else 1.0
            if event.task in said and event.done < said[event.task] + step and event.done != event.total:
                return
            said[event.task] = event.done
            of = f"/{event.total:g}" if event.total else ""
            stderr.print(f"{event.task}: {event.done:g}{of} {event.unit}", highlight=False, markup=False)

        unsubscribe = ws.subscribe(say, accepts)
        try:
            yield
        finally:
            unsubscribe()
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[amount]}"),
                  TimeElapsedColumn(), console=stderr, transient=True) as bar:  # fmt: skip
        tasks: dict[str, Any] = {}

        def show(event: ProgressAdvanced) -> None:
            if event.task not in tasks:
                tasks[event.task] = bar.add_task(event.task, total=event.total, amount="")
            bar.update(tasks[event.task], completed=event.done, total=event.total, amount=_amount(event))

        unsubscribe = ws.subscribe(show, accepts)
        try:
            yield
        finally:
            unsubscribe()


def _amount(event: Any) -> str:
    if event.unit == "bytes":
        total = f"/{event.total / 1e6:.1f}" if event.total else ""
        return f"{event.done / 1e6:.1f}{total} MB"
    return f"{event.done:g}/{event.total:g}" if event.total else f"{event.done:g}"
