"""The one event vocabulary every front end consumes, and the bus that delivers it.

Events are small frozen dataclasses named in the past tense. Core work publishes them on an `EventBus`;
the CLI's progress bars and the TUI subscribe to the same bus, either with a thread-safe callback
(`subscribe`) or as an async iterator (`stream`). A subscriber that raises is logged and dropped: it can
never stop the publisher (the monitor's poll loop, a validation, a teardown).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from tunedeck.store import EventRecord, JobRecord

log = logging.getLogger(__name__)


# -- long work -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressAdvanced:
    """Long work moved on: `done` of `total` units (total None when unknown)."""

    task: str
    done: float
    total: float | None = None
    unit: str = ""
    message: str = ""


@dataclass(frozen=True)
class StepStarted:
    """A multi-step run (the demo, a wizard's submit) entered step `number` of `total`."""

    task: str
    number: int
    total: int
    title: str


@dataclass(frozen=True)
class SubmissionPlanned:
    """A submission was validated and priced (`plan` is a `tunedeck.jobs.submit.SubmissionPlan`); nothing is
    spent yet."""

    plan: Any


@dataclass(frozen=True)
class OutputLine:
    """A line of a tool's own output (the Pulumi engine, the local backend's log), for a log pane."""

    source: str
    line: str


# -- jobs ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSubmitted:
    job: JobRecord


@dataclass(frozen=True)
class JobStateChanged:
    """The job's state, submission or result changed (see `job.display_state`)."""

    job: JobRecord
    detail: str = ""


@dataclass(frozen=True)
class JobEventsArrived:
    """New events of a job were recorded; those with metrics carry step, losses, total steps, ETA."""

    job: JobRecord
    events: tuple[EventRecord, ...]

    @property
    def metrics(self) -> list[EventRecord]:
        return [event for event in self.events if event.metrics]


@dataclass(frozen=True)
class JobUnknown:
    """The provider could not be asked: the job is 'unknown since …', not failed."""

    job: JobRecord
    detail: str
    retry_in_s: float | None = None


@dataclass(frozen=True)
class JobRateLimited:
    """The provider said slow down; the monitor asks again in `retry_in_s`."""

    job: JobRecord
    detail: str
    retry_in_s: float | None = None


@dataclass(frozen=True)
class JobForgotten:
    """A submission that never reached a provider was removed from the store."""

    job_id: str


# -- endpoints -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointsListed:
    """A fresh inventory of everything that bills by the hour or holds memory (`tunedeck.endpoints.Inventory`)."""

    inventory: Any


@dataclass(frozen=True)
class EndpointUsed:
    provider: str
    model: str


@dataclass(frozen=True)
class EndpointTornDown:
    """One teardown attempt finished (`result.ok` says whether the endpoint is gone)."""

    result: Any


@dataclass(frozen=True)
class AutoTeardownDone:
    """The idle auto-teardown round tore these down (never published when nothing was due)."""

    results: tuple[Any, ...]


# -- tuned models ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelDeployed:
    """A deployment finished: `deployment` is its `tunedeck.store.deployments.DeploymentRecord`."""

    deployment: Any


@dataclass(frozen=True)
class DeploymentFailed:
    """A deployment stopped part-way; what it created is recorded (see `deployment.resources`)."""

    deployment: Any
    error: str


@dataclass(frozen=True)
class ModelDeleted:
    provider: str
    model: str
    note: str = ""


# -- providers and the monitor ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderUnavailable:
    provider: str
    title: str
    hint: str = ""


@dataclass(frozen=True)
class ProviderReachable:
    provider: str


@dataclass(frozen=True)
class MonitorStopped:
    """The monitor ended: `reason` is "stopped" when asked to, else why it died."""

    reason: str
    error: str = ""


Event: TypeAlias = (
    ProgressAdvanced
    | StepStarted
    | SubmissionPlanned
    | OutputLine
    | JobSubmitted
    | JobStateChanged
    | JobEventsArrived
    | JobUnknown
    | JobRateLimited
    | JobForgotten
    | EndpointsListed
    | EndpointUsed
    | EndpointTornDown
    | AutoTeardownDone
    | ModelDeployed
    | DeploymentFailed
    | ModelDeleted
    | ProviderUnavailable
    | ProviderReachable
    | MonitorStopped
)
JOB_EVENTS = (JobSubmitted, JobStateChanged, JobEventsArrived, JobUnknown, JobRateLimited)

Publish = Callable[[Any], None]
"""What core functions take to report progress: the bus's `publish`, or `ignore` when nobody watches."""


def ignore(event: Any) -> None:
    """The publisher for callers that do not watch."""


def job_of(event: Any) -> JobRecord | None:
    return getattr(event, "job", None) if isinstance(event, JOB_EVENTS) else None


# -- the bus ---------------------------------------------------------------------------------------------

Subscriber = Callable[[Any], None]
Predicate = Callable[[Any], bool]


@dataclass
class _Subscription:
    callback: Subscriber
    accepts: Predicate | None


@dataclass
class EventBus:
    """Thread-safe publish/subscribe. Callbacks run on the publishing thread: keep them short (a TUI posts a
    message, a CLI updates a bar)."""

    _subscriptions: list[_Subscription] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, callback: Subscriber, accepts: Predicate | None = None) -> Callable[[], None]:
        """Call `callback` with every event (`accepts` filters); returns the unsubscribe function."""
        subscription = _Subscription(callback, accepts)
        with self._lock:
            self._subscriptions.append(subscription)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._subscriptions.remove(subscription)

        return unsubscribe

    def publish(self, event: Any) -> None:
        with self._lock:
            targets = list(self._subscriptions)
        for subscription in targets:
            try:
                if subscription.accepts is None or subscription.accepts(event):
                    subscription.callback(event)
            except Exception:
                log.exception("an event subscriber raised; it is dropped")
                with self._lock, contextlib.suppress(ValueError):
                    self._subscriptions.remove(subscription)

    def stream(self, accepts: Predicate | None = None) -> EventStream:
        """Events as an async iterator on the running loop, whatever thread publishes them. Subscribed from the
        moment it is made (call it from the loop), so nothing published before the first `await` is lost."""
        return EventStream(self, accepts)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscriptions)


class EventStream:
    """An async iterator over a bus's events; `aclose()` (or leaving `async with`) unsubscribes."""

    def __init__(self, bus: EventBus, accepts: Predicate | None = None) -> None:
        loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[Any] = asyncio.Queue()

        def forward(event: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the stream is over anyway
                loop.call_soon_threadsafe(self._queue.put_nowait, event)

        self._unsubscribe = bus.subscribe(forward, accepts)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Any:
        return await self._queue.get()

    async def aclose(self) -> None:
        self._unsubscribe()

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def for_job(job_id: str) -> Predicate:
    """A filter for one job's events."""

    def accepts(event: Any) -> bool:
        job = job_of(event)
        return job is not None and job.id == job_id

    return accepts
