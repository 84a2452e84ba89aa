"""The monitor: polls unfinished jobs with backoff, records what changed, and streams it to watchers.

One core object serves every UI: `subscribe()` for callbacks (thread-safe), `stream()` for an async
iterator a Textual worker can consume, `watch(job_id)` as a blocking generator for the CLI. Drive it with
`run()` in a thread, `arun()` on an event loop, or `watch()`, which polls by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from providers.base import JobState, Provider, ProviderJob
from providers.errors import ProviderError, RateLimitedError, UnavailableError
from tunedeck.errors import TunedeckError
from tunedeck.jobs.backoff import BackoffPolicy, Schedule
from tunedeck.store import EventRecord, JobRecord, Store, Submission

if TYPE_CHECKING:
    from tunedeck.settings import Settings

log = logging.getLogger(__name__)


class UpdateKind(StrEnum):
    STATE = "state"
    """The job's state changed (see `job.state`, `job.display_state`)."""
    EVENTS = "events"
    """New events or metrics arrived; the state did not change."""
    UNKNOWN = "unknown"
    """The provider could not be asked; the job is 'unknown since …', not failed."""
    RATE_LIMITED = "rate-limited"
    """The provider said slow down; `retry_in_s` says when the monitor asks again."""


@dataclass(frozen=True)
class JobUpdate:
    job: JobRecord
    kind: UpdateKind
    events: tuple[EventRecord, ...] = ()
    detail: str = ""
    retry_in_s: float | None = None

    @property
    def metrics(self) -> list[EventRecord]:
        return [event for event in self.events if event.metrics]


Subscriber = Callable[[JobUpdate], None]


@dataclass
class _Subscription:
    callback: Subscriber
    job_id: str | None


