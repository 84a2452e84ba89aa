"""`EvaluationScreen` (`:eval`): past evaluation runs, and for the selected one its report — scores with 95%
intervals, every pair's paired comparison and verdict, the flipped items side by side. `n` starts a run (plan,
estimate, confirm when it costs money, execute with live progress), `r` resumes an interrupted one, `a` compares
prompting with fine-tuning (`advise`). The same calls as `tunedeck eval run|report|list` and `tunedeck advise`:
`ws.evals.plan/execute/runs/report`, and advice's `plan_request`/`advice_from_report`."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, ProgressBar, Static, TabbedContent, TabPane

from tui.deck import Deck, reported
from tui.eval_messages import EvalFinished, EvalPlanned, EvalReportLoaded, EvalRunsListed
from tui.screens.base import DeckScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.eval_form import AdviseForm, EvalDraft, EvalForm
from tui.widgets.eval_flips import FlipsPane
from tui.widgets.eval_report import render_advice, render_plan, render_report
from tui.widgets.eval_runs import EvalRunTable
from tui.widgets.status_header import StatusHeader
from tunedeck.events import Predicate, ProgressAdvanced

if TYPE_CHECKING:
    from tunedeck.advice import Advice, AdviseRequest
    from tunedeck.evaluation import EvalPlan, EvalReport, EvalRequest
    from tunedeck.store import JobRecord
    from tunedeck.store.evals import EvalRunRecord

NO_RUNS = "No evaluation runs yet: n starts one (two models or more on held-out data), a asks prompt or fine-tune."
NO_ADVICE = "a compares the base model prompted, with a profile, and the tuned model: quality, latency, cost."


def _is_eval_progress(event: Any) -> bool:
    return isinstance(event, ProgressAdvanced) and event.task.startswith("eval ")


class EvaluationScreen(DeckScreen):
    TITLE_TEXT = "Evaluations"
    CSS_PATH = "../eval.tcss"
    SPENDS = frozenset({"new_run", "advise", "resume"})
    ROW_ACTIONS = ("resume",)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_run", "new run", id="eval.new_run", tooltip="Start an evaluation run (shows the estimate)"),
        Binding("r", "resume", "resume", id="eval.resume", tooltip="Resume the selected run (asks only what is left)"),
        Binding("a", "advise", "advise", id="eval.advise", tooltip="Prompt or fine-tune? Compare the candidates"),
        Binding("x", "stop", "stop run", id="eval.stop", tooltip="Stop the running evaluation (keeps what is in)"),
        Binding("f", "flips", "flipped items", id="eval.flips", tooltip="The selected run's flipped items"),
        Binding("ctrl+r", "reload", "reload", show=False, id="eval.reload", tooltip="List the runs again"),
    ]  # fmt: skip

    def __init__(self, deck: Deck, root: Path | None = None) -> None:
        super().__init__(deck)
        self.root = root or Path.cwd()
        self.report: EvalReport | None = None
        self.advice: dict[str, Advice] = {}
        self.busy = False
        self.plan: EvalPlan | None = None
        self._wanted: str | None = None
        self._stop = threading.Event()
        """Set by `x` (or leaving the app): the execution ends as interrupted once the answers in flight land."""

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.TITLE_TEXT)
        yield EvalRunTable(id="ev-runs")
        with Horizontal(id="ev-progress-row"):
            yield Static("", id="ev-status")
            yield ProgressBar(id="ev-progress", show_eta=False)
        with TabbedContent(id="ev-tabs"):
            with TabPane("Report", id="ev-tab-report"), VerticalScroll(id="ev-report-pane"):
                yield Static(Text(NO_RUNS, style="dim"), id="ev-report")
            with TabPane("Flipped items", id="ev-tab-flips"):
                yield FlipsPane(id="ev-flips-row")
            with TabPane("Advice", id="ev-tab-advice"), VerticalScroll(id="ev-advice-pane"):
                yield Static(Text(NO_ADVICE, style="dim"), id="ev-advice")
        yield Footer(compact=True)

    def on_mount(self) -> None:  # DeckScreen's on_mount runs as well (Textual calls each class's handler)
        self.query_one("#ev-progress", ProgressBar).display = False
        self.query_one("#ev-progress-row").display = False

    def accepts(self) -> Predicate | None:
        return _is_eval_progress

    def start(self) -> None:
        self.list_runs()

    # -- runs and reports ------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="eval-runs", exit_on_error=False)
    def list_runs(self, select: str | None = None) -> None:
        with reported(self, "Listing evaluation runs"):
            self.post_message(EvalRunsListed(self.ws.evals.runs(), select))

    def on_eval_runs_listed(self, message: EvalRunsListed) -> None:
        table = self.query_one(EvalRunTable)
        table.show(message.runs)
        if message.select is not None and message.select in table.runs:
            table.select(message.select)
            self.load_report(message.select)
        elif self.report is None and (first := table.selected) is not None:
            self.load_report(first.id)
        self.refresh_keys()

    @on(DataTable.RowHighlighted, "#ev-runs")
    def _run_highlighted(self, event: DataTable.RowHighlighted) -> None:
        run_id = str(event.row_key.value)
        if self.report is None or self.report.run_id != run_id:
            self.load_report(run_id)
        self.refresh_keys()

    def load_report(self, run_id: str) -> None:
        self._wanted = run_id
        self.read_report(run_id)

    @work(thread=True, exclusive=True, group="eval-report", exit_on_error=False)
    def read_report(self, run_id: str) -> None:
        with reported(self, f"Reading {run_id}"):
            self.post_message(EvalReportLoaded(self.ws.evals.report(run_id)))

    def on_eval_report_loaded(self, message: EvalReportLoaded) -> None:
        if self._wanted is not None and message.report.run_id != self._wanted:
            return  # an older answer than the row now selected
        self.show_report(message.report)

    def show_report(self, report: EvalReport) -> None:
        self.report = report
        self.query_one("#ev-report", Static).update(render_report(report))
        self.query_one(FlipsPane).show(report)
        advice = self.advice.get(report.run_id)
        self.query_one("#ev-advice", Static).update(render_advice(advice) if advice else Text(NO_ADVICE, style="dim"))
        self.refresh_keys()

    # -- a new run, advise, resume ------------------------------------------------------------------------------

    def _status(self, text: Text | str, style: str = "dim") -> None:
        self.query_one("#ev-status", Static).update(text if isinstance(text, Text) else Text(text, style=style))
        self.query_one("#ev-progress-row").display = bool(str(text)) or self.busy

    def _idle(self, action: str) -> bool:
        if self.refused(action):
            return False
        if self.busy:
            self.notify("An evaluation is running; wait for it to finish.", title="Busy", severity="warning")
            return False
        return True

    def action_new_run(self, draft: EvalDraft | None = None) -> None:
        if not self._idle("new_run"):
            return

        def chosen(request: object) -> None:
            if request is not None:
                self._status("planning…")
                self.make_plan(request)

        self.app.push_screen(EvalForm(draft, self.root), chosen)

    def evaluate_job(self, job: JobRecord) -> None:
        """The job detail's `v`: the form with the job's base model against its tuned one, and its validation
        file as data when the store knows where it came from."""
        self.draft_for_job(job)

    @work(thread=True, exclusive=True, group="eval-draft", exit_on_error=False)
    def draft_for_job(self, job: JobRecord) -> None:
        data = None
        with reported(self, "Looking up the job's validation file"):
            data = self.ws.evals.validation_file(job)
        draft = EvalDraft([f"base={job.base_model}", f"tuned={job.fine_tuned_model}"], str(data or ""), [],
                          job.provider)  # fmt: skip
        self.app.call_from_thread(self.action_new_run, draft)

    def action_advise(self) -> None:
        if not self._idle("advise"):
            return

        def chosen(request: object) -> None:
            if request is not None:
                self._status("planning the comparison…")
                self.make_advise_plan(request)

        self.app.push_screen(AdviseForm({}, self.root), chosen)

    def action_resume(self) -> None:
        if not self._idle("resume"):
            return
        run = self._selected_run()
        if run is None:
            self.notify("Select a run first.", title="Nothing to resume", severity="warning")
            return
        errors = bool(self.report and self.report.run_id == run.id and self.report.errors)
        if run.status == "finished" and not errors:
            self.notify(f"{run.id} is finished and every answer is in.", title="Nothing to resume")
            return
        from tunedeck.evaluation import EvalRequest

        self._status(f"planning the rest of {run.id}…")
        self.make_plan(EvalRequest(resume=run.id, retry_errors=True, base_dir=self.root))

    def _selected_run(self) -> EvalRunRecord | None:
        return self.query_one(EvalRunTable).selected

    @work(thread=True, exclusive=True, group="eval-plan", exit_on_error=False)
    def make_plan(self, request: EvalRequest) -> None:
        with reported(self, "Planning the evaluation"):
            self.post_message(EvalPlanned(self.ws.evals.plan(request)))
            return
        self.app.call_from_thread(self._status, "not started (see the notification)", "red")

    @work(thread=True, exclusive=True, group="eval-plan", exit_on_error=False)
    def make_advise_plan(self, request: AdviseRequest) -> None:
        from tunedeck.advice.advise import plan_request

        with reported(self, "Planning the comparison"):
            eval_request, job = plan_request(request, self.ws)
            self.post_message(EvalPlanned(self.ws.evals.plan(eval_request), (request, job)))
            return
        self.app.call_from_thread(self._status, "not started (see the notification)", "red")

    def on_eval_planned(self, message: EvalPlanned) -> None:
        plan = message.plan
        self._status(render_plan(plan))
        if not plan.estimate.costs_money:
            self._start(plan, message.advise)
            return

        def chosen(yes: bool | None) -> None:
            if yes:
                self._start(plan, message.advise)
            else:
                self._status("not started: nothing was asked", "yellow")

        title = "Run the comparison?" if message.advise else "Run the evaluation?"
        self.app.push_screen(ConfirmScreen(title, render_plan(plan), "Run", cancel_label="Not now", danger=False),
                             chosen)  # fmt: skip

    def _start(self, plan: EvalPlan, advise: tuple[Any, Any] | None) -> None:
        if self.refused("new_run"):
            return
        self.busy, self.plan = True, plan
        self._stop.clear()
        bar = self.query_one("#ev-progress", ProgressBar)
        bar.update(total=max(1, plan.to_ask), progress=0)
        bar.display = True
        self.query_one("#ev-progress-row").display = True
        self.refresh_bindings()
        self.execute(plan, advise)

    @work(thread=True, exclusive=True, group="eval-run", exit_on_error=False)
    def execute(self, plan: EvalPlan, advise: tuple[Any, Any] | None) -> None:
        report, advice = None, None
        with reported(self, "The evaluation"):
            report = self.ws.evals.execute(plan, self._stop.is_set)
            if advise is not None:
                from tunedeck.advice import advice_from_report

                request, job = advise
                advice = advice_from_report(self.ws, report, request, job)
        self.post_message(EvalFinished(report, advice, plan.run.id if plan.run else None))

    def handle_events(self, events: list[Any]) -> None:
        last = events[-1]  # coalesced: only where it stands now matters
        bar = self.query_one("#ev-progress", ProgressBar)
        if last.total:
            bar.update(total=last.total, progress=last.done)
        what = f" · {last.message}" if last.message and last.message != "done" else ""
        total = f"{last.total:.0f}" if last.total else "?"
        self._status(f"{last.task}: {last.done:.0f}/{total} {last.unit}{what}", "")

    def on_eval_finished(self, message: EvalFinished) -> None:
        self.busy, self.plan = False, None
        self.query_one("#ev-progress", ProgressBar).display = False
        self.refresh_bindings()
        if message.report is None:
            where = f" in {message.run_id}; r resumes it" if message.run_id else ""
            self._status(f"stopped: the answers so far are kept{where} (see the notification)", "red")
            self.list_runs(message.run_id)
            return
        report = message.report
        if message.advice is not None:
            self.advice[report.run_id] = message.advice
        self._status(Text.assemble((f"{report.run_id} done", "green"), f" · {report.items} item(s)"))
        self._wanted = report.run_id
        self.show_report(report)
        self.query_one(TabbedContent).active = "ev-tab-advice" if message.advice else "ev-tab-report"
        self.list_runs(report.run_id)

    # -- keys ----------------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed or not self.is_mounted:
            return allowed
        if action == "stop":
            return self.busy
        if action == "resume":
            run = self._selected_run()
            errors = bool(run and self.report and self.report.run_id == run.id and self.report.errors)
            return True if run is not None and (run.status != "finished" or errors) else None
        return True

    def action_stop(self) -> None:
        if self.busy and not self._stop.is_set():
            self._stop.set()
            self._status("stopping: waiting for the answers in flight…", "yellow")

    def on_unmount(self) -> None:
        # Textual calls DeckScreen's own on_unmount too. Quitting mid-run: the worker's thread ends once the
        # answers in flight land, instead of asking every item first.
        self._stop.set()

    def action_flips(self) -> None:
        self.query_one(TabbedContent).active = "ev-tab-flips"
        self.query_one(FlipsPane).focus_table()

    def action_reload(self) -> None:
        self.list_runs()
