"""`EvalRunTable`: past evaluation runs (id, when, models, data, items, status), newest first; rows are added or
updated in place as runs are listed again."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.coordinate import Coordinate
from textual.widgets import DataTable

if TYPE_CHECKING:
    from tunedeck.store.evals import EvalRunRecord

# Status before the wide columns: at 80 columns it is the data file's name that is cut, not the state.
COLUMNS = (("id", "run"), ("when", "when"), ("status", "status"), ("items", "items"), ("models", "models"),
           ("data", "data"))  # fmt: skip


class EvalRunTable(DataTable[str]):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.runs: dict[str, EvalRunRecord] = {}

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def show(self, runs: list[EvalRunRecord]) -> None:
        for run in runs:
            if run.id in self.runs:
                self.update_cell(run.id, "status", run.status)
            else:
                spec, data = run.spec, run.spec.get("data", {})
                self.add_row(
                    run.id, f"{run.created_at:%m-%d %H:%M}", run.status, str(data.get("items", "")),
                    ", ".join(t["label"] for t in spec.get("targets", [])), Path(str(data.get("path", "?"))).name,
                    key=run.id,
                )  # fmt: skip
            self.runs[run.id] = run
        self.sort("when", "id", reverse=True)
        self.border_title = f"runs ({len(self.runs)})"

    @property
    def selected(self) -> EvalRunRecord | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        return self.runs.get(str(key))

    def select(self, run_id: str) -> None:
        if run_id in self.runs:
            self.move_cursor(row=self.get_row_index(run_id))
