"""Every job action a front end offers, as one method each: plan, submit, find, list, cancel, retry, forget,
refresh, watch, and a job's full detail. The CLI and the TUI call these and only render the results."""

from __future__ import annotations

import dataclasses
import queue
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from providers.base import Checkpoint, JobState, TuningSpec
from tunedeck.errors import UsageError
from tunedeck.events import JobForgotten, JobStateChanged, JobSubmitted, for_job
from tunedeck.exitcodes import ExitCode
from tunedeck.jobs.progress import JobProgress
from tunedeck.store import EventRecord, JobRecord, StateChange, Submission

if TYPE_CHECKING:
    from tunedeck.jobs.submit import ReconcileResult, SubmissionPlan
    from tunedeck.workspace import Workspace


@dataclass(frozen=True)
class JobDetail:
    """What a job's page shows: the record, its state timeline, events, progress and checkpoints."""

    job: JobRecord
    history: list[StateChange]
    events: list[EventRecord]
    progress: JobProgress
    checkpoints: list[Checkpoint] | None = None
    """None when not asked for, or when the provider could not be asked (see `checkpoints_error`)."""
    checkpoints_error: str = ""

    @property
    def metrics(self) -> list[EventRecord]:
        return [e for e in self.events if e.metrics]


def exit_code_for(job: JobRecord) -> ExitCode:
    """How a finished (or unknown) job ends a command that waited for it."""
    return {
        JobState.SUCCEEDED: ExitCode.OK,
        JobState.FAILED: ExitCode.BAD_INPUT,
        JobState.CANCELLED: ExitCode.CANCELLED,
    }.get(job.state, ExitCode.UNAVAILABLE)


def job_as_dict(job: JobRecord, detail: JobDetail | None = None, *, events: bool = False) -> dict[str, Any]:
    """The shape `jobs … --json` prints (it may only grow)."""
    data = dataclasses.asdict(job)
    data["display_state"] = job.display_state
    if detail is not None:
        data["state_history"] = [dataclasses.asdict(c) for c in detail.history]
        data["progress"] = dataclasses.asdict(detail.progress)
        if events:
            data["events"] = [dataclasses.asdict(e) for e in detail.events]
    return data


class JobActions:
    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace

    # -- lookups ----------------------------------------------------------------------------------------

    def find(self, ref: str) -> JobRecord:
        """A job by tunedeck id, provider job id or client key; a usage error naming the ref otherwise."""
        job = self.ws.store.find_job(ref)
        if job is None:
            raise UsageError(f"No job {ref!r} in the store.", "See `tunedeck jobs list`.")
        return job

    def all(self, *, provider: str | None = None, active: bool = False, limit: int | None = 50) -> list[JobRecord]:
        return self.ws.store.list_jobs(unfinished_only=active, provider=provider, limit=limit)

    def detail(self, ref: str, *, checkpoints: bool = False) -> JobDetail:
        job = self.find(ref)
        events = self.ws.store.list_events(job.id)
        found: list[Checkpoint] | None = None
        problem = ""
        if checkpoints and job.provider_job_id:
            try:
                found = self.ws.provider(job.provider).list_checkpoints(job.provider_job_id)
            except Exception as exc:  # a provider that cannot be asked still leaves the rest of the page
                problem = getattr(exc, "title", str(exc))
        return JobDetail(
            job, self.ws.store.state_history(job.id), events, JobProgress.from_events(events), found, problem
        )

    def progress(self, ref: str) -> JobProgress:
        return JobProgress.from_events(self.ws.store.list_events(self.find(ref).id))

    # -- submitting -------------------------------------------------------------------------------------

    def plan(self, provider: str, spec: TuningSpec, training: Path, validation: Path | None = None) -> SubmissionPlan:
        """Validate the files for `provider` and estimate the bill; nothing is uploaded or paid for yet."""
        from tunedeck.jobs.submit import plan_submission

        return plan_submission(self.ws.settings, provider, spec, training, validation, progress=self.ws.publish)

    def submit(self, plan: SubmissionPlan) -> JobRecord:
        """Upload (once per content) and submit (once per client key); settles earlier crashed intents first."""
        from tunedeck.jobs.submit import execute_plan

        self.reconcile()
        job = execute_plan(self.ws.store, self.ws.provider(plan.provider), plan)
        self.ws.publish(JobSubmitted(job))
        return job

    def reconcile(self) -> list[ReconcileResult]:
        """Settle submissions a crash left as intents; asks only providers that have one."""
        from tunedeck.jobs.submit import reconcile, stale_intent_after

        return reconcile(self.ws.store, self.ws.provider, stale_after=stale_intent_after(self.ws.settings.config))

    def retry(self, ref: str) -> JobRecord:
        """Submit again a job marked "not submitted", with its original client key (never a duplicate)."""
        from tunedeck.jobs.submit import retry_submission

        self.reconcile()
        job = self.find(ref)
        if job.submission is Submission.SUBMITTED:
            raise UsageError(f"Job {job.id} is already submitted ({job.provider_job_id}).")
        job = retry_submission(self.ws.store, self.ws.provider(job.provider), job.id)
        self.ws.publish(JobSubmitted(job))
        return job

    def forget(self, ref: str) -> JobRecord:
        """Remove a submission that never reached a provider; anything the provider has is kept."""
        job = self.find(ref)
        if job.submission is not Submission.NOT_SUBMITTED:
            raise UsageError(
                f"Job {job.id} is {job.display_state}: only a submission that never reached a provider can be "
                "forgotten.",
                "A submitted job stays in the store as the record of what was paid for.",
            )
        self.ws.store.forget_job(job.id)
        self.ws.monitor.forget(job.id)
        self.ws.publish(JobForgotten(job.id))
        return job

    # -- running jobs -----------------------------------------------------------------------------------

    def cancel(self, ref: str) -> JobRecord:
        """Ask the provider to cancel, and record the state it answers with."""
        job = self.find(ref)
        if job.finished or job.provider_job_id is None:
            raise UsageError(f"Job {job.id} is {job.display_state}; there is nothing to cancel.")
        remote = self.ws.provider(job.provider).cancel_job(job.provider_job_id)
        self.ws.store.record_status(job.id, remote)
        job = self.ws.store.require_job(job.id)
        self.ws.publish(JobStateChanged(job, remote.status.detail))
        return job

    def refresh(self) -> list[JobRecord]:
        """Ask the providers about every unfinished job now (reconciling crashed submissions first)."""
        self.reconcile()
        monitor = self.ws.monitor
        polled = monitor.pollable_jobs()
        for job in polled:
            monitor.poll_job(job)
        monitor.sync()
        return [self.ws.store.require_job(job.id) for job in polled]

    def watch(self, ref: str) -> Iterator[Any]:
        """One job's events until it finishes (blocking; the CLI's `--watch`). Every event is also published."""
        job = self.find(ref)
        if job.submission is not Submission.SUBMITTED:
            raise UsageError(
                f"Job {job.id} was never submitted ({job.submission}).", f"Retry: tunedeck jobs retry {job.id}"
            )
        self.ws.provider(job.provider)  # build (or start) it here, where waiting is expected
        received: queue.SimpleQueue[Any] = queue.SimpleQueue()
        unsubscribe = self.ws.subscribe(received.put, for_job(job.id))
        try:
            for _ in self.ws.monitor.follow(job.id):
                while not received.empty():
                    yield received.get()
            while not received.empty():
                yield received.get()
        finally:
            unsubscribe()
