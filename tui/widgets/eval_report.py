"""How the `:eval` screen draws a report, a flipped item and an advice: Rich renderables from the core's own
dataclasses (`EvalReport`, `Flip`, `Advice`), so the screen only places them. Nothing is computed here that the
CLI's table does not show: the figures, intervals and verdicts are the evaluation's."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from tunedeck.advice import Advice
    from tunedeck.evaluation import EvalPlan, EvalReport
    from tunedeck.evaluation.report import Comparison, Flip


def number(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.3f}"


def interval(low: float | None, high: float | None, fmt: str = "{:.3f}") -> str:
    if low is None or high is None:
        return ""
    return f"[{fmt.format(low)}, {fmt.format(high)}]"


def p_value(value: float | None) -> str:
    if value is None:
        return "—"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _table(*headers: str) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold", expand=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def render_report(report: EvalReport) -> RenderableType:
    data = str(report.data.get("path", "?"))
    head = Text.assemble((report.run_id, "bold"), f" · {report.status} · {report.created_at[:16].replace('T', ' ')}"
                         f" · {report.items} item(s) of {Path(data).name}")  # fmt: skip
    if report.repeat > 1:
        head.append(f" · each asked {report.repeat}×")
    parts: list[RenderableType] = [head]
    for model in report.models:
        parts.append(Text(f"  {model['label']}: {model['description']}", style="dim"))
    scores = _table("model", "metric", "value", "95% interval", "n")
    for s in report.summaries:
        value = number(s.value) if s.passed is None else f"{number(s.value)} ({s.passed}/{s.n})"
        scores.add_row(s.model, s.metric, value, interval(s.low, s.high), str(s.n))
    parts += [Text("\nScores", style="bold"), scores]
    if report.comparisons:
        parts += [Text("\nPaired comparisons (same items)", style="bold"), _comparisons(report.comparisons)]
        parts.append(Text("\nVerdicts", style="bold"))
        for comparison in report.comparisons:
            style = "green" if comparison.outcome.endswith(("better", "higher")) else "dim"
            parts.append(Text(f"  • {comparison.verdict}", style=style))
    parts += _usage(report)
    for warning in report.leakage:
        parts.append(Text(f"warning: {warning}", style="yellow"))
    if report.errors:
        parts.append(Text(f"{len(report.errors)} answer(s) failed and are left out; r asks them again.",
                          style="yellow"))  # fmt: skip
    return Group(*parts)


def _comparisons(comparisons: list[Comparison]) -> Table:
    table = _table("metric", "A vs B", "B−A", "95% interval", "p", "pass→fail", "fail→pass", "test")
    for c in comparisons:
        table.add_row(
            c.metric, f"{c.a} vs {c.b}", signed(c.diff), interval(c.low, c.high, "{:+.3f}"), p_value(c.p_value),
            "" if c.pass_to_fail is None else str(c.pass_to_fail),
            "" if c.fail_to_pass is None else str(c.fail_to_pass), c.test,
        )  # fmt: skip
    return table


def _usage(report: EvalReport) -> list[RenderableType]:
    from tunedeck.advice.costs import format_usd

    table = _table("model", "answers", "errors", "cached", "latency mean", "tokens in/out", "cost")
    for u in report.usage:
        cost = format_usd(u.cost_usd)
        latency = "—" if u.latency_mean_s is None else f"{u.latency_mean_s:.2f}s"
        table.add_row(u.model, str(u.answers), str(u.errors), str(u.cached), latency,
                      f"{u.prompt_tokens:,}/{u.completion_tokens:,}", cost)  # fmt: skip
    return [Text("\nUsage", style="bold"), table]


def render_flip(flip: Flip, comparison: Comparison) -> RenderableType:
    head = Text.assemble((f"line {flip.line}", "bold"), f" · {comparison.metric} · {comparison.a} → {comparison.b}: ",
                         (flip.direction, "red" if flip.direction == "pass→fail" else "green"))  # fmt: skip
    answers = Table(box=None, expand=True, show_edge=False, header_style="bold")
    answers.add_column(comparison.a, ratio=1, overflow="fold")
    answers.add_column(comparison.b, ratio=1, overflow="fold")
    answers.add_row(flip.output_a or "(empty)", flip.output_b or "(empty)")
    return Group(
        head,
        Text.assemble(("\nPrompt\n", "bold"), flip.question),
        Text.assemble(("\nReference\n", "bold"), flip.reference),
        Text(""),
        answers,
    )


def render_plan(plan: EvalPlan) -> Text:
    """The estimate shown before anything is asked."""
    text = Text()
    if plan.run is not None:
        text.append(f"continuing {plan.run.id}: {plan.recorded} answer(s) already recorded\n")
    labels = ", ".join(t.label for t in plan.targets)
    cached = f", {plan.from_cache} from the cache" if plan.from_cache else ""
    text.append(f"{labels} on {len(plan.items)} item(s): {plan.to_ask} answer(s) to ask{cached}\n")
    text.append(plan.estimate.describe(), style="bold" if plan.estimate.costs_money else "")
    for warning in plan.leakage:
        text.append(f"\nwarning: {warning}", style="yellow")
    return text


def render_advice(advice: Advice) -> RenderableType:
    from tunedeck.advice.costs import format_usd

    table = _table("candidate", "quality [95%]", "latency p50/p90", "prompt tok/req", "per 1k req", "training")
    for c in advice.candidates:
        quality = "\n".join(f"{q.metric} {number(q.value)} {interval(q.low, q.high)}" for q in c.quality)
        latency = f"{number(c.latency_median_s, 2)}/{number(c.latency_p90_s, 2)}s"
        tokens = number(c.prompt_tokens_per_request, 0)
        cost = "free (local)" if c.cost_per_1000_usd == 0 else format_usd(c.cost_per_1000_usd)
        training = f"{format_usd(c.training.usd)} ({c.training.source})" if c.training else ""
        table.add_row(c.label, quality, latency, tokens, cost, training)
    parts: list[RenderableType] = [Text.assemble(("Advice", "bold"), f" from {advice.run_id} on {advice.items} "
                                                 "held-out item(s)\n"), table]  # fmt: skip
    if advice.break_even is not None:
        parts.append(Text(f"\nAgainst {advice.against}: {advice.break_even.describe()}", style="bold"))
    else:
        parts.append(Text("\nBreak-even: none to compute (no prompting candidate of equal quality to weigh the tuned "
                          "model's training against)", style="dim"))  # fmt: skip
    parts.append(Text(f"\n{advice.paragraph}"))
    return Group(*parts)
