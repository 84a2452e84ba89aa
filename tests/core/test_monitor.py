"""The monitor polls only unfinished jobs, backs off on 429 (Retry-After) and 5xx, and never calls an outage failed."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from providers.base import JobState, TuningSpec
from providers.errors import ProviderError, RateLimitedError, UnavailableError
from tests.core.fakes import FakeProvider
from tunedeck.events import EventBus, JobEventsArrived, JobRateLimited, JobStateChanged, JobUnknown, for_job
from tunedeck.jobs.backoff import BackoffPolicy
from tunedeck.jobs.monitor import Monitor
from tunedeck.jobs.submit import submit_job
from tunedeck.settings import load_settings
from tunedeck.store import Store


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def store() -> Store:
    return Store.open(load_settings())


def make_monitor(store: Store, provider: FakeProvider, clock: FakeClock) -> Monitor:
    policy = BackoffPolicy(base_s=2, max_s=8, error_base_s=3)
    return Monitor(store, lambda name: provider, policy=policy, clock=clock, sleep=clock.sleep)


def submit(store: Store, provider: FakeProvider) -> str:
    return submit_job(store, provider, TuningSpec(base_model="gpt-4o-mini-2024-07-18", training_file="f")).id


class PricedFake(FakeProvider):
    name = "openai"  # so the dated price table has a training price for its jobs


def test_watch_streams_states_events_and_records_outcome(store: Store) -> None:
    provider = PricedFake()
    clock = FakeClock()
    job_id = submit(store, provider)
    updates = list(make_monitor(store, provider, clock).watch(job_id))
    states = [u.job.state for u in updates if isinstance(u, JobStateChanged)]
    assert states == [JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED]
    arrived = [u for u in updates if isinstance(u, JobEventsArrived)]
    losses = [e.metrics["train_loss"] for u in arrived for e in u.metrics if e.metrics]
    assert losses == [2.0, 1.0, pytest.approx(2 / 3)]  # each event once, despite overlapping polls
    job = store.require_job(job_id)
    assert job.fine_tuned_model and job.billed_tokens == 1000
    # 1000 billed tokens at the table's price for gpt-4o-mini training.
    from tunedeck.costs import training_price

    expected = 1000 / 1e6 * training_price("openai", "gpt-4o-mini-2024-07-18").usd_per_million_tokens
    assert job.actual_cost_usd == pytest.approx(expected) and expected > 0
    assert [m.name for m in store.list_models()] == [job.fine_tuned_model]
    history = [c.state for c in store.state_history(job_id)]
    assert history == [JobState.VALIDATING, JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED]


def test_finished_jobs_are_never_polled(store: Store) -> None:
    provider = FakeProvider(script=[JobState.SUCCEEDED])
    clock = FakeClock()
    job_id = submit(store, provider)
    monitor = make_monitor(store, provider, clock)
    list(monitor.watch(job_id))
    provider.calls.clear()
    clock.now += 1000
    assert monitor.poll_due() == [] and provider.calls == []


def test_rate_limit_waits_retry_after_then_resumes(store: Store) -> None:
    provider = FakeProvider()
    clock = FakeClock()
    job_id = submit(store, provider)
    provider.failures = [RateLimitedError("slow down", provider="fake", retry_after=17)]
    updates = list(make_monitor(store, provider, clock).watch(job_id))
    assert isinstance(updates[0], JobRateLimited) and updates[0].retry_in_s == 17
    assert clock.sleeps[0] == 17  # the provider's Retry-After, not our own interval
    assert store.require_job(job_id).state is JobState.SUCCEEDED


def test_outage_marks_unknown_since_with_exponential_backoff_never_failed(store: Store) -> None:
    provider = FakeProvider()
    clock = FakeClock()
    job_id = submit(store, provider)
    down: list[ProviderError] = [UnavailableError("503", provider="fake", status=503) for _ in range(3)]
    provider.failures = down
    seen: list[object] = []
    for update in make_monitor(store, provider, clock).watch(job_id):
        seen.append(update)
        if isinstance(update, JobUnknown):
            job = store.require_job(job_id)
            assert job.state is JobState.UNKNOWN and job.unknown_since is not None
            assert job.display_state.startswith("unknown since")
    # One UNKNOWN update for the whole outage; waits double (3, 6, 12) and the job then recovers.
    assert sum(isinstance(u, JobUnknown) for u in seen) == 1
    assert clock.sleeps[:3] == [3, 6, 12]
    assert JobState.FAILED not in [c.state for c in store.state_history(job_id)]
    final = store.require_job(job_id)
    assert final.state is JobState.SUCCEEDED and final.unknown_since is None


def test_quiet_job_interval_stretches_to_max(store: Store) -> None:
    provider = FakeProvider(script=[JobState.RUNNING] * 6 + [JobState.SUCCEEDED])
    provider.list_events = lambda job_id, after=None: []  # type: ignore[method-assign]
    clock = FakeClock()
    job_id = submit(store, provider)
    list(make_monitor(store, provider, clock).watch(job_id))
    assert clock.sleeps == [2, 3, 4.5, 6.75, 8, 8]


def test_subscribers_and_async_stream_receive_updates_from_run_thread(store: Store) -> None:
    provider = FakeProvider()
    job_id = submit(store, provider)
    bus = EventBus()
    monitor = Monitor(store, lambda name: provider, bus.publish, policy=BackoffPolicy(base_s=0.01, max_s=0.02))
    got: list[type] = []
    unsubscribe = bus.subscribe(lambda u: got.append(type(u)), for_job(job_id))

    async def consume() -> list[JobState]:
        states: list[JobState] = []
        stop = threading.Event()
        worker = threading.Thread(target=monitor.run, args=(stop,), kwargs={"idle_wait_s": 0.02})
        stream = bus.stream(for_job(job_id))
        first = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0)  # let the stream subscribe before polling starts
        worker.start()
        update = await asyncio.wait_for(first, 5)
        while True:
            if isinstance(update, JobStateChanged):
                states.append(update.job.state)
                if update.job.state.finished:
                    break
            update = await asyncio.wait_for(stream.__anext__(), 5)
        stop.set()
        worker.join(5)
        await stream.aclose()
        return states

    states = asyncio.run(consume())
    unsubscribe()
    assert states == [JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED]
    assert got.count(JobStateChanged) == 3


def test_provider_that_cannot_be_built_leaves_job_unknown_and_tick_failure_does_not_stop_run(store: Store) -> None:
    from providers.errors import AuthenticationError
    from tunedeck.errors import UsageError

    provider = FakeProvider()
    job_id = submit(store, provider)

    def no_provider(name: str) -> FakeProvider:
        raise AuthenticationError("No key for fake.", provider="fake")

    ticks: list[int] = []

    def bad_tick() -> None:
        ticks.append(1)
        raise UsageError("teardown blew up")

    monitor = Monitor(store, no_provider, policy=BackoffPolicy(base_s=0.01, max_s=0.01), on_tick=bad_tick)
    stop = threading.Event()
    worker = threading.Thread(target=monitor.run, args=(stop,), kwargs={"idle_wait_s": 0.01})
    worker.start()
    deadline = time.monotonic() + 5
    while len(ticks) < 3 and time.monotonic() < deadline:
        stop.wait(0.01)
    stop.set()
    worker.join(5)
    assert len(ticks) >= 3 and not worker.is_alive()
    job = store.require_job(job_id)
    assert job.state is JobState.UNKNOWN and "No key" in job.state_detail


async def test_arun_on_the_event_loop_feeds_stream(store: Store) -> None:
    provider = FakeProvider()
    job_id = submit(store, provider)
    bus = EventBus()
    monitor = Monitor(store, lambda name: provider, bus.publish, policy=BackoffPolicy(base_s=0.01, max_s=0.02))
    stop = asyncio.Event()
    stream = bus.stream(for_job(job_id))
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0)
    runner = asyncio.create_task(monitor.arun(stop, idle_wait_s=0.02))
    states = []
    update = await asyncio.wait_for(first, 5)
    while True:
        if isinstance(update, JobStateChanged):
            states.append(update.job.state)
            if update.job.state.finished:
                break
        update = await asyncio.wait_for(stream.__anext__(), 5)
    stop.set()
    await asyncio.wait_for(runner, 5)
    await stream.aclose()
    assert states == [JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED]
