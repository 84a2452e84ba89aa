"""`tunedeck demo`: the whole local loop on the bundled sample data, with progress, in a few minutes on a CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tunedeck.cli.context import workspace
from tunedeck.cli.output import stderr, stdout
from tunedeck.exitcodes import ExitCode


def demo(
    ctx: typer.Context,
    dataset: Annotated[Path | None, typer.Option(help="Chat dataset to fine-tune on.")] = None,
    prompts: Annotated[Path | None, typer.Option(help="Held-out questions, one per line.")] = None,
    n_prompts: Annotated[int, typer.Option("--n-prompts", min=1, help="How many held-out questions to compare.")] = 4,
    keep_model: Annotated[bool, typer.Option("--keep-model", help="Keep the tuned model; do not delete it.")] = False,
    epochs: Annotated[
        int | None, typer.Option("--epochs", min=1, help="Epochs to train (default: auto, about 40 steps).")
    ] = None,
) -> None:
    """Validate → upload → fine-tune (LoRA, local) → compare base vs tuned → unload and delete."""
    from rich.rule import Rule
    from rich.table import Table

    from tunedeck import demo as steps
    from tunedeck.cli.job_plan import show_plan
    from tunedeck.cli.job_progress import JobBar
    from tunedeck.events import JobSubmitted, OutputLine, ProgressAdvanced, StepStarted, SubmissionPlanned

    dataset = dataset or steps.locate(steps.DATASET)
    questions = steps.read_prompts(prompts or steps.locate(steps.PROMPTS), n_prompts)
    ws = workspace(ctx)
    bars: list[JobBar] = []

    def render(event: Any) -> None:
        if isinstance(event, StepStarted) and event.task == steps.TASK:
            if bars:
                bars.pop().__exit__(None, None, None)
            stderr.print(Rule(f"{event.number}/{event.total} {event.title}"))
        elif isinstance(event, SubmissionPlanned):
            show_plan(event.plan)
        elif isinstance(event, JobSubmitted):
            stderr.print(f"job {event.job.id} (local job {event.job.provider_job_id})", highlight=False)
            bars.append(JobBar(ws, event.job).__enter__())
        elif isinstance(event, OutputLine) and event.source == steps.TASK:
            stderr.print(event.line, highlight=False)
        elif isinstance(event, ProgressAdvanced) and event.task == "compare":
            stderr.print(f"[dim]answered:[/] {event.message}", highlight=False)
        elif bars:
            bars[-1].handle(event)

    unsubscribe = ws.subscribe(render)
    try:
        result = steps.run_demo(ws, dataset, questions, keep_model=keep_model, epochs=epochs)
    finally:
        unsubscribe()
        while bars:
            bars.pop().__exit__(None, None, None)
    if result.plan is None or not result.plan.ok:
        raise typer.Exit(int(ExitCode.BAD_INPUT))
    if result.tuned_model is None:
        job = result.job
        ended = f"{job.display_state}: {job.error or 'no model'}" if job else "without a job"
        stderr.print(f"[red]the job ended {ended}[/]", highlight=False)
        raise typer.Exit(int(ExitCode.BAD_INPUT))
    table = Table(show_lines=True, expand=True)
    table.add_column("question", ratio=1)
    table.add_column(steps.BASE_MODEL, ratio=2)
    table.add_column(result.tuned_model, ratio=2)
    for row in result.comparisons:
        table.add_row(row.prompt, row.base, row.tuned)
    stdout.print(table)
    base_hits = sum(r.base_has_trait for r in result.comparisons)
    tuned_hits = sum(r.tuned_has_trait for r in result.comparisons)
    n = len(result.comparisons)
    stdout.print(
        f"Sign-off “{steps.TRAIT}” from the training data: base {base_hits}/{n}, tuned {tuned_hits}/{n}.",
        highlight=False,
    )
