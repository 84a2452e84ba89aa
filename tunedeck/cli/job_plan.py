"""How the CLI shows what a submission will be (validation, cost, what using the model costs) and the base models
it can ask for: rendering only, of what `ws.jobs.plan` and `ws.jobs.base_models` decide."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from tunedeck.cli.output import stderr, stdout

if TYPE_CHECKING:
    from tunedeck.jobs.actions import BaseModelRow
    from tunedeck.jobs.submit import SubmissionPlan


def show_plan(plan: SubmissionPlan) -> None:
    from tunedeck.data.issues import summarise

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
            where = f"{name}:{issue.line}" if issue.line is not None else f"{name} (file)"
            stderr.print(f"[red]error[/] {escape(where)}: {escape(issue.message)}", highlight=False)
        if len(checked.errors) > 20:
            stderr.print(f"… and {len(checked.errors) - 20} more errors in {name}", highlight=False)
        for group in summarise(checked.warnings, checked.omitted)[:5]:
            if group.repeated:  # the same warning on many rows is said once
                lines = ", ".join(str(n) for n in group.lines if n is not None)
                more = ", …" if group.count > len(group.lines) else ""
                places = [f"{name} ({group.count:,}×, lines {lines}{more})"]
            else:
                places = [f"{name}:{line}" if line is not None else f"{name} (file)" for line in group.lines]
            for where in places:
                stderr.print(f"[yellow]warning[/] {escape(where)}: {escape(group.message)}", highlight=False)
    if plan.estimate is not None:
        price = plan.estimate.price
        stderr.print(f"cost: {plan.estimate.describe()}", highlight=False, markup=False)
        stderr.print(f"using the tuned model: {price.describe_usage()}", highlight=False, markup=False)
        if (stale := price.staleness()) is not None:
            stderr.print(f"[yellow]warning:[/] {escape(stale)}", highlight=False)
    elif plan.cost_note:
        stderr.print(f"cost: {plan.cost_note}", highlight=False, markup=False)


def print_base_models(rows: list[BaseModelRow]) -> None:
    """One row per model: training, then input and output per 1M tokens; notes and old-price warnings below."""
    from rich.table import Table

    from tunedeck.costs.prices import usd

    table = Table("provider", "model", "training", "input", "output", "prices as of", title="USD per 1M tokens")
    notes: dict[str, str] = {}
    for row in rows:
        price = row.price
        model = f"{row.model}{row.origin}"
        if price is None:  # said once below the table, for every model it concerns
            table.add_row(row.provider, model, "unknown", "unknown", "unknown", "—")
            notes.setdefault(f"unknown: {row.price_problem}", row.provider)
            continue
        unit_in, unit_out = price.inference_input_usd_per_million_tokens, price.inference_output_usd_per_million_tokens
        if price.inference_note:
            notes[price.inference_note] = row.provider
        table.add_row(
            row.provider,
            model,
            usd(price.usd_per_million_tokens),
            usd(unit_in) if unit_in is not None else "unknown",
            usd(unit_out) if unit_out is not None else "unknown",
            price.as_of,
        )
    stdout.print(table)
    stdout.print("[dim]training: per 1M training tokens (file × epochs); input/output: using the tuned model.[/]")
    for note, provider in notes.items():
        stdout.print(f"[dim]{provider}: {escape(note)}[/]", highlight=False)
    warnings = {row.price.staleness() for row in rows if row.price is not None}
    for warning in sorted(w for w in warnings if w is not None):
        stderr.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
