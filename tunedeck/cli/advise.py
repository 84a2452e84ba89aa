"""`tunedeck advise`: prompt or fine-tune? Measured quality, latency, cost per request and the break-even volume."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tunedeck.cli.context import workspace as workspace_of
from tunedeck.cli.eval import MetricOpt, _progress, _refuse_data_file, _show_plan
from tunedeck.cli.options import JsonOpt, YesOpt, confirm
from tunedeck.cli.output import emit_json, stderr, stdout

if TYPE_CHECKING:
    from tunedeck.advice import Advice

TRAINING_HELP = "The tuned model's training file: estimates the training cost when no job records it."


def advise(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option("--data", "-d", help="Held-out file (any dataset format).")],
    base: Annotated[str, typer.Option("--base", help="The base model (prompted with the data's own system prompt).")],
    profile: Annotated[str | None, typer.Option("--profile", help="A profile run on the base model.")] = None,
    tuned: Annotated[str | None, typer.Option("--tuned", help="The fine-tuned model.")] = None,
    job: Annotated[str | None, typer.Option("--job", help="Or the tunedeck job that made it.")] = None,
    provider: Annotated[str | None, typer.Option("--provider", "-p", help="Provider of the models.")] = None,
    training: Annotated[
        Path | None,
        typer.Option("--training", help="Training file, to estimate the training cost when no job records it."),
    ] = None,
    volume: Annotated[int | None, typer.Option("--volume", min=1, help="Your requests per month.")] = None,
    months: Annotated[int, typer.Option("--months", min=1, help="Months the training should pay back in.")] = 12,
    metric: MetricOpt = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", min=1)] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N items.")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", "-c", min=1)] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Write the evaluation report with the advice.")] = None,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Compare the base model prompted, the base model with a profile and the tuned model: is fine-tuning worth it?"""
    from tunedeck.advice import AdviseRequest, advice_from_report
    from tunedeck.advice.advise import plan_request

    _refuse_data_file(data, html)
    request = AdviseRequest(
        data=data, base=base, provider=provider, profile=profile, tuned=tuned, job=job, training_file=training,
        metrics=metric or [], volume_per_month=volume, months=months, max_tokens=max_tokens, limit=limit,
        concurrency=concurrency,
    )  # fmt: skip
    workspace = workspace_of(ctx)
    evals = workspace.evals
    eval_request, tuned_job = plan_request(request, workspace)
    plan = evals.plan(eval_request)
    _show_plan(plan)
    if plan.estimate.costs_money:
        confirm(f"Run the comparison: {plan.estimate.describe()}?", yes)
    with _progress(workspace):
        report = evals.execute(plan)
    advice = advice_from_report(workspace, report, request, tuned_job)
    if html is not None:
        from tunedeck.advice.html import write_advice_html

        write_advice_html(advice, report, html)
        stderr.print(f"HTML report: {html}", highlight=False, markup=False)
    if json_out:
        emit_json(advice.to_dict())
    else:
        _print(advice)


def _print(advice: Advice) -> None:
    from rich.table import Table

    from tunedeck.advice.costs import format_usd

    table = Table(box=None)
    for header in ("candidate", "quality [95%]", "latency p50/p90", "prompt tok", "per 1k req", "training"):
        table.add_column(header, overflow="fold")
    for c in advice.candidates:
        quality = "\n".join(f"{q.metric} {_n(q.value)} [{_n(q.low)}, {_n(q.high)}]" for q in c.quality)
        latency = f"{_n(c.latency_median_s, 2)}/{_n(c.latency_p90_s, 2)}s"
        tokens = _n(c.prompt_tokens_per_request, 0)
        cost = "free (local)" if c.cost_per_1000_usd == 0 else format_usd(c.cost_per_1000_usd)
        training = format_usd(c.training.usd) if c.training else ""
        table.add_row(c.label, quality, latency, tokens, cost, training)
    stdout.print(table)
    stdout.print(advice.paragraph, highlight=False, markup=False)


def _n(value: float | None, digits: int = 3) -> str:
    return "?" if value is None else f"{value:.{digits}f}"
