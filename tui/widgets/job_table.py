"""`JobTable`: every job, diff-updated in place — cells change with `update_cell`, rows are never rebuilt.

The table keeps its own model of every job (shown or filtered out). News only marks rows dirty; the rows are
redrawn in slices of at most `BUDGET_S` per turn of the event loop, so 500 jobs moving at once never freeze
the UI (keys and repaints run between slices), and the table is re-sorted once when the slices are done.
Only rows in view are drawn: one scrolled out of view is marked stale and drawn when it scrolls back in, so
a second of updates to 500 jobs costs about as much as the 30-odd rows on screen.
Sorting uses typed keys (times, numbers), never the displayed strings; the cursor stays on its job.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual.coordinate import Coordinate
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, ColumnKey, RowDoesNotExist, RowKey

from tui import format as fmt
from tunedeck.jobs.progress import JobProgress
from tunedeck.store import EventRecord, JobRecord

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "job"),
    ("provider", "provider"),
    ("model", "model"),
    ("suffix", "suffix"),
    ("state", "state"),
    ("progress", "step"),
    ("train", "train"),
    ("valid", "valid"),
    ("elapsed", "elapsed"),
    ("cost", "cost"),
)
ROOM: dict[str, int] = {"progress": 7, "train": 6, "valid": 6, "elapsed": 6, "state": 10, "cost": 9}
"""Width kept from the start for columns whose numbers grow ('9/36' → '10/36', '59s' → '1m00s'): a column
that widens moves everything to its right, a repaint of the whole table."""
SORTS: tuple[str, ...] = ("created", "provider", "model", "state", "progress", "train", "elapsed", "cost")
"""What `s` cycles through ("created" is the default, newest first)."""

ROWS_PER_SLICE = 4
"""Rows in view redrawn per turn of the event loop: their repaint comes with the slice."""
TICK_S = 1.0
"""How often the screen moves the clock on (elapsed times)."""
BUDGET_S = 0.008
"""UI-loop time one slice of row updates may take; the rest waits for the next turn."""

Cell = tuple[str, str]
"""(text, style): compared to decide whether a cell changed."""


@dataclass
class JobRow:
    job: JobRecord
    progress: JobProgress = field(default_factory=JobProgress)
    cells: dict[str, Cell] = field(default_factory=dict)
    unread: list[EventRecord] = field(default_factory=list)
    """Events not folded into `progress` yet (done when the row is redrawn, off the message handler)."""
    drawn_at: float = 0.0
    """When its cells were last brought up to date (monotonic seconds)."""

    def render(self, now: datetime) -> dict[str, Cell]:
        job, progress = self.job, self.progress
        return {
            "id": (job.id, "bold"),
            "provider": (job.provider, ""),
            "model": (fmt.middle(job.base_model, 28), ""),
            "suffix": (fmt.middle(str(job.spec.get("suffix") or ""), 18), ""),
            "state": (fmt.job_state(job, now), fmt.state_style(job)),
            "progress": (fmt.progress(progress.step, progress.total_steps), ""),
            "train": (fmt.loss(progress.train_loss), ""),
            "valid": (fmt.loss(progress.valid_loss), ""),
            "elapsed": (fmt.job_elapsed(job, now), ""),
            "cost": fmt.job_cost(job),
        }

    def matches(self, needle: str) -> bool:
        if not needle:
            return True
        whole = (self.job.base_model, str(self.job.spec.get("suffix") or ""), self.job.fine_tuned_model or "")
        haystack = " ".join([*(text for text, _ in self.cells.values()), *whole])
        return needle.lower() in haystack.lower()

    def sort_key(self, column: str, now: datetime) -> Any:
        job, progress = self.job, self.progress
        if column == "created":
            return job.created_at
        if column in ("provider", "model"):
            return job.provider if column == "provider" else job.base_model
        if column == "state":
            return fmt.job_state(job, now)
        if column == "elapsed":
            return fmt.job_elapsed_s(job, now)
        value = {
            "progress": progress.fraction,
            "train": progress.train_loss,
            "cost": job.actual_cost_usd if job.actual_cost_usd is not None else job.estimated_cost_usd,
        }[column]
        return (value is None, value or 0.0)  # unknowns after the known ones


class JobTable(DataTable[Text]):
    filter_text: reactive[str] = reactive("")
    sort_column: reactive[str] = reactive("created")
    sort_reverse: reactive[bool] = reactive(True)

    class Settled(Message):
        """Every pending update is drawn and sorted: counts and the selection may have changed."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.rows_by_id: dict[str, JobRow] = {}
        self.now = datetime.now(UTC)
        self._dirty: dict[str, Any] = {}
        """Job id → its sort key before the change (None: needs sorting whatever happens)."""
        self._draining = False
        self._resort = False
        self._stale: set[str] = set()
        """Rows whose cells are behind their model, drawn when they scroll into view."""
        self._drawn: dict[str, dict[str, Cell]] = {}
        """What each row's cells show now (`JobRow.cells` is what they should show)."""
        # DataTable's render caches key every entry by its update count, so each change makes all of them
        # stale, yet they stay until evicted: up to 10,000 cells of segments and styles that every full garbage
        # collection then walks (~70,000 objects with 500 live jobs, 100+ ms passes). A screenful needs far
        # fewer; these sizes hold a tall terminal's view twice over.
        self._cell_render_cache.maxsize = 1500
        self._row_render_cache.maxsize = 300
        self._row_renderable_cache.maxsize = 300
        self._line_cache.maxsize = 300

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(Text(label.ljust(ROOM.get(key, 0))), key=key)
        self._drain_soon()

    # -- what the screen calls --------------------------------------------------------------------------

    @property
    def selected(self) -> JobRecord | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except RowDoesNotExist:
            return None
        row = self.rows_by_id.get(key or "")
        return row.job if row else None

    @property
    def settled(self) -> bool:
        return not self._dirty and not self._draining

    def update_jobs(self, jobs: Iterable[JobRecord], progress: dict[str, JobProgress] | None = None) -> None:
        """Insert or update these jobs (a first load passes their progress too)."""
        self.apply(jobs, progress=progress)

    def apply(
        self,
        jobs: Iterable[JobRecord] = (),
        events: dict[str, list[EventRecord]] | None = None,
        *,
        progress: dict[str, JobProgress] | None = None,
    ) -> None:
        """Take one batch of news; it is drawn in slices from the next turn on.

        A record older than the one shown is ignored: a worker's answer can arrive after the live updates that
        followed it. `events` (job id → newer events) moves progress and losses on."""
        for job in jobs:
            row = self.rows_by_id.get(job.id)
            if row is None:
                row = self.rows_by_id[job.id] = JobRow(job)
                self._dirty[job.id] = None
            elif job.updated_at < row.job.updated_at:
                continue
            else:
                self._mark(job.id)
            row.job = job
            if progress and job.id in progress:
                row.progress = progress[job.id]
        for job_id, new in (events or {}).items():
            row = self.rows_by_id.get(job_id)
            if row is not None:
                self._mark(job_id)
                row.unread.extend(new)
        self._drain_soon()

    def forget(self, job_ids: Iterable[str]) -> None:
        for job_id in job_ids:
            self.rows_by_id.pop(job_id, None)
            self._dirty.pop(job_id, None)
            self._stale.discard(job_id)
            self._drawn.pop(job_id, None)
            if job_id in self.rows:
                self.remove_row(job_id)
        self._drain_soon()

    def tick(self, now: datetime) -> None:
        """The clock moved: elapsed times of the unfinished jobs in view are redrawn (the others when they
        scroll into view or change)."""
        self.now = now
        if not self.is_mounted or not self.row_count:
            return
        recent = time.monotonic() - TICK_S * 0.9
        for job_id in self._visible_ids():
            row = self.rows_by_id.get(job_id)
            # A row redrawn by news since the last tick already shows a fresh elapsed time: redrawing it again
            # would cost a second repaint of the table in the same second.
            if row is not None and not row.job.finished and row.drawn_at < recent:
                self._dirty.setdefault(job_id, row.sort_key(self.sort_column, now))
        self._drain_soon()

    # -- reactives ---------------------------------------------------------------------------------------

    def watch_filter_text(self) -> None:
        for job_id in self.rows_by_id:
            self._mark(job_id)
        self._drain_soon()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._draw_stale_in_view()

    def on_resize(self) -> None:
        self._draw_stale_in_view()

    def watch_sort_column(self) -> None:
        self._sort()

    def watch_sort_reverse(self) -> None:
        self._sort()

    # -- drawing in slices -------------------------------------------------------------------------------

    def _mark(self, job_id: str) -> None:
        if job_id not in self._dirty:
            self._dirty[job_id] = self.rows_by_id[job_id].sort_key(self.sort_column, self.now)

    def _drain_soon(self) -> None:
        if not self._draining and self._dirty and self.is_mounted and self.columns:
            self._draining = True
            self.call_later(self._drain)

    def _drain(self) -> None:
        # Rows in view first, a few per slice (each slice repaints just the rows it wrote); the rest only refresh
        # their model and are marked stale, which costs no repaint.
        deadline = time.perf_counter() + BUDGET_S
        in_view = [job_id for job_id in self._visible_ids() if job_id in self._dirty] if self.row_count else []
        for job_id in in_view[:ROWS_PER_SLICE]:
            self._drain_one(job_id)
        while not in_view[ROWS_PER_SLICE:] and self._dirty and time.perf_counter() < deadline:
            self._drain_one(next(iter(self._dirty)))
        if in_view[ROWS_PER_SLICE:]:
            self.call_after_refresh(self._drain)  # after these rows are painted: one short repaint at a time
            return
        if self._dirty:
            self.call_later(self._drain)  # the rest on the next turn: keys and repaints go first
            return
        self._draining = False
        if self._resort:
            self._resort = False
            self._sort()
        self.post_message(self.Settled())

    def _drain_one(self, job_id: str) -> None:
        before = self._dirty.pop(job_id)
        row = self.rows_by_id.get(job_id)
        if row is None:
            return
        if row.unread:
            row.progress, row.unread = row.progress.advanced(row.unread), []
        added = self._draw(job_id, row)
        self._resort |= added or before is None or before != row.sort_key(self.sort_column, self.now)

    def _draw(self, job_id: str, row: JobRow) -> bool:
        """Bring one row up to date: added or removed as the filter says, its cells rewritten if in view (else
        marked stale); True when it was added."""
        row.cells = row.render(self.now)
        shown = job_id in self.rows
        if not row.matches(self.filter_text):
            if shown:
                self.remove_row(job_id)
                self._drawn.pop(job_id, None)
                self._stale.discard(job_id)
            return False
        if not shown:
            self.add_row(*(Text(text, style=style) for text, style in row.cells.values()), key=job_id)
            self._drawn[job_id] = row.cells
            return True
        if self._in_view(job_id):
            self._write(job_id, row.cells)
        else:
            self._stale.add(job_id)
        return False

    def _write(self, job_id: str, cells: dict[str, Cell]) -> None:
        self.rows_by_id[job_id].drawn_at = time.monotonic()
        old = self._drawn.get(job_id, {})
        changed = [(column, text, style) for column, (text, style) in cells.items() if old.get(column) != (text, style)]
        if changed:
            self._set_row_cells(job_id, changed)
        self._drawn[job_id] = cells
        self._stale.discard(job_id)

    def _set_row_cells(self, job_id: str, changed: list[tuple[str, str, str]]) -> None:
        """`update_cell` for several cells of one row, repainting only that row.

        `DataTable.update_cell` repaints the whole table for every cell it changes; with every row in view
        changing each second, that repaint (~100 ms on a busy 2-core machine) was the longest stall left. This
        keeps the same bookkeeping as `update_cell` in Textual 8.2.8 (pinned exactly; the Pilot and snapshot
        tests exercise it), then asks for the row's region only, unless a column had to widen."""
        row_key = RowKey(job_id)
        widened = False
        for column, text, style in changed:
            column_key = ColumnKey(column)
            self._data[row_key][column_key] = Text(text, style=style)
            if self._widens(column, text):
                self._updated_cells.add(CellKey(row_key, column_key))
                self._require_update_dimensions = widened = True
        self._update_count += 1
        if widened:
            self.refresh()
        else:
            self.refresh_row(self.get_row_index(job_id))

    def _in_view(self, job_id: str) -> bool:
        first = int(self.scroll_y)
        return first - 2 <= self.get_row_index(job_id) <= first + self.size.height + 2

    def _visible_ids(self) -> list[str]:
        first = max(0, int(self.scroll_y) - 2)
        last = min(self.row_count, int(self.scroll_y) + self.size.height + 3)
        return [self.coordinate_to_cell_key(Coordinate(i, 0)).row_key.value or "" for i in range(first, last)]

    def _draw_stale_in_view(self) -> None:
        if not self._stale or not self.is_mounted:
            return
        for job_id in self._visible_ids():
            if job_id in self._stale:
                self._write(job_id, self.rows_by_id[job_id].cells)

    def _sort(self) -> None:
        if not self.row_count:
            return
        selected = self.selected
        column, now = self.sort_column, self.now
        self.sort("id", key=lambda cell: self.rows_by_id[cell.plain].sort_key(column, now), reverse=self.sort_reverse)
        if selected is not None and selected.id in self.rows:
            self.move_cursor(row=self.get_row_index(selected.id), animate=False)
        self._draw_stale_in_view()  # rows that moved into view

    def _widens(self, column: str, text: str) -> bool:
        """Whether `text` needs a wider column. Asking DataTable to re-measure a cell that fits makes it measure
        the whole column again (every row), which turned a 500-job update into a second-long stall."""
        return len(text) > self.columns[ColumnKey(column)].content_width
