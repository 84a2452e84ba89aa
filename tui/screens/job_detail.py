"""`JobDetailScreen`: one job, live — summary and timeline, the loss chart, the events log, and checkpoints
(`t` tests the selected one in a chat). The page reads the store first and asks the provider for
checkpoints separately, so a slow provider never holds the rest of the page."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer

from tui.deck import Deck, reported
from tui.messages import CheckpointsLoaded, JobActionDone, JobDetailLoaded
from tui.screens.base import DeckScreen
from tui.screens.chat import ChatScreen, ChatTarget
from tui.screens.confirm import ConfirmScreen
from tui.widgets.events_log import EventsLog
from tui.widgets.job_summary import JobSummary
from tui.widgets.loss_chart import LossChart
from tui.widgets.status_header import StatusHeader
from tunedeck.events import JobEventsArrived, Predicate, for_job, job_of
from tunedeck.store import JobRecord, StateChange, Submission


class JobDetailScreen(DeckScreen):
    TITLE_TEXT = "Job"
    SPENDS = frozenset({"cancel_job", "test_checkpoint", "deploy_model", "evaluate"})
    ROW_ACTIONS = ("cancel_job", "test_checkpoint")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "t",
            "test_checkpoint",
            "test checkpoint",
            id="job.test_checkpoint",
            tooltip="Test the selected checkpoint in a chat",
        ),
        Binding("c", "cancel_job", "cancel", id="job.cancel", tooltip="Cancel this job (asks first)"),
        Binding("p", "deploy_model", "deploy", id="job.deploy", tooltip="Deploy this job's tuned model (asks first)"),
        Binding("v", "evaluate", "evaluate", id="job.evaluate", tooltip="Evaluate the tuned model against its base"),
        Binding("ctrl+r", "reload", "reload", show=False, id="job.reload", tooltip="Read the job again from the store"),
    ]

    def __init__(self, deck: Deck, job_id: str) -> None:
        super().__init__(deck)
        self.job_id = job_id
        self.job: JobRecord | None = None
        self.checkpoint_models: list[str] = []

    def compose(self) -> ComposeResult:
        yield StatusHeader(f"Job {self.job_id}")
        with Horizontal(id="detail-top"):
            with VerticalScroll(id="summary-pane"):
                yield JobSummary(id="summary")
            yield LossChart(id="chart")
        with Horizontal(id="detail-bottom"):
            yield EventsLog(id="events")
            with Vertical(id="checkpoints-pane"):
                yield DataTable(id="checkpoints", cursor_type="row")
        yield Footer(compact=True)

    def accepts(self) -> Predicate | None:
        return for_job(self.job_id)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#events", EventsLog).border_title = "events"
        checkpoints = self.query_one("#checkpoints", DataTable)
        checkpoints.border_title = "checkpoints"
        checkpoints.add_column("step", key="step")
        checkpoints.add_column("model", key="model")
        self.query_one(JobSummary).now = self.deck.clock()
        self.set_interval(1.0, self._tick)

    def start(self) -> None:
        self.load()

    # -- data --------------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="job-load", exit_on_error=False)
    def load(self) -> None:
        with reported(self, "Loading the job"):
            self.post_message(JobDetailLoaded(self.ws.jobs.detail(self.job_id)))

    @work(thread=True, exclusive=True, group="job-checkpoints", exit_on_error=False)
    def load_checkpoints(self) -> None:
        with reported(self, "Listing checkpoints"):
            self.post_message(CheckpointsLoaded(self.ws.jobs.detail(self.job_id, checkpoints=True)))

    def on_job_detail_loaded(self, message: JobDetailLoaded) -> None:
        detail = message.detail
        self._show_job(detail.job)
        summary = self.query_one(JobSummary)
        summary.progress = detail.progress
        summary.history = tuple(detail.history)
        self.query_one(LossChart).add(detail.events)
        self.query_one(EventsLog).add(detail.events, self.deck.clock())
        if detail.job.submission is Submission.SUBMITTED:
            self.load_checkpoints()
        else:
            self._checkpoint_note(f"none: the job is {detail.job.display_state}")

    def on_checkpoints_loaded(self, message: CheckpointsLoaded) -> None:
        detail, table = message.detail, self.query_one("#checkpoints", DataTable)
        table.clear()
        self.checkpoint_models.clear()
        rows = [(str(c.step), c.model) for c in sorted(detail.checkpoints or [], key=lambda c: c.step)]
        if detail.job.fine_tuned_model and detail.job.fine_tuned_model not in {m for _, m in rows}:
            rows.append(("final", detail.job.fine_tuned_model))
        for step, model in rows:
            self.checkpoint_models.append(model)
            table.add_row(Text(step), Text(model), key=model)
        # By step, the final model last (sorting also redraws the rows at their measured widths).
        table.sort("step", key=lambda cell: (cell.plain == "final", int(cell.plain) if cell.plain.isdigit() else 0))
        if detail.checkpoints_error:
            self._checkpoint_note(f"could not list: {detail.checkpoints_error}")
        elif not rows:
            self._checkpoint_note("none yet")
        else:
            table.border_subtitle = "t tests the selected one"
        self.refresh_keys()

    def _checkpoint_note(self, note: str) -> None:
        self.query_one("#checkpoints", DataTable).border_subtitle = note

    def handle_events(self, events: list[Any]) -> None:
        summary, chart, log = self.query_one(JobSummary), self.query_one(LossChart), self.query_one(EventsLog)
        arrived = [record for e in events if isinstance(e, JobEventsArrived) for record in e.events]
        for event in events:
            job = job_of(event)
            if job is not None:
                self._show_job(job)
        if arrived:
            summary.progress = summary.progress.advanced(arrived)
            chart.add(arrived)
            log.add(arrived, self.deck.clock())

    def _show_job(self, job: JobRecord) -> None:
        summary, was = self.query_one(JobSummary), self.job
        if was is not None and job.updated_at < was.updated_at:
            return  # a worker's answer older than the live updates already shown
        if was is not None and (job.state, job.submission) != (was.state, was.submission):
            summary.history = (
                *summary.history,
                StateChange(job.state, job.raw_state, job.state_detail, job.updated_at),
            )
        self.job = summary.job = job
        self.query_one(StatusHeader).location = f"Job {job.id} · {job.provider}"
        if was is not None and not was.finished and job.finished and job.submission is Submission.SUBMITTED:
            self.load_checkpoints()  # the final model and the last checkpoints are listed once it ends
        self.refresh_keys()

    def _tick(self) -> None:
        self.query_one(JobSummary).now = self.deck.clock()

    # -- keys ----------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed or not self.is_mounted:
            return allowed
        # The keys always answer once the job is shown; the action says why when it does not apply.
        if action in self.ROW_ACTIONS:
            return True if self.job else None
        return True

    def action_test_checkpoint(self) -> None:
        if self.refused("test_checkpoint") or self.job is None:
            return
        table = self.query_one("#checkpoints", DataTable)
        if not table.row_count:
            self.notify("This job has no checkpoint to test yet.", severity="warning")
            return
        row = table.get_row_at(table.cursor_row)
        step, model = row[0].plain, row[1].plain
        label = "the final model" if step == "final" else f"checkpoint at step {step}"
        self.app.push_screen(ChatScreen(self.deck, ChatTarget(self.job.provider, model, f"{self.job.id}, {label}")))

    def action_cancel_job(self) -> None:
        job = self.job
        if job is None or self.refused("cancel_job"):
            return
        if job.finished or job.submission is not Submission.SUBMITTED:
            self.notify(f"Job {job.id} is {job.display_state}; there is nothing to cancel.", severity="warning")
            return
        body = Text.assemble((job.id, "bold"), f" on {job.provider}: the provider stops training; what was "
                             "trained so far may still be billed.")  # fmt: skip

        def chosen(yes: bool | None) -> None:
            if yes:
                self.cancel(job.id)

        self.app.push_screen(ConfirmScreen("Cancel this job?", body, "Cancel job", cancel_label="Keep it"), chosen)

    def action_deploy_model(self) -> None:
        from tui.screens.deploy_flow import start_deploy

        job = self.job
        if job is None or self.refused("deploy_model"):
            return
        if not job.fine_tuned_model:
            self.notify(f"Job {job.id} is {job.display_state}: it has no tuned model to deploy.", severity="warning")
            return
        start_deploy(self.app, self.deck, job.fine_tuned_model, job.provider)

    @work(thread=True, exclusive=True, group="job-cancel", exit_on_error=False)
    def cancel(self, job_id: str) -> None:
        with reported(self, "The cancel"):
            self.post_message(JobActionDone("cancelled", self.ws.jobs.cancel(job_id)))

    def on_job_action_done(self, message: JobActionDone) -> None:
        self._show_job(message.job)
        self.notify(f"{message.job.id} {message.verb}: now {message.job.display_state}.", title="Jobs")

    def action_evaluate(self) -> None:
        """`v`: the eval screen's new-run form with this job's base model against its tuned model."""
        from providers.base import JobState
        from tui.screens.evaluation import EvaluationScreen

        job = self.job
        if job is None or self.refused("evaluate"):
            return
        if job.state is not JobState.SUCCEEDED or not job.fine_tuned_model:
            self.notify(f"Job {job.id} is {job.display_state}: only a succeeded job has a model to evaluate.",
                        title="Nothing to evaluate yet", severity="warning")  # fmt: skip
            return
        self.app.go_to("eval")  # type: ignore[attr-defined]
        if isinstance(self.app.screen, EvaluationScreen):
            self.app.screen.evaluate_job(job)

    def action_reload(self) -> None:
        self.query_one(EventsLog).clear()
        self.query_one(EventsLog).last_seq = -1
        chart = self.query_one(LossChart)
        chart.train, chart.valid = [], []
        self.job = None
        self.load()

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.refresh_keys()
