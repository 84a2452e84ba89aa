"""`eval report RUN --html FILE`: one self-contained HTML page, readable offline and sent nowhere.

Tables carry every figure (no script needed to read them); an inline script draws the charts from the JSON
embedded in the page. A Content-Security-Policy forbids any network fetch, so opening the file loads nothing.
"""

from __future__ import annotations

import dataclasses
from html import escape
from pathlib import Path
from typing import Any

import orjson

from tunedeck.evaluation.report import Comparison, EvalReport, Summary
from tunedeck.evaluation.report_assets import SCRIPT, STYLE
from tunedeck.evaluation.stats import format_p
from tunedeck.util.atomic import atomic_write_text

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def write_html(report: EvalReport, path: Path) -> Path:
    atomic_write_text(path, render_html(report))
    return path


def render_html(report: EvalReport) -> str:
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>tunedeck eval {escape(report.run_id)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Evaluation {escape(report.run_id)}</h1>",
        f'<p class="meta">{escape(_meta(report))}</p>',
        *_warnings(report),
        _models(report),
        _verdicts(report),
        _charts(report),
        _scores_table(report),
        _comparisons(report),
        _flips(report),
        _gates(report),
        f'<script id="eval-data" type="application/json">{_embedded(report)}</script>',
        f"<script>{SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part)


def _meta(report: EvalReport) -> str:
    data = report.data
    repeat = f", each asked {report.repeat}×" if report.repeat > 1 else ""
    return (
        f"{report.created_at[:19].replace('T', ' ')} UTC · {data.get('path', '?')} · {report.items} held-out "
        f"item(s){repeat} · run {report.status}"
    )


def _embedded(report: EvalReport) -> str:
    """The report as JSON inside <script>: every <, > and & escaped so no text can end the script element."""
    payload = {
        "models": report.models,
        "metrics": report.metrics,
        "summaries": [dataclasses.asdict(s) for s in report.summaries],
        "loss_curves": report.loss_curves,
    }
    text = orjson.dumps(payload).decode()
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028")):
        text = text.replace(raw, escaped)
    return text.replace("\u2029", "\\u2029")


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )  # fmt: skip
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _warnings(report: EvalReport) -> list[str]:
    lines = [f'<div class="warn">Leakage: {escape(text)}</div>' for text in report.leakage]
    if report.errors:
        lines.append(
            f'<div class="warn">{len(report.errors)} answer(s) failed and are left out of the statistics; '
            f"rerun with <code>tunedeck eval run --resume {escape(report.run_id)} --retry-errors</code>.</div>"
        )
    return lines


def _models(report: EvalReport) -> str:
    usage = {u.model: u for u in report.usage}
    rows = []
    for model in report.models:
        u = usage[model["label"]]
        cost = "unknown" if u.cost_usd is None else f"${u.cost_usd:.4f}"
        latency = "—" if u.latency_mean_s is None else f"{u.latency_mean_s:.2f} s / {u.latency_p95_s:.2f} s"
        rows.append([
            escape(model["label"]), escape(model["description"]), str(u.answers), str(u.errors), str(u.cached),
            latency, f"{u.prompt_tokens:,} / {u.completion_tokens:,}", cost,
        ])  # fmt: skip
    headers = ["model", "what", "answers", "errors", "cached", "latency mean / p95", "tokens in / out", "cost"]
    judge = ""
    if report.judge:
        judge = (
            f'<p class="opinion">Judge: {escape(report.judge["provider"])}:{escape(report.judge["model"])} — its '
            f"verdicts are a model's opinion, not measurements. Rubric: {escape(report.judge['rubric'])}</p>"
        )
    return f"<h2>Models</h2>{_table(headers, rows, {2, 3, 4})}{judge}"


def _verdicts(report: EvalReport) -> str:
    items = "".join(f'<li class="{c.outcome}">{escape(c.verdict)}</li>' for c in report.comparisons)
    return f'<h2>Verdicts</h2><ul class="verdicts">{items}</ul>'


