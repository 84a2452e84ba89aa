"""Issue 11, item 4: two watchers of one job (two `jobs watch` in two shells: two workspaces, each with its own
monitor, over one store) each see every step, whichever of them recorded it."""

from __future__ import annotations

import threading
from typing import Any

from providers.base import JobEvent, JobState, ProviderJob, TuningSpec
from tests.core.fakes import FakeProvider
from tunedeck.events import JobEventsArrived
from tunedeck.jobs.backoff import BackoffPolicy
from tunedeck.jobs.submit import submit_job
from tunedeck.settings import load_settings
from tunedeck.store import Store
from tunedeck.workspace import Workspace

STEPS = 12


class SharedFake(FakeProvider):
    """One remote job both watchers ask about; every poll moves it one step (so each watcher records some)."""

    def __init__(self) -> None:
        super().__init__(script=[JobState.RUNNING] * (STEPS - 1) + [JobState.SUCCEEDED])
        self.lock = threading.Lock()

    def get_job(self, job_id: str) -> ProviderJob:
        with self.lock:
            return super().get_job(job_id)

    def list_events(self, job_id: str, after: str | None = None) -> list[JobEvent]:
        with self.lock:  # a poll racing the last one adds no step: the job has STEPS, as a real one would
            return [e for e in super().list_events(job_id, after) if e.metrics and e.metrics["step"] <= STEPS]


def open_workspace(provider: SharedFake) -> Workspace:
    ws = Workspace(
        load_settings(),
        Store.open(load_settings()),
        lambda name: provider,
        policy=BackoffPolicy(base_s=0.005, max_s=0.01),
    )
    ws.monitor  # noqa: B018 - made now, as a watcher is, before the job moves: it publishes from here on
    return ws


def steps_seen(ws: Workspace, job_id: str, out: list[int], errors: list[BaseException]) -> None:
    try:
        for event in ws.jobs.watch(job_id):
            if isinstance(event, JobEventsArrived):
                out.extend(int(e.metrics["step"]) for e in event.events if e.metrics)
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)


def test_every_watcher_sees_every_step_whoever_recorded_it() -> None:
    provider = SharedFake()
    store = Store.open(load_settings())
    job_id = submit_job(store, provider, TuningSpec(base_model="base", training_file="f")).id
    first, second = open_workspace(provider), open_workspace(provider)
    seen: dict[str, list[int]] = {"first": [], "second": []}
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=steps_seen, args=(ws, job_id, seen[name], errors))
        for name, ws in (("first", first), ("second", second))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors and not any(t.is_alive() for t in threads)
    everything = list(range(1, STEPS + 1))
    assert seen["first"] == everything, seen
    assert seen["second"] == everything, seen
    # Both really did the recording between them (the bug was a watcher missing what the other recorded).
    assert provider.calls.count("get") >= STEPS
    for ws in (first, second):
        ws.close()
    store.close()


def test_a_watcher_that_finds_the_job_finished_by_the_other_still_gets_the_last_steps() -> None:
    """The end of a job recorded by one watcher reaches a watcher that was waiting between two polls."""
    provider = SharedFake()
    store = Store.open(load_settings())
    job_id = submit_job(store, provider, TuningSpec(base_model="base", training_file="f")).id
    late, busy = open_workspace(provider), open_workspace(provider)
    received: list[Any] = []
    late_watch = late.jobs.watch(job_id)
    first = next(late_watch)  # the late watcher polls once (step 1) ...
    received.append(first)
    for _ in busy.jobs.watch(job_id):  # ... then the other runs the job to its end
        pass
    received.extend(late_watch)  # ... and the late one, resuming, finds it finished
    steps = [int(e.metrics["step"]) for ev in received if isinstance(ev, JobEventsArrived) for e in ev.events]
    assert steps == list(range(1, STEPS + 1))
    for ws in (late, busy):
        ws.close()
    store.close()
