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
        facts = Table.grid(padding=(0, 1))
        facts.add_column(style="bold", no_wrap=True)
        facts.add_column()
        state = Text(fmt.job_state(job, now), style=fmt.state_style(job))
        if job.state_detail and job.state_detail != str(job.state):
            state.append(f"  {job.state_detail}", "dim")
        facts.add_row("state", state)
        steps = fmt.progress(progress.step, progress.total_steps)
        eta = f" · ETA {format_seconds(progress.eta_s)}" if progress.eta_s is not None and not job.finished else ""
        facts.add_row("progress", f"step {steps}{eta}" if progress.step is not None else "no metrics yet")
        facts.add_row("loss", f"train {fmt.loss(progress.train_loss)} · valid {fmt.loss(progress.valid_loss)}")
        facts.add_row("provider", f"{job.provider} {job.provider_job_id or ''}".rstrip())
        facts.add_row("base model", job.base_model)
        if job.fine_tuned_model:
            facts.add_row("tuned model", Text(job.fine_tuned_model, style="bold"))
        if job.error:
            facts.add_row("error", Text(job.error, style="red"))
        tokens = f" ({job.estimated_tokens:,} tokens)" if job.estimated_tokens else ""
        facts.add_row(
            "cost", f"est. {fmt.money(job.estimated_cost_usd)}{tokens} · so far {fmt.money(job.actual_cost_usd)}"
        )
        facts.add_row(
            "elapsed", f"{fmt.duration(fmt.job_elapsed_s(job, now))} since {fmt.clock_time(job.created_at, now)}"
        )
        params = " · ".join(f"{name} {value}" for name, value in fmt.hyperparameters(job.spec) if value != fmt.DASH)
        facts.add_row("settings", params or "provider defaults")
        timeline = Text()
        for change in self.history:
            if timeline:
                timeline.append(" → ", "dim")
            timeline.append(f"{fmt.clock_time(change.at, now)} ")
            timeline.append(str(change.state), "bold")
        facts.add_row("timeline", timeline or Text("—", style="dim"))
        return Group(Text.assemble((job.id, "bold"), "  ", (job.spec.get("suffix") or "", "italic")), facts)
