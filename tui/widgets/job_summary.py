"""`JobSummary`: one job at a glance — state and progress, costs, hyperparameters and the state timeline."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui import format as fmt
from tunedeck.jobs.progress import JobProgress, format_seconds
from tunedeck.store import JobRecord, StateChange


class JobSummary(Widget):
    job: reactive[JobRecord | None] = reactive(None)
    progress: reactive[JobProgress] = reactive(JobProgress)
    history: reactive[tuple[StateChange, ...]] = reactive(())
    now: reactive[datetime] = reactive(lambda: datetime.now(UTC))

    def render(self) -> Group | Text:
        job = self.job
        if job is None:
            return Text("Loading…", style="dim")
        now, progress = self.now, self.progress
        facts = _Facts()
        state = Text(fmt.job_state(job, now), style=fmt.state_style(job))
        if job.state_detail and job.state_detail != str(job.state):
            state.append(f"  {job.state_detail}", "dim")
        facts.row("state", state)
        if job.error:
            facts.row("error", Text(job.error, style="red"))
        steps = fmt.progress(progress.step, progress.total_steps)
        eta = f" · ETA {format_seconds(progress.eta_s)}" if progress.eta_s is not None and not job.finished else ""
        facts.row("progress", f"step {steps}{eta}" if progress.step is not None else "no metrics yet")
        facts.row("loss", f"train {fmt.loss(progress.train_loss)} · valid {fmt.loss(progress.valid_loss)}")
        tokens = f" ({job.estimated_tokens:,} tokens)" if job.estimated_tokens else ""
        facts.row("cost", f"est. {fmt.money(job.estimated_cost_usd)}{tokens} · actual {fmt.money(job.actual_cost_usd)}")
        elapsed = fmt.job_elapsed(job, now)
        facts.row("elapsed", f"{elapsed} since {fmt.clock_time(job.created_at, now)}")
        timeline = Text()
        for change in self.history:
            if timeline:
                timeline.append(" → ", "dim")
            timeline.append(f"{fmt.clock_time(change.at, now)} ")
            timeline.append(str(change.state), "bold")
        facts.row("timeline", timeline or Text("—", style="dim"))
        if job.fine_tuned_model:
            facts.row("tuned model", Text(job.fine_tuned_model, style="bold"))
        facts.row("provider", f"{job.provider} {job.provider_job_id or ''}".rstrip())
        facts.row("base model", job.base_model)
        params = " · ".join(f"{name} {value}" for name, value in fmt.hyperparameters(job.spec) if value != fmt.DASH)
        facts.row("settings", params or "provider defaults")
        return Group(Text.assemble((job.id, "bold"), "  ", (str(job.spec.get("suffix") or ""), "italic")), facts.table)


class _Facts:
    """A two-column grid whose values are always plain text: provider errors and model names may hold brackets,
    which Rich would otherwise read as markup."""

    def __init__(self) -> None:
        self.table = Table.grid(padding=(0, 1))
        self.table.add_column(style="bold", no_wrap=True)
        self.table.add_column()

    def row(self, name: str, value: str | Text) -> None:
        self.table.add_row(name, value if isinstance(value, Text) else Text(value))
