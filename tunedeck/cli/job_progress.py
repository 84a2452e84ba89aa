"""How the CLI shows a job training: a bar with step/total, losses and ETA on a terminal; a line per step
(and per event) in a log or pipe. Fed by the workspace's events, whoever drives the monitor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tunedeck.cli.output import stderr
from tunedeck.events import JobEventsArrived, JobRateLimited, JobUnknown, job_of

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from tunedeck.store import JobRecord
    from tunedeck.workspace import Workspace


class JobBar:
    def __init__(self, ws: Workspace, job: JobRecord, *, json_out: bool = False) -> None:
        self.job = job
        self.json_out = json_out
        self.progress = ws.jobs.progress(job.id)
        self.plain = not stderr.is_terminal
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> JobBar:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description}"), BarColumn(), _steps_column(), TimeElapsedColumn())
        self._bar = Progress(*columns, console=stderr, transient=False, disable=self.plain)
        self._bar.__enter__()
        self._task = self._bar.add_task(self._description(), total=self.progress.total_steps)
        self._bar.update(self._task, completed=self.progress.step or 0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def _description(self) -> str:
        progress = self.progress.describe() or ("waiting for the first step" if not self.job.finished else "")
        return f"{self.job.id} {self.job.display_state} {progress}".rstrip()

    def _say(self, text: str) -> None:
        (stderr if self.plain or self._bar is None else self._bar.console).print(text, highlight=False)

    def handle(self, event: Any) -> None:
        job = job_of(event)
        if job is None or job.id != self.job.id:
            return
        self.job = job
        if isinstance(event, JobEventsArrived):
            stepped = self.progress.advanced(event.events)
            for record in event.events:
                if "step" not in (record.metrics or {}) and not self.json_out:
                    self._say(f"[dim]{record.created_at:%H:%M:%S}[/] {record.message}")
            if self.plain and not self.json_out and stepped.step is not None and stepped.step != self.progress.step:
                self._say(f"{self.job.id} {stepped.describe()}")
            self.progress = stepped
        elif isinstance(event, JobUnknown | JobRateLimited):
            wait = f" (asking again in {event.retry_in_s:.0f}s)" if event.retry_in_s else ""
            self._say(f"[yellow]{event.detail}[/]{wait}")
        if self._bar is not None and self._task is not None:
            self._bar.update(
                self._task,
                completed=self.progress.step or 0,
                total=self.progress.total_steps,
                description=self._description(),
            )


def _steps_column() -> Any:
    """The step count column (made here so rich.progress, ~16 ms, loads only when a job is watched)."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class StepsColumn(ProgressColumn):
        """`12/36` once the total is known; nothing before (rich's own column says `0/?`, which reads as stuck)."""

        def render(self, task: Any) -> Text:
            if task.total is None:
                return Text("")
            return Text(f"{int(task.completed)}/{int(task.total)}", style="progress.download")

    return StepsColumn()


def follow(ws: Workspace, job: JobRecord, *, json_out: bool = False) -> JobRecord:
    """Watch one job to its end with a `JobBar`; returns its final record."""
    with JobBar(ws, job, json_out=json_out) as bar:
        for event in ws.jobs.watch(job.id):
            bar.handle(event)
    job = ws.jobs.find(job.id)
    colour = {"succeeded": "green", "failed": "red", "cancelled": "yellow"}.get(job.state.value, "white")
    stderr.print(f"[{colour}]{job.display_state}[/] {job.fine_tuned_model or job.error or ''}", highlight=False)
    return job