@dataclass
class Monitor:
    store: Store
    get_provider: Callable[[str], Provider]
    policy: BackoffPolicy = field(default_factory=BackoffPolicy)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    settings: Settings | None = None
    """For the user's `[prices]` when turning billed tokens into cost."""
    on_tick: Callable[[], None] | None = None
    """Extra work each round of `run()` (the idle auto-teardown of endpoints is hooked in here)."""

    def __post_init__(self) -> None:
        self._schedule = Schedule(self.policy)
        self._subscriptions: list[_Subscription] = []
        self._providers: dict[str, Provider] = {}
        self._lock = threading.Lock()

    # -- watchers ---------------------------------------------------------------------------------------

    def subscribe(self, callback: Subscriber, job_id: str | None = None) -> Callable[[], None]:
        """Call `callback` with every update (of `job_id` only, when given); returns the unsubscribe function.

        Callbacks run on the polling thread: a Textual app should `post_message` from them, nothing more.
        """
        subscription = _Subscription(callback, job_id)
        with self._lock:
            self._subscriptions.append(subscription)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._subscriptions.remove(subscription)

        return unsubscribe

    def _publish(self, update: JobUpdate) -> None:
        with self._lock:
            targets = [s.callback for s in self._subscriptions if s.job_id in (None, update.job.id)]
        for callback in targets:
            callback(update)

    async def stream(self, job_id: str | None = None) -> AsyncGenerator[JobUpdate, None]:
        """Updates as an async iterator, fed by whatever drives the polling (`arun()` or a `run()` thread)."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[JobUpdate] = asyncio.Queue()

        def forward(update: JobUpdate) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, update)

        unsubscribe = self.subscribe(forward, job_id)
        try:
            while True:
                yield await queue.get()
        finally:
            unsubscribe()

    # -- polling ----------------------------------------------------------------------------------------

    def _provider(self, name: str) -> Provider:
        if name not in self._providers:
            self._providers[name] = self.get_provider(name)
        return self._providers[name]

    def pollable_jobs(self) -> list[JobRecord]:
        """Only jobs the provider has and that have not finished are ever polled."""
        return [j for j in self.store.list_jobs(unfinished_only=True) if j.submission is Submission.SUBMITTED]

    def poll_due(self) -> list[JobUpdate]:
        """Poll every job that is due and whose provider is not paused; returns (and publishes) the updates."""
        updates: list[JobUpdate] = []
        for job in self.pollable_jobs():
            now = self.clock()
            if self._schedule.job_is_due(job.id, now) and self._schedule.provider_is_open(job.provider, now):
                updates.extend(self.poll_job(job))
        return updates

    def poll_job(self, job: JobRecord) -> list[JobUpdate]:
        """Ask the provider about one job now, regardless of the schedule."""
        assert job.provider_job_id is not None
        try:
            provider = self._provider(job.provider)
            remote = provider.get_job(job.provider_job_id)
            # No `after`: for OpenAI-shaped APIs it is a pagination cursor towards *older* events, so passing the
            # newest id we know would hide every new one. The store drops what it has already seen.
            events = provider.list_events(job.provider_job_id)
        except RateLimitedError as exc:
            wait = self._schedule.provider_failed(job.provider, self.clock(), exc.retry_after)
            return self._emit(JobUpdate(job, UpdateKind.RATE_LIMITED, detail=exc.title, retry_in_s=wait))
        except UnavailableError as exc:
            wait = self._schedule.provider_failed(job.provider, self.clock())
            return self._unknown(job, f"{job.provider} unreachable: {exc.title}", wait)
        except ProviderError as exc:
            # Also NotFoundError, gone at the provider (deleted, other project): we cannot say it failed; keep
            # asking, slowly.
            self._schedule.after_poll(job.id, self.clock(), changed=False)
            return self._unknown(job, exc.title, None)
        self._schedule.provider_ok(job.provider)
        return self._record(job, remote, events)

    def _unknown(self, job: JobRecord, detail: str, wait: float | None) -> list[JobUpdate]:
        changed = self.store.mark_unknown(job.id, detail)
        update = JobUpdate(self.store.require_job(job.id), UpdateKind.UNKNOWN, detail=detail, retry_in_s=wait)
        return self._emit(update) if changed else []

    def _record(self, job: JobRecord, remote: ProviderJob, events: list) -> list[JobUpdate]:
        changed = self.store.record_status(job.id, remote)
        fresh = self.store.add_events(job.id, events)
        if remote.status.state is JobState.SUCCEEDED:
            _record_outcome(self.store, job, remote, self.settings)
        current = self.store.require_job(job.id)
        self._schedule.after_poll(job.id, self.clock(), changed=changed or bool(fresh))
        if current.finished:
            self._schedule.forget(job.id)
        updates: list[JobUpdate] = []
        if fresh:
            updates.append(JobUpdate(current, UpdateKind.EVENTS, tuple(fresh)))
        if changed:
            updates.append(JobUpdate(current, UpdateKind.STATE, detail=remote.status.detail))
        return self._emit(*updates)

    def _emit(self, *updates: JobUpdate) -> list[JobUpdate]:
        for update in updates:
            self._publish(update)
        return list(updates)

    def seconds_until_due(self) -> float:
        jobs = self.pollable_jobs()
        return self._schedule.next_due([j.id for j in jobs], {j.id: j.provider for j in jobs}, self.clock())

    # -- drivers ----------------------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, idle_wait_s: float = 5.0) -> None:
        """Poll until `stop` is set (for a thread worker). Sleeps until the next job is due, at most `idle_wait_s`."""
        while not stop.is_set():
            self.poll_due()
            self._tick()
            stop.wait(min(idle_wait_s, self.seconds_until_due()) or 0.05)

    async def arun(self, stop: asyncio.Event, *, idle_wait_s: float = 5.0) -> None:
        """`run()` for an event loop: blocking provider calls go to a thread, never onto the loop."""
        while not stop.is_set():
            await asyncio.to_thread(self.poll_due)
            await asyncio.to_thread(self._tick)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=min(idle_wait_s, self.seconds_until_due()) or 0.05)

    def _tick(self) -> None:
        """Run `on_tick` (idle teardown); its failure is logged and retried next round, never stops polling."""
        if self.on_tick is None:
            return
        try:
            self.on_tick()
        except TunedeckError:
            log.warning("monitor tick failed", exc_info=True)

    def watch(self, job_id: str) -> Iterator[JobUpdate]:
        """Blocking generator of one job's updates until it finishes (the CLI's `--watch`)."""
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
            yield from self.poll_job(job)
            self._tick()
            job = self.store.require_job(job_id)


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
