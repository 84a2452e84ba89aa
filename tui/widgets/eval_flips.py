"""`FlipsPane`: a report's flipped items (passed for one model, failed for the other) in a table, and for the
highlighted one its prompt, reference and both answers side by side."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static

from tui.widgets.eval_report import render_flip

if TYPE_CHECKING:
    from tunedeck.evaluation import EvalReport
    from tunedeck.evaluation.report import Comparison, Flip


class FlipsPane(Horizontal):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.flips: dict[str, tuple[Flip, Comparison]] = {}

    def compose(self) -> ComposeResult:
        yield DataTable(id="ev-flips", cursor_type="row")
        with VerticalScroll(id="ev-flip-pane"):
            yield Static("", id="ev-flip")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in (("line", "line"), ("direction", "flip"), ("metric", "metric")):
            table.add_column(label, key=key)

    def show(self, report: EvalReport) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.flips.clear()
        for n, comparison in enumerate(report.comparisons):
            for flip in comparison.flips:
                key = f"{n}:{flip.item}"
                self.flips[key] = (flip, comparison)
                style = "red" if flip.direction == "pass→fail" else "green"
                table.add_row(str(flip.line), Text(flip.direction, style=style), comparison.metric, key=key)
        counted = sum((c.pass_to_fail or 0) + (c.fail_to_pass or 0) for c in report.comparisons if c.flips)
        table.border_title = f"flipped ({counted})" if counted else "no flipped items"
        if self.flips:
            self._show(next(iter(self.flips)))
        else:
            note = "No item passed for one model and failed for the other."
            self.query_one("#ev-flip", Static).update(Text(note, style="dim"))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show(str(event.row_key.value))

    def _show(self, key: str) -> None:
        if key in self.flips:
            flip, comparison = self.flips[key]
            self.query_one("#ev-flip", Static).update(render_flip(flip, comparison))

    def focus_table(self) -> None:
        self.query_one(DataTable).focus()
