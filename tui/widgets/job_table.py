"""`JobTable`: every job, diff-updated in place — cells change with `update_cell`, rows are never rebuilt.

The table keeps its own model of every job (shown or filtered out), so a live update of a hidden job costs
nothing on screen and shows up correctly when the filter changes. Sorting uses typed keys (times, numbers),
never the displayed strings, and the cursor stays on the same job when rows move.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

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
SORTS: tuple[str, ...] = ("created", "provider", "model", "state", "progress", "train", "elapsed", "cost")
"""What `s` cycles through ("created" is the default, newest first)."""

Cell = tuple[str, str]
"""(text, style): compared to decide whether a cell changed."""


@dataclass
class JobRow:
    job: JobRecord
    progress: JobProgress = field(default_factory=JobProgress)
    cells: dict[str, Cell] = field(default_factory=dict)

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

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.rows_by_id: dict[str, JobRow] = {}
        self.now = datetime.now(UTC)

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

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

    def update_jobs(self, jobs: Iterable[JobRecord], progress: dict[str, JobProgress] | None = None) -> None:
        """Insert or update these jobs, then re-sort once. A record older than the one shown is ignored: a
        worker's answer can arrive after the live updates that followed it."""
        for job in jobs:
            row = self.rows_by_id.get(job.id)
            if row is None:
                row = self.rows_by_id[job.id] = JobRow(job)
            elif job.updated_at < row.job.updated_at:
                continue
            row.job = job
            if progress and job.id in progress:
                row.progress = progress[job.id]
        self._refresh_rows(self._ids(jobs))

    def advance(self, job: JobRecord, events: Iterable[EventRecord]) -> None:
        """Newer events of a job: its progress and losses move on."""
        row = self.rows_by_id.get(job.id)
        if row is None:
            row = self.rows_by_id[job.id] = JobRow(job)
        row.progress = row.progress.advanced(events)
        self._refresh_rows([job.id])

    def forget(self, job_ids: Iterable[str]) -> None:
        for job_id in job_ids:
            self.rows_by_id.pop(job_id, None)
            if job_id in self.rows:
                self.remove_row(job_id)

    def tick(self, now: datetime) -> None:
        """The clock moved: elapsed times of unfinished jobs (and 'unknown since' dates) are redrawn."""
        self.now = now
        self._refresh_rows([job_id for job_id, row in self.rows_by_id.items() if not row.job.finished], sort=False)

    # -- reactives ---------------------------------------------------------------------------------------

    def watch_filter_text(self) -> None:
        self._refresh_rows(list(self.rows_by_id))

    def watch_sort_column(self) -> None:
        self._sort()

    def watch_sort_reverse(self) -> None:
        self._sort()

    # -- the diff ----------------------------------------------------------------------------------------

    @staticmethod
    def _ids(jobs: Iterable[JobRecord]) -> list[str]:
        return [job.id for job in jobs]

    def _refresh_rows(self, job_ids: list[str], *, sort: bool = True) -> None:
        if not self.is_mounted or not self.columns:
            return
        for job_id in job_ids:
            row = self.rows_by_id.get(job_id)
            if row is None:
                continue
            cells = row.render(self.now)
            old, row.cells = row.cells, cells
            shown = job_id in self.rows
            if not row.matches(self.filter_text):
                if shown:
                    self.remove_row(job_id)
                continue
            if not shown:
                self.add_row(*(Text(text, style=style) for text, style in cells.values()), key=job_id)
                continue
            for column, (text, style) in cells.items():
                if old.get(column) != (text, style):
                    grow = len(text) > len(old.get(column, ("", ""))[0])
                    self.update_cell(job_id, column, Text(text, style=style), update_width=grow)
        if sort:
            self._sort()

    def _sort(self) -> None:
        if not self.row_count:
            return
        selected = self.selected
        column, now = self.sort_column, self.now
        self.sort("id", key=lambda cell: self.rows_by_id[cell.plain].sort_key(column, now), reverse=self.sort_reverse)
        if selected is not None and selected.id in self.rows:
            self.move_cursor(row=self.get_row_index(selected.id), animate=False)
