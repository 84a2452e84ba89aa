"""`tunedeck demo`: the whole local loop on the bundled sample data, with progress, in a few minutes on a CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tunedeck.cli.output import stderr, stdout
from tunedeck.exitcodes import ExitCode


def demo(
    dataset: Annotated[Path | None, typer.Option(help="Chat dataset to fine-tune on.")] = None,
    prompts: Annotated[Path | None, typer.Option(help="Held-out questions, one per line.")] = None,
    n_prompts: Annotated[int, typer.Option("--n-prompts", min=1, help="How many held-out questions to compare.")] = 4,
    keep_model: Annotated[bool, typer.Option("--keep-model", help="Keep the tuned model; do not delete it.")] = False,
) -> None:
    """Validate → upload → fine-tune (LoRA, local) → compare base vs tuned → unload and delete."""
    from rich.rule import Rule
    from rich.table import Table

    from providers.base import TuningSpec
    from tunedeck import demo as steps
    from tunedeck.cli.jobs import follow, open_workspace, show_plan
    from tunedeck.data.split import split_file
    from tunedeck.jobs.submit import execute_plan, plan_submission

    dataset = dataset or steps.locate(steps.DATASET)
    questions = steps.read_prompts(prompts or steps.locate(steps.PROMPTS), n_prompts)
    workspace = open_workspace()
    work_dir = workspace.settings.data_dir / "demo"

    stderr.print(Rule("1/5 validate and split"))
    split = split_file(
        dataset, validation=0.1, seed=0,
        train_out=work_dir / "train.jsonl", validation_out=work_dir / "validation.jsonl",
        overwrite=True,  # the demo's own work dir: a rerun replaces the last run's split
    )  # fmt: skip
    stderr.print(f"{dataset}: {split.n_train} training / {split.n_validation} validation examples", highlight=False)
    spec = TuningSpec(base_model=steps.BASE_MODEL, training_file=split.train_path, suffix="helpdesk", seed=0)
    plan = plan_submission(
        workspace.settings, steps.PROVIDER, spec, Path(split.train_path), Path(split.validation_path)
    )
    show_plan(plan)
    if not plan.ok:
        raise typer.Exit(int(ExitCode.BAD_INPUT))

    stderr.print(Rule("2/5 upload and submit to the local backend"))
    job = execute_plan(workspace.store, workspace.provider(steps.PROVIDER), plan)
    stderr.print(f"job {job.id} (local job {job.provider_job_id})", highlight=False)

    stderr.print(Rule("3/5 fine-tune (LoRA on SmolLM2-135M-Instruct, CPU)"))
    job = follow(workspace.monitor(), job)
    if job.fine_tuned_model is None:
        stderr.print(f"[red]the job ended {job.display_state}: {job.error or 'no model'}[/]", highlight=False)
        raise typer.Exit(int(ExitCode.BAD_INPUT))

    stderr.print(Rule(f"4/5 base vs tuned on {len(questions)} held-out questions (greedy)"))
    system = steps.system_prompt_of(Path(split.train_path))
    table = Table(show_lines=True, expand=True)
    table.add_column("question", ratio=1)
    table.add_column(steps.BASE_MODEL, ratio=2)
    table.add_column(job.fine_tuned_model, ratio=2)

    def show(result: steps.Comparison) -> None:
        stderr.print(f"[dim]answered:[/] {result.prompt}", highlight=False)
        table.add_row(result.prompt, result.base, result.tuned)

    results = steps.compare(workspace, job.fine_tuned_model, questions, system, on_result=show)
    stdout.print(table)
    base_hits = sum(r.base_has_trait for r in results)
    tuned_hits = sum(r.tuned_has_trait for r in results)
    stdout.print(
        f"Sign-off “{steps.TRAIT}” from the training data: base {base_hits}/{len(results)}, "
        f"tuned {tuned_hits}/{len(results)}.",
        highlight=False,
    )

    stderr.print(Rule("5/5 clean up"))
    for line in steps.clean_up(workspace, job.fine_tuned_model, keep_model=keep_model):
        stderr.print(line, highlight=False)
    workspace.close()
