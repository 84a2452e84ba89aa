"""`advise --html`: the evaluation's own HTML report with the advice (candidates, costs, verdict) on top."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from tunedeck.advice.costs import format_usd
from tunedeck.util.atomic import atomic_write_text

if TYPE_CHECKING:
    from tunedeck.advice.advise import Advice
    from tunedeck.evaluation.report import EvalReport

_ANCHOR = "</h1>"


def write_advice_html(advice: Advice, report: EvalReport, path: Path) -> Path:
    from tunedeck.evaluation.report_html import render_html

    page = render_html(report)
    head, sep, tail = page.partition(_ANCHOR)
    atomic_write_text(path, head + sep + "\n" + advice_section(advice) + tail)
    return path


def advice_section(advice: Advice) -> str:
    rows = []
    for c in advice.candidates:
        quality = "; ".join(
            f"{q.metric} {_num(q.value)} [{_num(q.low)}, {_num(q.high)}]" for q in c.quality if q.kind != "value"
        )
        training = f"{format_usd(c.training.usd)} ({c.training.source})" if c.training else "—"
        cells = [
            c.label, c.role, quality, _num(c.latency_median_s, 2), _num(c.latency_p90_s, 2),
            _num(c.prompt_tokens_per_request, 0), "free (local)" if c.cost_per_1000_usd == 0
            else format_usd(c.cost_per_1000_usd), c.price, training,
        ]  # fmt: skip
        rows.append("<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in cells) + "</tr>")
    headers = ["candidate", "prompt", "quality [95% interval]", "latency median s", "p90 s", "prompt tokens/request",
               "cost per 1,000 requests", "price used", "training (one-time)"]  # fmt: skip
    head = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>"
    return (
        '<section id="advice"><h2>Advice: prompt or fine-tune?</h2>'
        f'<p class="advice-recommendation"><strong>{escape(advice.recommendation)}</strong></p>'
        f"<p>{escape(advice.paragraph)}</p><table>{head}{''.join(rows)}</table></section>\n"
    )


def _num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"
