"""The terminal rendering of an evaluation report: scores with intervals, paired comparisons, verdicts, flips."""

from __future__ import annotations

from rich import box
from rich.markup import escape
from rich.table import Table

from tunedeck.cli.output import stdout
from tunedeck.evaluation.report import EvalReport
from tunedeck.evaluation.stats import format_p
from tunedeck.profiles.evaluate import one_line

FLIPS_PER_COMPARISON = 5


def print_report(report: EvalReport) -> None:
    labels = [m["label"] for m in report.models]
    stdout.print(
        f"[bold]{report.run_id}[/]  {escape(str(report.data.get('path', '')))}  {report.items} item(s)"
        + (f" × {report.repeat}" if report.repeat > 1 else ""),
        highlight=False,
    )
    for model in report.models:
        stdout.print(f"  {escape(model['label'])}: {escape(model['description'])}", highlight=False)
    _scores(report, labels)
    _comparisons(report)
    _usage(report)
    if report.judge:
        stdout.print(
            f"[italic]judge {escape(report.judge['provider'])}:{escape(report.judge['model'])}: its verdicts are "
            "a model's opinion, not measurements[/]",
            highlight=False,
        )
    stdout.print("[bold]Verdicts[/]")
    for comparison in report.comparisons:
        style = "bold" if comparison.outcome.endswith(("better", "higher")) else "dim"
        stdout.print(f"  [{style}]{escape(comparison.verdict)}[/]", highlight=False)
    _flips(report)
    for gate in report.gates:
        mark = "[red]crossed[/]" if gate.crossed else "[green]ok[/]"
        stdout.print(f"gate {escape(gate.condition)}: {mark} ({escape(gate.detail)})", highlight=False)


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _scores(report: EvalReport, labels: list[str]) -> None:
    table = Table(title="scores (95% interval)", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("metric", overflow="fold")
    for label in labels:
        table.add_column(escape(label), justify="right")
    by_key = {(s.model, s.metric): s for s in report.summaries}
    for metric in report.metrics:
        cells = []
        for label in labels:
            s = by_key[(label, metric["name"])]
            interval = "" if s.low is None else f" [{_fmt(s.low)}–{_fmt(s.high)}]"
            count = f" {s.passed}/{s.n}" if s.passed is not None else f" n={s.n}"
            cells.append(f"{_fmt(s.value)}{interval}{count}")
        table.add_row(escape(metric["name"]), *cells)
    stdout.print(table)


def _comparisons(report: EvalReport) -> None:
    table = Table(
        title="paired comparisons: B − A on the same items (p→f: A passed, B failed; f→p: the reverse)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("metric: A → B", overflow="fold")
    for header in ("n", "B − A", "95% CI", "p", "p→f", "f→p"):
        table.add_column(header, justify="right", no_wrap=True)
    for c in report.comparisons:
        interval = "—" if c.low is None else f"{c.low:+.2f}…{c.high:+.2f}"
        table.add_row(
            f"{escape(c.metric)}: {escape(c.a)} → {escape(c.b)}",
            str(c.n),
            "—" if c.diff is None else f"{c.diff:+.2f}",
            interval,
            "—" if c.p_value is None else format_p(c.p_value),
            "—" if c.pass_to_fail is None else str(c.pass_to_fail),
            "—" if c.fail_to_pass is None else str(c.fail_to_pass),
        )
    stdout.print(table)


def _usage(report: EvalReport) -> None:
    table = Table(title="answers", title_justify="left", box=box.SIMPLE_HEAD)
    for header in ("model", "answers", "errors", "cached", "latency mean/p95", "tokens in/out", "cost"):
        table.add_column(header, justify="left" if header == "model" else "right")
    for u in report.usage:
        latency = "—" if u.latency_mean_s is None else f"{u.latency_mean_s:.2f}s / {u.latency_p95_s:.2f}s"
        cost = "unknown" if u.cost_usd is None else f"${u.cost_usd:.4f}"
        table.add_row(escape(u.model), str(u.answers), str(u.errors), str(u.cached), latency,
                      f"{u.prompt_tokens:,} / {u.completion_tokens:,}", cost)  # fmt: skip
    stdout.print(table)


def _flips(report: EvalReport) -> None:
    for c in report.comparisons:
        if not c.flips:
            continue
        stdout.print(f"[bold]flipped on {escape(c.metric)}: {escape(c.a)} → {escape(c.b)}[/]", highlight=False)
        for flip in c.flips[:FLIPS_PER_COMPARISON]:
            stdout.print(
                f"  #{flip.line} {flip.direction}  {escape(one_line(flip.question, 50))}\n"
                f"      {escape(c.a)}: {escape(one_line(flip.output_a, 70))}\n"
                f"      {escape(c.b)}: {escape(one_line(flip.output_b, 70))}",
                highlight=False,
            )
        more = len(c.flips) - FLIPS_PER_COMPARISON
        if more > 0:
            stdout.print(f"  … and {more} more (see --html or --json)", highlight=False)