def _charts(report: EvalReport) -> str:
    legend = "".join(
        f'<span><i class="swatch" style="background:{_color(i)}"></i>{escape(m["label"])}</span>'
        for i, m in enumerate(report.models)
    )
    scores = (
        '<div><h2>Scores (95% intervals)</h2><p class="legend">' + legend + "</p>"
        '<svg id="scores-chart" role="img" aria-label="scores with 95% intervals"></svg>'
        "<noscript><p class=note>The chart needs JavaScript; the table below has every figure.</p></noscript></div>"
    )
    losses = "".join(
        f'<h3>{escape(label)}</h3><svg class="loss-chart" data-model="{escape(label)}" role="img" '
        f'aria-label="training loss of {escape(label)}"></svg>'
        for label in report.loss_curves
    )
    loss_block = f"<div><h2>Training loss</h2>{losses}</div>" if losses else ""
    return f'<section class="row">{scores}{loss_block}</section>'


def _color(index: int) -> str:
    palette = ["#2f6fd0", "#d1495b", "#2e9e6a", "#e08e0b", "#7b4fbf", "#12a4b4", "#8c6d31", "#c2418f"]
    return palette[index % len(palette)]


def _scores_table(report: EvalReport) -> str:
    labels = [m["label"] for m in report.models]
    by_key: dict[tuple[str, str], Summary] = {(s.model, s.metric): s for s in report.summaries}
    rows = []
    for metric in report.metrics:
        cells = [escape(metric["name"]) + f'<br><span class="note">{escape(metric["description"])}</span>']
        for label in labels:
            s = by_key[(label, metric["name"])]
            interval = "" if s.low is None else f" [{_num(s.low)}, {_num(s.high)}]"
            passed = f" ({s.passed}/{s.n})" if s.passed is not None else f" (n={s.n})"
            cells.append(f"{_num(s.value)}{interval}{passed}")
        rows.append(cells)
    return "<h2>Scores</h2>" + _table(["metric", *labels], rows, set(range(1, len(labels) + 1)))


def _comparisons(report: EvalReport) -> str:
    rows = []
    for c in report.comparisons:
        interval = "—" if c.low is None else f"[{c.low:+.3f}, {c.high:+.3f}]"
        p = "—" if c.p_value is None else escape(format_p(c.p_value))
        counts = "—" if c.pass_to_fail is None else f"{c.pass_to_fail} / {c.fail_to_pass}"
        diff = "—" if c.diff is None else f"{c.diff:+.3f}"
        rows.append([escape(c.metric), escape(c.a), escape(c.b), str(c.n), diff, interval, p, escape(c.test), counts,
                     f'<span class="{c.outcome}">{escape(c.verdict)}</span>'])  # fmt: skip
    headers = ["metric", "A", "B", "items", "B − A", "95% CI", "p", "test", "pass→fail / fail→pass", "verdict"]
    note = (
        '<p class="note">Paired on the same items; two-sided at α = 0.05, not corrected for multiple comparisons. '
        "For pass/fail metrics the counts are items that went pass→fail and fail→pass from A to B; for the "
        "pairwise judge, the items A won and B won (both orders agreeing).</p>"
    )
    return "<h2>Paired comparisons</h2>" + _table(headers, rows, {3, 4, 6}) + note


def _flips(report: EvalReport) -> str:
    blocks = []
    for c in report.comparisons:
        if not c.flips:
            continue
        rows = [_flip_row(c, f) for f in c.flips]
        headers = ["#", "", "question", "reference", f"{c.a}", f"{c.b}"]
        shown = "" if len(c.flips) == (c.pass_to_fail or 0) + (c.fail_to_pass or 0) else " (first ones)"
        blocks.append(f"<h3>{escape(c.metric)}: {escape(c.a)} → {escape(c.b)}{shown}</h3>" + _table(headers, rows))
    if not blocks:
        return ""
    return '<h2 id="flipped">Flipped items</h2>' + "".join(blocks)


def _flip_row(c: Comparison, flip: Any) -> list[str]:
    a_class, b_class = ("pass", "fail") if flip.direction == "pass→fail" else ("fail", "pass")
    return [
        str(flip.line),
        escape(flip.direction),
        f'<div class="answer">{escape(flip.question)}</div>',
        f'<div class="answer">{escape(flip.reference)}</div>',
        f'<div class="answer {a_class}">{escape(flip.output_a)}</div>',
        f'<div class="answer {b_class}">{escape(flip.output_b)}</div>',
    ]


def _gates(report: EvalReport) -> str:
    if not report.gates:
        return ""
    items = "".join(
        f'<li class="{"crossed" if g.crossed else "ok"}">{escape(g.condition)} — {escape(g.detail)}</li>'
        for g in report.gates
    )
    return f"<h2>Gates (--fail-if)</h2><ul>{items}</ul>"
