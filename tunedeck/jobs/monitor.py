"""The monitor: polls unfinished jobs with backoff, records what the providers say, and publishes what changed.

Recording and publishing are separate on purpose. Polling writes to the store; `sync()` then reads what
changed in the store since the last round — whichever process wrote it — and publishes it. So every watcher
(a second `jobs watch`, another TUI) sees every event once, and jobs submitted elsewhere appear by themselves.

One monitor per workspace, driven by `run()` on a thread (the workspace starts it), `arun()` on an event
loop, or `watch()` for one job in the CLI. It never dies silently: a failure ends the loop with a
`MonitorStopped` event saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from providers.base import JobState, Provider, ProviderJob
from providers.errors import RateLimitedError, UnavailableError
from tunedeck.errors import TunedeckError
from tunedeck.events import (
    JobEventsArrived,
    JobRateLimited,
    JobStateChanged,
    JobUnknown,
    MonitorStopped,
    Publish,
    ignore,
    job_of,
)
from tunedeck.jobs.backoff import BackoffPolicy, Schedule
from tunedeck.store import JobRecord, Store, Submission

if TYPE_CHECKING:
    from tunedeck.settings import Settings

log = logging.getLogger(__name__)

ProviderLookup = Callable[[str], Provider | None]
"""name → adapter, or None while it is still being built (that job is simply asked next round)."""


def _fingerprint(job: JobRecord) -> tuple[Any, ...]:
    return (
        job.submission,
        job.state,
        job.raw_state,
        job.state_detail,
        job.unknown_since,
        job.fine_tuned_model,
        job.error,
        job.actual_cost_usd,
        job.provider_job_id,
    )


@dataclass
class Monitor:
    store: Store
    get_provider: ProviderLookup
    publish: Publish = ignore
    policy: BackoffPolicy = field(default_factory=BackoffPolicy)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    settings: Settings | None = None
    """For the user's `[prices]` when turning billed tokens into cost."""
    on_tick: Callable[[], object] | None = None
    """Extra work each round of `run()` (the idle auto-teardown of endpoints is hooked in here)."""

    def __post_init__(self) -> None:
        self._schedule = Schedule(self.policy)
        self._sync_lock = threading.Lock()
        # What has been published already: the state of the store when the monitor was made. History is
        # for `jobs show`; watchers get what happens from now on.
        self._seen = {job.id: _fingerprint(job) for job in self.store.list_jobs()}
        self._event_seq = self.store.last_event_seq()

    # -- publishing what the store says ---------------------------------------------------------------

    def sync(self) -> list[Any]:
        """Publish every change recorded since the last sync (by this process or another); returns them."""
        with self._sync_lock:
            published: list[Any] = []
            jobs = {job.id: job for job in self.store.list_jobs()}
            for job in jobs.values():
                fingerprint = _fingerprint(job)
                if self._seen.get(job.id) != fingerprint:
                    self._seen[job.id] = fingerprint
                    published.append(JobStateChanged(job, job.state_detail))
            fresh = self.store.events_after(self._event_seq)
            if fresh:
                self._event_seq = fresh[-1].seq
                by_job: dict[str, list[Any]] = {}
                for event in fresh:
                    by_job.setdefault(event.job_id, []).append(event)
                for job_id, events in by_job.items():
                    owner = jobs.get(job_id) or self.store.get_job(job_id)
                    if owner is not None:
                        published.append(JobEventsArrived(owner, tuple(events)))
        for event in published:
            self.publish(event)
        return published

    def forget(self, job_id: str) -> None:
        with self._sync_lock:
            self._seen.pop(job_id, None)
        self._schedule.forget(job_id)

    # -- polling ----------------------------------------------------------------------------------------

    def pollable_jobs(self) -> list[JobRecord]:
        """Only jobs the provider has and that have not finished are ever polled."""
        return [j for j in self.store.list_jobs(unfinished_only=True) if j.submission is Submission.SUBMITTED]

    def poll_due(self) -> list[Any]:
        """Poll every job that is due and whose provider is open; returns the transient events it published."""
        published: list[Any] = []
        for job in self.pollable_jobs():
            now = self.clock()
            if self._schedule.job_is_due(job.id, now) and self._schedule.provider_is_open(job.provider, now):
                published.extend(self.poll_job(job))
        return published

    def poll_job(self, job: JobRecord) -> list[Any]:
        """Ask the provider about one job now and record the answer. Returns the events published for it
        that the store does not hold (unknown, rate limited); what it recorded is published by `sync()`."""
        assert job.provider_job_id is not None
        try:
            provider = self.get_provider(job.provider)
            if provider is None:  # still being built (a local backend starting): asked again next round
                self._schedule.after_poll(job.id, self.clock(), changed=True)
                return []
            remote = provider.get_job(job.provider_job_id)
            # No `after`: for OpenAI-shaped APIs it is a pagination cursor towards *older* events, so passing the
            # newest id we know would hide every new one. The store drops what it has already seen.
            events = provider.list_events(job.provider_job_id)
        except RateLimitedError as exc:
            wait = self._schedule.provider_failed(job.provider, self.clock(), exc.retry_after)
            return self._emit(JobRateLimited(job, exc.title, wait))
        except UnavailableError as exc:
            wait = self._schedule.provider_failed(job.provider, self.clock())
            return self._unknown(job, f"{job.provider} unreachable: {exc.title}", wait)
        except TunedeckError as exc:
            # Also NotFoundError, gone at the provider (deleted, other project): we cannot say it failed; keep
            # asking, slowly.
            self._schedule.after_poll(job.id, self.clock(), changed=False)
            return self._unknown(job, exc.title, None)
        self._schedule.provider_ok(job.provider)
        self._record(job, remote, events)
        return []

    def _unknown(self, job: JobRecord, detail: str, wait: float | None) -> list[Any]:
        changed = self.store.mark_unknown(job.id, detail)
        return self._emit(JobUnknown(self.store.require_job(job.id), detail, wait)) if changed else []

    def _record(self, job: JobRecord, remote: ProviderJob, events: list[Any]) -> None:
        changed = self.store.record_status(job.id, remote)
        fresh = self.store.add_events(job.id, events)
        if remote.status.state is JobState.SUCCEEDED:
            _record_outcome(self.store, job, remote, self.settings)
        self._schedule.after_poll(job.id, self.clock(), changed=changed or bool(fresh))
        if self.store.require_job(job.id).finished:
            self._schedule.forget(job.id)

    def _emit(self, *events: Any) -> list[Any]:
        for event in events:
            self.publish(event)
        return list(events)

    def seconds_until_due(self) -> float:
        jobs = self.pollable_jobs()
        return self._schedule.next_due([j.id for j in jobs], {j.id: j.provider for j in jobs}, self.clock())

    def round(self) -> list[Any]:
        """One round: poll what is due, publish what changed, run the tick. Returns what was published."""
        published = self.poll_due()
        published += self.sync()
        self._tick()
        return published

    # -- drivers ----------------------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, idle_wait_s: float = 5.0) -> None:
        """Rounds until `stop` is set (for a thread). Sleeps until the next job is due, at most `idle_wait_s`."""
        try:
            while not stop.is_set():
                self.round()
                stop.wait(min(idle_wait_s, self.seconds_until_due()) or 0.05)
        except Exception as exc:
            log.exception("the monitor stopped")
            self.publish(MonitorStopped("crashed", f"{type(exc).__name__}: {exc}"))
            raise
        self.publish(MonitorStopped("stopped"))

    async def arun(self, stop: asyncio.Event, *, idle_wait_s: float = 5.0) -> None:
        """`run()` for an event loop: every provider call and SQLite query goes to a thread, never the loop."""
        try:
            while not stop.is_set():
                await asyncio.to_thread(self.round)
                wait = await asyncio.to_thread(self.seconds_until_due)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=min(idle_wait_s, wait) or 0.05)
        except Exception as exc:
            log.exception("the monitor stopped")
            self.publish(MonitorStopped("crashed", f"{type(exc).__name__}: {exc}"))
            raise
        self.publish(MonitorStopped("stopped"))

    def _tick(self) -> None:
        """Run `on_tick` (idle teardown); its failure is logged and retried next round, never stops polling."""
        if self.on_tick is None:
            return
        try:
            self.on_tick()
        except TunedeckError:
            log.warning("monitor tick failed", exc_info=True)

    def follow(self, job_id: str) -> Iterator[list[Any]]:
        """Poll one job until it finishes, yielding after every round what this monitor published (blocking;
        for the CLI). Watchers should subscribe to the bus too: another thread's round may publish first."""
        job = self.store.require_job(job_id)
        if job.submission is not Submission.SUBMITTED:
            return
        while not job.finished:
            now = self.clock()
            wait = 0.0
            if not self._schedule.job_is_due(job.id, now):
                wait = self._schedule.job_due[job.id] - now
            if not self._schedule.provider_is_open(job.provider, now):
                wait = max(wait, self._schedule.provider_blocked_until[job.provider] - now)
            if wait > 0:
                self.sleep(wait)
            published = self.poll_job(job) + self.sync()
            self._tick()
            yield published
            job = self.store.require_job(job_id)
        # Another watcher (another process) may have recorded the last steps and the end since our last sync:
        # publish them too, so every watcher ends having shown every event.
        yield self.sync()

    def watch(self, job_id: str) -> Iterator[Any]:
        """One job's events until it finishes, when nothing else drives this monitor (tests, scripts)."""
        for published in self.follow(job_id):
            yield from (event for event in published if (of := job_of(event)) is not None and of.id == job_id)


def _record_outcome(store: Store, job: JobRecord, remote: ProviderJob, settings: Settings | None) -> None:
    """On success: remember the model and turn billed tokens into a cost from the dated price table."""
    if remote.fine_tuned_model:
        store.record_model(remote.fine_tuned_model, job.provider, job.base_model, job.id)
    if remote.trained_tokens is None:
        return
    from tunedeck.costs import training_price

    try:
        price = training_price(job.provider, job.base_model, settings)
    except TunedeckError:
        return
    store.set_actual_cost(job.id, remote.trained_tokens, remote.trained_tokens / 1e6 * price.usd_per_million_tokens)
