"""The `jobs list` table, fitted to the terminal: what users copy (ids, states, dates, model names) is never cut.

Ids, dates and states keep their full width; model names wrap inside their cell when they must; the less useful
columns (provider, estimated and actual cost) are left out first when the width cannot hold everything, and the
caller says where to find them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from tunedeck.cli.options import money

if TYPE_CHECKING:
    from rich.table import Table

    from tunedeck.store import JobRecord

GAP = 3
"""Between two columns: one space of padding each side and the (blank) rule of the SIMPLE_HEAD box."""
WRAP_MIN = {"state": 13, "base model": 14, "fine-tuned model": 14}
"""The narrowest a wrapping column gets: 'not-submitted' whole, a model name in at most three or four lines."""

Cell = Callable[["JobRecord"], str]

KEPT: Sequence[tuple[str, Cell]] = (
    ("id", lambda j: j.id),
    ("state", lambda j: j.display_state),
    ("created", lambda j: f"{j.created_at:%Y-%m-%d %H:%M}"),
    ("base model", lambda j: j.base_model),
    ("fine-tuned model", lambda j: j.fine_tuned_model or ""),
)
OPTIONAL: Sequence[tuple[str, Cell]] = (
    ("provider", lambda j: j.provider),
    ("est.", lambda j: money(j.estimated_cost_usd)),
    ("actual", lambda j: money(j.actual_cost_usd)),
)


def _widest(header: str, cell: Cell, jobs: Sequence[JobRecord]) -> int:
    return max([len(header), *(len(cell(j)) for j in jobs)])


def job_table(jobs: Sequence[JobRecord], width: int) -> tuple[Table | Any, list[str]]:
    """The table for `width` columns, and the headers of the columns left out to fit. Narrower than the
    columns users copy, each job becomes a few lines instead (wrapped, never cut)."""
    from rich import box
    from rich.table import Table

    needed = 0
    for header, cell in KEPT:
        widest = _widest(header, cell, jobs)
        needed += min(widest, WRAP_MIN[header]) if header in WRAP_MIN else widest
    needed += GAP * (len(KEPT) - 1)
    if needed > width:
        return _stacked(jobs), [header for header, _ in OPTIONAL]
    shown = list(KEPT)
    left_out: list[str] = []
    for header, cell in OPTIONAL:
        extra = _widest(header, cell, jobs) + GAP
        if not left_out and needed + extra <= width:
            shown.append((header, cell))
            needed += extra
        else:
            left_out.append(header)  # in order: once one is left out, so are the later (less useful) ones
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for header, cell in shown:
        widest = _widest(header, cell, jobs)
        if header in WRAP_MIN:
            table.add_column(header, overflow="fold", min_width=min(widest, WRAP_MIN[header]))
        else:
            table.add_column(header, no_wrap=True, min_width=widest)
    for job in jobs:
        table.add_row(*(cell(job) for _, cell in shown))
    return table, left_out


def _stacked(jobs: Sequence[JobRecord]) -> Any:
    from rich.console import Group
    from rich.text import Text

    lines: list[Text] = []
    for job in jobs:
        lines.append(Text(f"{job.id}  {job.display_state}  {job.created_at:%Y-%m-%d %H:%M}", overflow="fold"))
        lines.append(Text(f"  base model: {job.base_model}", overflow="fold"))
        if job.fine_tuned_model:
            lines.append(Text(f"  fine-tuned model: {job.fine_tuned_model}", overflow="fold"))
    return Group(*lines)
