"""`JobsScreen`, the home screen: every job across providers, live. `enter` opens one, `c` cancels after a
confirmation, `r` retries a submission that never reached the provider, `/` filters, `s` sorts."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from tui import format as fmt
from tui.deck import reported
from tui.messages import JobActionDone, JobsLoaded
from tui.screens.base import TableScreen
from tui.screens.confirm import ConfirmScreen
from tui.widgets.job_table import SORTS, TICK_S, JobTable
from tui.widgets.status_header import StatusHeader
from tunedeck.events import JobEventsArrived, JobForgotten, job_of
from tunedeck.store import EventRecord, JobRecord, Submission


class JobsScreen(TableScreen):
    TITLE_TEXT = "Jobs"
    SPENDS = frozenset({"cancel_job", "retry_job", "new_job"})
    ROW_ACTIONS = ("open_job", "cancel_job", "retry_job")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "open_job",
            "open",
            id="jobs.open",
            tooltip="Open the selected job: timeline, loss chart, events, checkpoints",
        ),
        Binding("n", "new_job", "new job", id="jobs.new", tooltip="Submit a new job with the wizard (:new)"),
        Binding("c", "cancel_job", "cancel", id="jobs.cancel", tooltip="Cancel the selected job (asks first)"),
        Binding(
            "r", "retry_job", "retry", id="jobs.retry", tooltip="Submit again a job that never reached its provider"
        ),
        Binding("slash", "filter", "filter", id="jobs.filter", tooltip="Filter the jobs"),
        Binding("s", "sort", "sort", id="jobs.sort", tooltip="Sort by the next column"),
        Binding(
            "S", "reverse_sort", "reverse sort", show=False, id="jobs.reverse_sort", tooltip="Reverse the sort order"
        ),
        Binding(
            "ctrl+r",
            "refresh",
            "ask now",
            show=False,
            id="jobs.refresh",
            tooltip="Ask the providers about unfinished jobs now",
        ),
    ]

    def __init__(self, deck: Any) -> None:
        super().__init__(deck)
        self.loaded = False
        self._described: tuple[object, ...] = ()

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.TITLE_TEXT)
        yield JobTable(id="jobs")
        yield Static("Loading jobs…", id="jobs-empty", classes="empty")
        yield Footer(compact=True)

    @property
    def table(self) -> JobTable:
        return self.query_one(JobTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.table.now = self.deck.clock()
        self._describe()
        self.set_interval(TICK_S, self._tick)

    def start(self) -> None:
        self.load()

    # -- data --------------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="jobs-load", exit_on_error=False)
    def load(self) -> None:
        with reported(self, "Loading jobs"):
            jobs = self.ws.jobs.all(limit=None)
            progress = {job.id: self.ws.jobs.progress(job.id) for job in jobs}
            self.post_message(JobsLoaded(jobs, progress))

    def on_jobs_loaded(self, message: JobsLoaded) -> None:
        self.loaded = True
        self.table.update_jobs(message.jobs, message.progress)
        self._describe()
        self.refresh_keys()

    @on(JobTable.Settled)
    def _settled(self) -> None:
        self._describe()
        self.refresh_keys()

    def handle_events(self, events: list[Any]) -> None:
        latest: dict[str, JobRecord] = {}
        arrived: dict[str, list[EventRecord]] = {}
        forgotten: list[str] = []
        for event in events:
            if isinstance(event, JobForgotten):
                forgotten.append(event.job_id)
                latest.pop(event.job_id, None)
            elif (job := job_of(event)) is not None:
                latest[job.id] = job
                if isinstance(event, JobEventsArrived):
                    arrived.setdefault(job.id, []).extend(event.events)
        table = self.table
        table.apply(latest.values(), arrived)
        if forgotten:
            table.forget(forgotten)

    def _tick(self) -> None:
        self.table.tick(self.deck.clock())

    def _describe(self) -> None:
        table = self.table
        total, shown = len(table.rows_by_id), table.row_count
        state = (self.loaded, total, shown, table.filter_text, table.sort_column, table.sort_reverse, table.settled)
        if state == self._described:
            return  # unchanged: touching the title or the note would repaint and re-lay out the screen
        self._described = state
        arrow = "↓" if table.sort_reverse else "↑"
        title = f"{shown} of {total} jobs" if table.filter_text else f"{total} jobs"
        table.border_title = f"{title} · sorted by {table.sort_column} {arrow}"
        table.border_subtitle = f"filter: {table.filter_text}" if table.filter_text else ""
        empty = self.query_one("#jobs-empty", Static)
        if not self.loaded:
            empty.update("Loading jobs…")
        elif not total:
            empty.update(
                Text.assemble(
                    "No jobs yet. Submit one with ",
                    ("tunedeck jobs submit DATASET --provider local --model smollm2-135m-instruct", "bold"),
                    ";\nit appears here within seconds, and so does any job submitted from another terminal.",
                )
            )
        elif not shown:
            empty.update(Text(f"No job matches {table.filter_text!r} (esc in the filter clears it)."))
        empty.display = not shown and (table.settled or not total)

    # -- keys ----------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed or not self.is_mounted:
            return allowed
        # With a row selected the key always answers: the action says why when it does not apply to that job
        # (a key that silently does nothing is what users trip on). Without one, the keys are shown dimmed.
        if action in self.ROW_ACTIONS:
            return True if self.table.selected else None
        return True

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.refresh_keys()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_job()

    def action_open_job(self) -> None:
        job = self.table.selected
        if job is None:
            return
        from tui.screens.job_detail import JobDetailScreen  # deferred: the chart library loads with it

        self.app.push_screen(JobDetailScreen(self.deck, job.id))

    def action_new_job(self) -> None:
        self.app.go_to("new")  # type: ignore[attr-defined]

    def action_cancel_job(self) -> None:
        job = self.table.selected
        if job is None or self.refused("cancel_job"):
            return
        if job.finished or job.submission is not Submission.SUBMITTED:
            self.notify(f"Job {job.id} is {job.display_state}; there is nothing to cancel.", severity="warning")
            return
        body = Text.assemble(
            (f"{job.id}", "bold"), f" on {job.provider} ({job.provider_job_id}), {job.base_model}\n",
            f"state {fmt.job_state(job, self.deck.clock())} · estimated {fmt.money(job.estimated_cost_usd)}\n\n",
            "The provider stops training; what was trained so far may still be billed.",
        )  # fmt: skip

        def chosen(yes: bool | None) -> None:
            if yes:
                self.run_job_action("cancel", job.id)

        self.app.push_screen(ConfirmScreen("Cancel this job?", body, "Cancel job", cancel_label="Keep it"), chosen)

    def action_retry_job(self) -> None:
        job = self.table.selected
        if job is None or self.refused("retry_job"):
            return
        if job.submission is not Submission.NOT_SUBMITTED:
            self.notify(f"Job {job.id} is {job.display_state}: only a submission that never reached the provider "
                        "can be retried.", severity="warning")  # fmt: skip
            return
        self.run_job_action("retry", job.id)

    @work(thread=True, group="job-actions", exit_on_error=False)
    def run_job_action(self, verb: str, job_id: str) -> None:
        # Not exclusive: cancelling one job must never abandon the cancel of another still in flight.
        with reported(self, f"The {verb}"):
            job = self.ws.jobs.cancel(job_id) if verb == "cancel" else self.ws.jobs.retry(job_id)
            self.post_message(JobActionDone("cancelled" if verb == "cancel" else "resubmitted", job))

    def on_job_action_done(self, message: JobActionDone) -> None:
        self.table.update_jobs([message.job])
        self.notify(f"{message.job.id} {message.verb}: now {message.job.display_state}.", title="Jobs")

    def action_sort(self) -> None:
        table = self.table
        table.sort_column = SORTS[(SORTS.index(table.sort_column) + 1) % len(SORTS)]
        table.sort_reverse = table.sort_column == "created"  # newest first; everything else ascending
        self._describe()

    def action_reverse_sort(self) -> None:
        self.table.sort_reverse = not self.table.sort_reverse
        self._describe()

    @work(thread=True, exclusive=True, group="jobs-refresh", exit_on_error=False)
    def action_refresh(self) -> None:
        with reported(self, "Asking the providers"):
            self.ws.jobs.refresh()
