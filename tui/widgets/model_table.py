"""`ModelTable`: every tuned model across providers, as `tunedeck models list` shows them — where each came from
(base model, the job that made it), where it is served, when its base model shuts down, and who owns it.
Foreign rows are dimmed; a row can say "deploying…" or "deleting…" while that runs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowDoesNotExist

from tui import format as fmt
from tunedeck.models import TunedModelView

COLUMNS: tuple[tuple[str, str], ...] = (
    ("provider", "provider"),
    ("model", "model"),
    ("served", "served"),
    ("status", "status"),
    ("base", "base model"),
    ("job", "job"),
    ("created", "created"),
    ("shutdown", "base shuts down"),
    ("owner", "owner"),
)
NAME_WIDTH = 26
"""Long ids are cut in the middle in the table; dialogs and the filter use them whole."""


def row_key(view: TunedModelView) -> str:
    return f"{view.provider}:{view.id}"


def served(view: TunedModelView) -> str:
    """Where it answers, short: the endpoint's last segment and how it bills."""
    if not view.reachable:
        return "unknown (unreachable)"
    if not view.served:
        return "per token" if view.provider == "openai" else fmt.DASH
    parts = []
    for place in view.served:
        where = place.endpoint_id.rsplit("/", 1)[-1]
        parts.append(f"{where} ({fmt.rate(place.hourly_rate_usd) if place.billing == 'hourly' else place.billing})")
    return "; ".join(parts)


@dataclass
class ModelRow:
    view: TunedModelView
    status: str = ""
    status_style: str = ""

    def cells(self) -> dict[str, tuple[str, str]]:
        view, dim = self.view, "" if self.view.ours else "dim"
        return {
            "provider": (view.provider, dim),
            "model": (fmt.middle(view.id, NAME_WIDTH), dim or "bold"),
            "served": (served(view), dim),
            "status": (self.status, self.status_style or dim),
            "base": (fmt.middle(view.base_model or "?", NAME_WIDTH), dim),
            "job": (view.job_id or view.provider_job_id or fmt.DASH, dim),
            "created": (f"{view.created_at:%Y-%m-%d}" if view.created_at else fmt.DASH, dim),
            "shutdown": (view.base_shutdown_date or fmt.DASH, dim),
            "owner": (view.owner or fmt.DASH, dim),
        }

    def haystack(self) -> str:
        view = self.view
        return " ".join([*(text for text, _ in self.cells().values()), view.id, view.base_model]).lower()


class ModelTable(DataTable[Text]):
    filter_text: reactive[str] = reactive("")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.rows_by_key: dict[str, ModelRow] = {}

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    @property
    def selected(self) -> ModelRow | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except RowDoesNotExist:
            return None
        return self.rows_by_key.get(key or "")

    def show(self, views: Iterable[TunedModelView]) -> None:
        """A fresh listing: rows are added, updated in place (keeping a "deploying…" mark), and removed."""
        listed = {row_key(v): v for v in views}
        for key, view in listed.items():
            row = self.rows_by_key.get(key)
            if row is None:
                self.rows_by_key[key] = ModelRow(view)
            else:
                row.view = view
        self.remove_keys([key for key in self.rows_by_key if key not in listed])
        self._refresh(list(listed))

    def mark(self, key: str, status: str, style: str = "") -> None:
        row = self.rows_by_key.get(key)
        if row is not None:
            row.status, row.status_style = status, style
            self._refresh([key])

    def remove_keys(self, keys: list[str]) -> None:
        for key in keys:
            self.rows_by_key.pop(key, None)
            if key in self.rows:
                self.remove_row(key)

    def watch_filter_text(self) -> None:
        self._refresh(list(self.rows_by_key))

    def _refresh(self, keys: list[str]) -> None:
        if not self.is_mounted or not self.columns:
            return
        needle, added, first = self.filter_text.lower(), False, not self.rows
        for key in keys:
            row = self.rows_by_key.get(key)
            if row is None:
                continue
            if needle and needle not in row.haystack():
                if key in self.rows:
                    self.remove_row(key)
                continue
            cells = row.cells()
            if key not in self.rows:
                self.add_row(*(Text(text, style=style) for text, style in cells.values()), key=key)
                added = True
                continue
            for column, (text, style) in cells.items():
                current = self.get_cell(key, column)
                if current.plain != text or str(current.style) != style:
                    wider = len(text) > self.columns[ColumnKey(column)].content_width
                    self.update_cell(key, column, Text(text, style=style), update_width=wider)
        if added:
            self._sort(keep_cursor=not first)  # the first rows: the cursor starts at the top, on one of ours

    def _sort(self, *, keep_cursor: bool) -> None:
        """Ours first, then by provider and id; the cursor stays on its model."""
        selected = self.selected if keep_cursor else None
        self.sort("owner", "provider", "model",
                  key=lambda cells: (cells[0].plain != "tunedeck", cells[1].plain, cells[2].plain))  # fmt: skip
        if selected is not None and (key := row_key(selected.view)) in self.rows:
            self.move_cursor(row=self.get_row_index(key), animate=False)
        elif not keep_cursor:
            self.move_cursor(row=0, animate=False)
