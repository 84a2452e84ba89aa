"""`EndpointTable`: everything that bills by the hour or holds memory. Uptime and accrued cost tick every
second from the recorded start and rate (no provider call); foreign rows are dimmed; a row can say
"tearing down…" or why its teardown failed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from tui import format as fmt
from tunedeck.endpoints.inventory import EndpointView

COLUMNS: tuple[tuple[str, str], ...] = (
    ("provider", "provider"),
    ("endpoint", "endpoint"),
    ("status", "status"),
    ("model", "model"),
    ("owner", "owner"),
    ("uptime", "uptime"),
    ("rate", "rate"),
    ("accrued", "accrued"),
    ("last_use", "last use"),
    ("autostop", "auto-teardown"),
)
TEARING_DOWN = "tearing down…"
NAME_WIDTH = 32
"""Long names are cut in the middle in the table; dialogs and the filter use them whole."""


def row_key(view: EndpointView) -> str:
    return f"{view.provider}:{view.id}"


@dataclass
class EndpointRow:
    view: EndpointView
    idle_teardown_s: float | None = None
    last_used_at: datetime | None = None
    status: str = ""
    status_style: str = ""

    @classmethod
    def of(cls, view: EndpointView) -> EndpointRow:
        return cls(view, view.idle_teardown_s, view.last_used_at)

    def started_at(self) -> datetime | None:
        if self.view.record is not None:
            return self.view.record.started_at
        return self.view.live.created_at if self.view.live else None

    def uptime_s(self, now: datetime) -> float | None:
        started = self.started_at()
        return None if started is None else max(0.0, (now - started).total_seconds())

    def accrued_usd(self, now: datetime) -> float | None:
        rate, uptime = self.view.hourly_rate_usd, self.uptime_s(now)
        return None if rate is None or uptime is None else rate * uptime / 3600

    def idle_s(self, now: datetime) -> float | None:
        last = self.last_used_at or self.started_at()
        return None if last is None else max(0.0, (now - last).total_seconds())

    def names(self) -> tuple[str, str, str]:
        return self.view.id, self.view.display_name, self.view.model

    def cells(self, now: datetime) -> dict[str, tuple[str, str]]:
        view, dim = self.view, "" if self.view.ours else "dim"
        autostop = ("after " + fmt.span(self.idle_teardown_s) + " idle") if self.idle_teardown_s else "off"
        return {
            "provider": (view.provider, dim),
            "endpoint": (fmt.middle(view.display_name, NAME_WIDTH), dim or "bold"),
            "status": (self.status, self.status_style or dim),
            # The local backend's endpoints are their models: saying it twice would push the costs off screen.
            "model": ("(same)", "dim")
            if view.model == view.display_name
            else (fmt.middle(view.model, NAME_WIDTH), dim),
            "owner": ("tunedeck" if view.ours else "foreign", dim),
            "uptime": (fmt.duration(self.uptime_s(now)), dim),
            "rate": (fmt.rate(view.hourly_rate_usd), dim),
            "accrued": (fmt.money(self.accrued_usd(now)), dim),
            "last_use": (fmt.ago(self.last_used_at, now), dim),
            "autostop": (autostop if view.ours else fmt.DASH, dim),
        }


class EndpointTable(DataTable[Text]):
    filter_text: reactive[str] = reactive("")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.rows_by_key: dict[str, EndpointRow] = {}
        self.now = datetime.now(UTC)

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    @property
    def selected(self) -> EndpointRow | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except RowDoesNotExist:
            return None
        return self.rows_by_key.get(key or "")

    def show(self, views: Iterable[EndpointView]) -> None:
        """A fresh inventory: rows are added, updated in place, and removed when no longer listed (a failed
        teardown's message stays on its row until the next attempt)."""
        listed: dict[str, EndpointView] = {row_key(v): v for v in views}
        for key, view in listed.items():
            row = self.rows_by_key.get(key)
            if row is None:
                self.rows_by_key[key] = EndpointRow.of(view)
            else:
                row.view, row.idle_teardown_s, row.last_used_at = view, view.idle_teardown_s, view.last_used_at
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

    def tick(self, now: datetime) -> None:
        self.now = now
        self._refresh(list(self.rows_by_key))

    def watch_filter_text(self) -> None:
        self._refresh(list(self.rows_by_key))

    def _refresh(self, keys: list[str]) -> None:
        if not self.is_mounted or not self.columns:
            return
        needle, added = self.filter_text.lower(), False
        for key in keys:
            row = self.rows_by_key.get(key)
            if row is None:
                continue
            cells = row.cells(self.now)
            visible = not needle or needle in " ".join([*(t for t, _ in cells.values()), *row.names()]).lower()
            if not visible:
                if key in self.rows:
                    self.remove_row(key)
                continue
            if key not in self.rows:
                self.add_row(*(Text(text, style=style) for text, style in cells.values()), key=key)
                added = True
                continue
            for column, (text, style) in cells.items():
                current = self.get_cell(key, column)
                if current.plain != text or str(current.style) != style:
                    self.update_cell(key, column, Text(text, style=style), update_width=len(text) > len(current))
        if added:
            self._sort()

    def _sort(self) -> None:
        """Ours first, then by provider and name; the cursor stays on its endpoint."""
        selected = self.selected
        self.sort(
            "owner",
            "provider",
            "endpoint",
            key=lambda cells: (cells[0].plain != "tunedeck", cells[1].plain, cells[2].plain),
        )
        if selected is not None and (key := row_key(selected.view)) in self.rows:
            self.move_cursor(row=self.get_row_index(key), animate=False)
