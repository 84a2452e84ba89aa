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
    from tunedeck.costs import Price
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


@dataclass(frozen=True)
class BaseModelRow:
    """One model a provider fine-tunes, with its prices (or why there are none)."""

    provider: str
    model: str
    listed_as_of: str
    source: str
    from_config: bool
    price: Price | None
    price_problem: str = ""

    @property
    def origin(self) -> str:
        return " (your config)" if self.from_config else ""

    def as_dict(self) -> dict[str, Any]:
        price = self.price.model_dump(mode="json") if self.price is not None else None
        return {
            "provider": self.provider,
            "model": self.model,
            "listed_as_of": self.listed_as_of,
            "source": self.source,
            "from_config": self.from_config,
            "price": price,
            "usage": self.price.describe_usage() if self.price is not None else None,
            "price_problem": self.price_problem,
            "price_warning": self.price.staleness() if self.price is not None else None,
        }


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

    def base_models(self, provider: str | None = None) -> list[BaseModelRow]:
        """What `jobs submit --model` takes per provider, each with its training and usage prices."""
        from tunedeck.costs import training_price
        from tunedeck.costs.base_models import catalog

        if provider is not None:
            self.ws.require_known_provider(provider)
        rows = []
        for name, listed in catalog(self.ws.settings).items():
            if provider not in (None, name):
                continue
            for model in listed.names:
                price, problem = None, ""
                try:
                    price = training_price(name, model, self.ws.settings)
                except UsageError as exc:
                    problem = exc.title
                rows.append(
                    BaseModelRow(name, model, listed.as_of, listed.source, model in listed.from_config, price, problem)
                )
        if provider in (None, "vertex"):
            rows += self._vertex_open_models()
        return rows

    def _vertex_open_models(self) -> list[BaseModelRow]:
        """Vertex's open models (Llama, Gemma, …): the adapter's own dated list, plus `[vertex.open_models]`."""
        from providers.vertex import open_models

        extra = self.ws.settings.section("vertex").get("open_models")
        listed = open_models.supported(extra if isinstance(extra, dict) else None)
        problem = "open-model tuning is not in tunedeck's price table"
        return [
            BaseModelRow("vertex", model_id, open_models.as_of(), open_models.source(), False, None, problem)
            for model_id in listed
        ]

    def progress(self, ref: str) -> JobProgress:
        return JobProgress.from_events(self.ws.store.list_events(self.find(ref).id))

    # -- submitting -------------------------------------------------------------------------------------

    def plan(self, provider: str, spec: TuningSpec, training: Path, validation: Path | None = None) -> SubmissionPlan:
        """Validate the files for `provider` and estimate the bill; nothing is uploaded or paid for yet."""
        from tunedeck.jobs.submit import plan_submission

        return plan_submission(self.ws.settings, provider, spec, training, validation, progress=self.ws.publish)

    def preflight(self, provider: str) -> None:
        """Ask the provider one cheap, read-only question (its latest job) with the user's credentials, so a
        missing or refused key stops a submission before the user is asked to pay, not after."""
        self.ws.provider(provider).list_jobs(limit=1)

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

    def retry_plan(self, ref: str, model: str | None = None) -> JobRecord:
        """The not-submitted job `retry` would send, with `model` (checked, any case) in place of its own:
        returned unsaved, its estimate re-priced, for a front end to show before `retry(…, model=…)`."""
        from tunedeck.costs.base_models import resolve_base_model

        job = self.find(ref)
        if job.submission is Submission.SUBMITTED:
            raise UsageError(f"Job {job.id} is already submitted ({job.provider_job_id}).")
        if model is None:
            return job
        if job.submission is Submission.INTENT:  # it may have reached the provider: its spec is what was sent
            raise UsageError(
                f"Job {job.id} may still be reaching {job.provider} (recorded {job.updated_at:%H:%M:%S}Z): its model "
                "cannot be changed.",
                "Run `tunedeck jobs list --refresh`; once it reads not-submitted, retry it with --model.",
            )
        resolved = resolve_base_model(job.provider, model, self.ws.settings)
        return dataclasses.replace(
            job,
            base_model=resolved,
            spec={**job.spec, "base_model": resolved},
            estimated_cost_usd=self._repriced(job, resolved),
        )

    def _repriced(self, job: JobRecord, model: str) -> float | None:
        from tunedeck.costs import training_price

        if job.estimated_tokens is None:
            return None
        try:
            price = training_price(job.provider, model, self.ws.settings)
        except UsageError:
            return None
        return round(job.estimated_tokens / 1e6 * price.usd_per_million_tokens, 4)

    def retry(self, ref: str, *, model: str | None = None) -> JobRecord:
        """Submit again a job marked "not submitted", with its original client key (never a duplicate);
        `model` replaces the base model it asked for."""
        from tunedeck.jobs.submit import retry_submission
        from tunedeck.store.jobs import spec_from_dict

        self.reconcile()
        job = self.retry_plan(ref, model)
        if model is not None:
            self.ws.store.edit_unsubmitted(job.id, spec_from_dict(job.spec), job.estimated_cost_usd)
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
