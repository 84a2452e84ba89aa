"""The workspace driven the way the Textual app drives it: an async event stream, blocking actions in worker
threads, the monitor on its own thread, against the real local backend (HTTP server, job queue, worker
processes) with a fast fake trainer; and a clean close."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from providers.base import ChatMessage, JobState, TuningSpec
from tests.conftest import MODEL_CACHE, REPO_ROOT
from tests.providers.local_fixtures import SLOW_SEED, ThreadServer
from tunedeck.events import (
    EndpointsListed,
    EndpointTornDown,
    EventBus,
    JobEventsArrived,
    JobStateChanged,
    JobSubmitted,
    MonitorStopped,
)
from tunedeck.settings import load_settings
from tunedeck.workspace import Workspace

DATASET = REPO_ROOT / "examples" / "helpdesk.jsonl"
BASE = "smollm2-135m-instruct"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ThreadServer]:
    server = ThreadServer(tmp_path / "backend", MODEL_CACHE)
    yield server
    server.stop()


@pytest.fixture
def workspace(server: ThreadServer, isolated_home: Path) -> Iterator[Workspace]:
    config = isolated_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[local]\nbase_url = "{server.base_url}"\n[monitor]\ninterval_s = 0.05\nmax_interval_s = 0.2\n')
    ws = Workspace.open(load_settings())
    yield ws
    ws.close()


async def _until(stream: Any, done: Any, timeout: float = 60) -> list[Any]:
    """Collect events from `stream` until `done(event)`."""
    seen: list[Any] = []
    async with asyncio.timeout(timeout):
        async for event in stream:
            seen.append(event)
            if done(event):
                return seen
    return seen


def _spec(seed: int = 0) -> TuningSpec:
    return TuningSpec(base_model=BASE, training_file=str(DATASET), seed=seed, n_epochs=1)


def _threads() -> set[str]:
    """Live threads, less the test's own plumbing (asyncio.to_thread's pool, the in-thread server's workers)."""
    return {t.name for t in threading.enumerate() if not t.name.startswith(("asyncio_", "AnyIO worker"))}


async def test_jobs_stream_states_and_metrics_cancel_another_and_close_cleanly(workspace: Workspace) -> None:
    before = _threads()
    stream = workspace.stream()
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0)  # subscribed before anything happens
    workspace.start(idle_wait_s=0.05)

    plan = await asyncio.to_thread(workspace.jobs.plan, "local", _spec(), DATASET)
    assert plan.ok
    job = await asyncio.to_thread(workspace.jobs.submit, plan)
    seen = [await first]
    seen += await _until(stream, lambda e: isinstance(e, JobStateChanged) and e.job.id == job.id and e.job.finished)
    mine = [e for e in seen if getattr(e, "job", None) is not None and e.job.id == job.id]
    # The monitor thread may see the new row before the submitting thread says so: both are delivered.
    assert sum(isinstance(e, JobSubmitted) for e in mine) == 1
    states = [e.job.state for e in mine if isinstance(e, JobStateChanged)]
    assert states[-1] is JobState.SUCCEEDED and JobState.RUNNING in states
    steps = [m.metrics["step"] for e in mine if isinstance(e, JobEventsArrived) for m in e.metrics]
    assert steps == [1, 2, 3, 4]  # every step once, in order
    assert workspace.jobs.progress(job.id).step == 4

    slow_plan = await asyncio.to_thread(workspace.jobs.plan, "local", _spec(SLOW_SEED), DATASET)
    slow = await asyncio.to_thread(workspace.jobs.submit, slow_plan)
    await _until(stream, lambda e: isinstance(e, JobEventsArrived) and e.job.id == slow.id and e.metrics)
    cancelled = await asyncio.to_thread(workspace.jobs.cancel, slow.id)
    assert cancelled.state in (JobState.CANCELLED, JobState.RUNNING)  # the server may still be winding down
    await _until(stream, lambda e: isinstance(e, JobStateChanged) and e.job.id == slow.id and e.job.finished)
    assert workspace.jobs.find(slow.id).state is JobState.CANCELLED

    await asyncio.to_thread(workspace.close)
    stopped = await _until(stream, lambda e: isinstance(e, MonitorStopped), timeout=10)
    assert stopped[-1].reason == "stopped"
    await stream.aclose()
    assert not workspace.monitoring
    left = _threads() - before
    assert not left, left  # no monitor thread, no adapter-building thread left behind
    assert "tunedeck-monitor" not in _threads()


@pytest.mark.slow  # loads the real base model to serve a chat
async def test_a_chat_loads_an_endpoint_that_teardown_removes(workspace: Workspace) -> None:
    stream = workspace.stream()
    reply = await asyncio.to_thread(workspace.reply, "local", BASE, [ChatMessage("user", "Say hi.")], max_tokens=4)
    assert reply.reply and reply.completion_tokens
    inventory = await asyncio.to_thread(workspace.endpoints.inventory)
    listed = await _until(stream, lambda e: isinstance(e, EndpointsListed))
    assert [v.id for v in listed[-1].inventory.ours] == [BASE] == [v.id for v in inventory.ours]
    assert inventory.ours[0].last_used_at is not None  # the chat counted as use

    result = await asyncio.to_thread(workspace.endpoints.teardown, BASE)
    assert result.ok
    torn = await _until(stream, lambda e: isinstance(e, EndpointTornDown))
    assert torn[-1].result.endpoint_id == BASE
    assert (await asyncio.to_thread(workspace.endpoints.inventory)).ours == []
    await stream.aclose()


def test_a_subscriber_that_raises_is_dropped_and_the_others_still_hear() -> None:
    bus = EventBus()
    heard: list[int] = []

    def broken(event: Any) -> None:
        raise RuntimeError("a bug in one front end")

    bus.subscribe(broken)
    bus.subscribe(heard.append)
    bus.publish(1)
    bus.publish(2)
    assert heard == [1, 2] and bus.subscriber_count == 1


def test_the_monitor_reports_its_own_death(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    got: list[Any] = []
    workspace.subscribe(got.append, lambda e: isinstance(e, MonitorStopped))

    def broken_round() -> list[Any]:
        raise RuntimeError("disk vanished")

    monkeypatch.setattr(workspace.monitor, "round", broken_round)
    workspace.start(idle_wait_s=0.01)
    deadline = threading.Event()
    for _ in range(200):
        if got:
            break
        deadline.wait(0.01)
    assert got and got[0].reason == "crashed" and "disk vanished" in got[0].error
    assert not workspace.monitoring


def test_an_interrupted_chat_still_counts_as_use(workspace: Workspace) -> None:
    """Idle teardown must not remove an endpoint someone is reading from: use is recorded at the first token,
    even when the reader stops early."""
    from tests.core.fakes import FakeProvider

    fake = FakeProvider()
    ws = Workspace.open(load_settings(), provider_factory=lambda name: fake)
    used: list[Any] = []
    ws.subscribe(used.append)
    chunks = ws.chat("fake", "model-a", [ChatMessage("user", "hi")])
    next(chunks)  # the first token arrived
    assert [type(e).__name__ for e in used] == ["EndpointUsed"]
    chunks.close()  # the reader hung up
    assert [type(e).__name__ for e in used] == ["EndpointUsed", "EndpointUsed"]
    ws.close()
