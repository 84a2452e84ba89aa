"""Monitor backoff through the real OpenAI adapter against a loopback server returning 429 (Retry-After) and 503."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from providers.base import JobState, TuningSpec
from providers.registry import get_provider
from tests.core.openai_wire import Failure, WireState, openai_wire
from tunedeck.events import JobRateLimited, JobUnknown
from tunedeck.jobs.backoff import BackoffPolicy
from tunedeck.jobs.monitor import Monitor
from tunedeck.jobs.submit import submit_job
from tunedeck.settings import load_settings
from tunedeck.store import Store


@pytest.fixture
def wire() -> Iterator[WireState]:
    with openai_wire() as state:
        yield state


def test_watch_honours_retry_after_and_backs_off_on_5xx(wire: WireState) -> None:
    settings = load_settings()
    store = Store.open(settings)
    # max_retries=0: the monitor, not the SDK, owns the waiting.
    provider = get_provider("openai", settings, base_url=wire.url, max_retries=0)
    job = submit_job(store, provider, TuningSpec(base_model="gpt-4o-mini-2024-07-18", training_file="file-1"))
    retrieve = f"/v1/fine_tuning/jobs/{job.provider_job_id}"
    wire.failures = [
        Failure(429, {"retry-after-ms": "400"}, retrieve),
        Failure(503, {}, retrieve),
        Failure(502, {}, retrieve),
    ]
    monitor = Monitor(store, lambda name: provider, policy=BackoffPolicy(base_s=0.02, max_s=0.05, error_base_s=0.1))
    updates = list(monitor.watch(job.id))

    assert isinstance(updates[0], JobRateLimited) and updates[0].retry_in_s == pytest.approx(0.4)
    assert sum(isinstance(u, JobUnknown) for u in updates) == 1
    polls = [t for t, method, path in wire.requests if method == "GET" and path == retrieve]
    gaps = [b - a for a, b in itertools.pairwise(polls)]
    assert gaps[0] >= 0.4  # Retry-After, not our 20 ms interval
    assert gaps[1] >= 0.1 and gaps[2] >= 0.2  # exponential after 503 then 502
    final = store.require_job(job.id)
    assert final.state is JobState.SUCCEEDED and final.fine_tuned_model
    assert JobState.FAILED not in [c.state for c in store.state_history(job.id)]
    assert JobState.UNKNOWN in [c.state for c in store.state_history(job.id)]
    losses = [e.metrics["train_loss"] for e in store.list_events(job.id) if e.metrics]
    assert losses == [1.0, 0.5, pytest.approx(1 / 3)]


def test_unfinished_only_are_polled(wire: WireState) -> None:
    settings = load_settings()
    store = Store.open(settings)
    provider = get_provider("openai", settings, base_url=wire.url, max_retries=0)
    job = submit_job(store, provider, TuningSpec(base_model="gpt-4o-mini-2024-07-18", training_file="file-1"))
    monitor = Monitor(store, lambda name: provider, policy=BackoffPolicy(base_s=0.0, max_s=0.0))
    list(monitor.watch(job.id))
    before = len(wire.requests)
    assert monitor.poll_due() == [] and len(wire.requests) == before
