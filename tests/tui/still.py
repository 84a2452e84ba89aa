"""A still life for snapshots and README screenshots: a workspace with a few jobs and endpoints across two
providers, every id and time fixed, so the same app draws the same frame on every machine.

Nothing here runs a monitor: the app is started with `live=False` and a frozen clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from providers.base import MANAGED_BY_LABEL, Endpoint, JobEvent, JobState, JobStatus, ProviderJob, TuningSpec
from tests.core.fakes import T0
from tests.tui.conftest import LocalFake, write_config
from tui.app import TunedeckApp
from tunedeck.jobs.submit import submit_job
from tunedeck.workspace import Workspace

NOW = T0 + timedelta(hours=2, minutes=30)
"""The frozen clock: 2026-11-25 14:30 UTC."""
STEPS = 36


class StillLocal(LocalFake):
    """Jobs with realistic loss curves: train loss every step, validation every sixth."""

    def list_events(self, job_id: str, after: str | None = None) -> list[JobEvent]:
        done = STEPS if self.jobs[job_id].status.state is JobState.SUCCEEDED else 12
        events = [JobEvent("ev-0", T0 + timedelta(minutes=12), "info", "Fine-tuning job started")]
        for step in range(1, done + 1):
            metrics = {"step": step, "total_steps": STEPS, "train_loss": round(2.6 * 0.93**step + 0.35, 4)}
            if step % 6 == 0:
                metrics["valid_loss"] = round(2.7 * 0.95**step + 0.42, 4)
            at = T0 + timedelta(minutes=12, seconds=20 * step)
            message = f"Step {step}/{STEPS}: training loss={metrics['train_loss']}"
            events.append(JobEvent(f"ev-{step}", at, "info", message, metrics))
        return events


class StillVertex(StillLocal):
    name = "vertex"


def _stepping_clock(start: datetime) -> Iterator[datetime]:
    return (start + timedelta(seconds=41 * n) for n in itertools.count())


def still_workspace(home: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """The store as a user would have it after an afternoon: one tuned model, one training, one failed, one
    refused at submission; a GPU endpoint of ours, a loaded local model, and someone else's endpoint."""
    ids = itertools.count(0xA11CE)
    monkeypatch.setattr("tunedeck.store.jobs.new_job_id", lambda: f"td-{next(ids):08x}")
    times = _stepping_clock(T0 + timedelta(minutes=10))
    monkeypatch.setattr("tunedeck.store.jobs.utcnow", lambda: next(times))
    write_config(home, "")
    local, vertex = StillLocal(), StillVertex()
    ours = {MANAGED_BY_LABEL: "tunedeck"}
    vertex.endpoints = {
        "4417": Endpoint("4417", "vertex", "support-bot-l4", "support-bot@v2", 1.38, "g2-standard-8 + L4", 1,
                         T0 - timedelta(hours=3), T0 + timedelta(minutes=50), ours),
        "9001": Endpoint("9001", "vertex", "research-a100", "llama-3.1-8b", 4.22, "a2-highgpu-1g", 1,
                         T0 - timedelta(days=2), None, {}),
    }  # fmt: skip
    local.endpoints = {
        "ft:smollm2:helpdesk": Endpoint("ft:smollm2:helpdesk", "local", "ft:smollm2:helpdesk", "ft:smollm2:helpdesk",
                                        0.0, "local", 1, T0 + timedelta(hours=1), T0 + timedelta(hours=1, minutes=40),
                                        ours),
    }  # fmt: skip
    workspace = Workspace.open(provider_factory=lambda name: vertex if name == "vertex" else local)

    def job(provider: LocalFake, suffix: str, state: JobState, *, error: str = "", **spec: object) -> str:
        wanted = TuningSpec(base_model="smollm2-135m-instruct" if provider is local else "gemini-2.0-flash-001",
                            training_file="file-1", suffix=suffix, **spec)  # type: ignore[arg-type]  # fmt: skip
        record = submit_job(workspace.store, provider, wanted, estimated_tokens=48_210,
                            estimated_cost_usd=0.0 if provider is local else 0.1446)  # fmt: skip
        remote: ProviderJob = provider.jobs[record.provider_job_id or ""]
        for step in (JobState.QUEUED, JobState.RUNNING, state):
            remote.status = JobStatus(step, step.value)
            if step is JobState.SUCCEEDED:
                remote.fine_tuned_model, remote.trained_tokens = f"ft:{wanted.base_model}:{suffix}", 48_210
            remote.error = error or None
            workspace.store.record_status(record.id, remote)
        if state is JobState.SUCCEEDED:
            workspace.store.set_actual_cost(record.id, 48_210, 0.0)
        workspace.store.add_events(record.id, provider.list_events(remote.id))
        return record.id

    job(local, "helpdesk", JobState.SUCCEEDED, n_epochs=3)
    job(vertex, "legal-tone", JobState.FAILED, error="Validation failed: 3 examples exceed 32,768 tokens.")
    job(local, "sign-off", JobState.RUNNING, n_epochs=3, learning_rate_multiplier=2.0)
    refused = TuningSpec("smollm2-135m-instruct", "file-2", suffix="retry-me", client_key="tdk-still-refused")
    intent = workspace.store.create_job_intent("local", refused)
    workspace.store.mark_not_submitted(intent.id, "rate limited: too many jobs at once")
    workspace.endpoints.inventory()  # records ours, as a first listing does
    return workspace


def still_app(workspace: Workspace, *, read_only: bool = False) -> TunedeckApp:
    app = TunedeckApp(workspace, read_only=read_only, clock=lambda: NOW, live=False)
    app.animation_level = "none"  # no blinking cursors in a still frame
    return app
