"""A small in-process Provider implementing the Protocol, for pure-logic tests of submit, monitor and teardown."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from providers.base import (
    CLIENT_KEY_LABEL,
    Capabilities,
    ChatChunk,
    ChatMessage,
    Checkpoint,
    Endpoint,
    JobEvent,
    JobState,
    JobStatus,
    ModelInfo,
    ProviderJob,
    TuningSpec,
)
from providers.errors import NotFoundError, ProviderError

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass
class FakeProvider:
    """Jobs advance one scripted state per `get_job`; `failures` are raised, in order, by the next calls."""

    name: ClassVar[str] = "fake"
    capabilities: ClassVar[Capabilities] = Capabilities(
        fine_tuning=True, checkpoints=False, hourly_endpoints=True, chat=True, streaming=True
    )
    script: list[JobState] = field(default_factory=lambda: [JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED])
    failures: list[ProviderError] = field(default_factory=list)
    teardown_failures: dict[str, ProviderError] = field(default_factory=dict)
    jobs: dict[str, ProviderJob] = field(default_factory=dict)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    uploads: list[Path] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    torn_down: list[str] = field(default_factory=list)
    _step: dict[str, int] = field(default_factory=dict)

    def _maybe_fail(self, call: str) -> None:
        self.calls.append(call)
        if self.failures:
            raise self.failures.pop(0)

    def upload_dataset(self, path: Path) -> str:
        self._maybe_fail("upload")
        self.uploads.append(path)
        return f"file-{len(self.uploads)}"

    def create_job(self, spec: TuningSpec) -> ProviderJob:
        self._maybe_fail("create")
        job_id = f"ftjob-{len(self.jobs) + 1}"
        job = ProviderJob(
            id=job_id,
            provider=self.name,
            base_model=spec.base_model,
            status=JobStatus(JobState.VALIDATING, "validating_files"),
            created_at=T0 + timedelta(seconds=len(self.jobs)),
            labels=dict(spec.labels),
        )
        self.jobs[job_id] = job
        self._step[job_id] = 0
        return job

    def get_job(self, job_id: str) -> ProviderJob:
        self._maybe_fail("get")
        if job_id not in self.jobs:
            raise NotFoundError(f"No job {job_id}.", provider=self.name)
        step = self._step[job_id]
        state = self.script[min(step, len(self.script) - 1)]
        self._step[job_id] = step + 1
        job = self.jobs[job_id]
        job.status = JobStatus(state, state.value)
        if state is JobState.SUCCEEDED:
            job.fine_tuned_model = f"ft:{job.base_model}:{job_id}"
            job.trained_tokens = 1000
        return job

    def list_jobs(self, limit: int = 50) -> list[ProviderJob]:
        self._maybe_fail("list")
        return list(self.jobs.values())[:limit]

    def find_jobs_by_client_key(self, client_key: str) -> list[ProviderJob]:
        self._maybe_fail("find")
        return [j for j in self.jobs.values() if j.labels.get(CLIENT_KEY_LABEL) == client_key]

    def cancel_job(self, job_id: str) -> ProviderJob:
        self._maybe_fail("cancel")
        job = self.jobs[job_id]
        job.status = JobStatus(JobState.CANCELLED, "cancelled")
        self.script = [JobState.CANCELLED]
        return job

    def list_events(self, job_id: str, after: str | None = None) -> list[JobEvent]:
        self._maybe_fail("events")
        step = self._step.get(job_id, 0)
        # One event per poll so far; the overlap with earlier polls is what the store must deduplicate.
        return [
            JobEvent(f"ev-{i}", T0 + timedelta(seconds=i), "info", f"step {i}", {"step": i, "train_loss": 2.0 / i})
            for i in range(1, step + 1)
        ]

    def list_checkpoints(self, job_id: str) -> list[Checkpoint]:
        return []

    def chat(
        self, model: str, messages: list[ChatMessage], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[ChatChunk]:
        self._maybe_fail("chat")
        yield ChatChunk("Hello")
        yield ChatChunk(" there", finish_reason="stop", prompt_tokens=3, completion_tokens=2)

    def list_models(self) -> list[ModelInfo]:
        return [ModelInfo(j.fine_tuned_model, self.name) for j in self.jobs.values() if j.fine_tuned_model]

    def delete_model(self, model: str) -> None:
        self.calls.append(f"delete_model:{model}")

    def list_endpoints(self) -> list[Endpoint]:
        self._maybe_fail("list_endpoints")
        return list(self.endpoints.values())

    def teardown_endpoint(self, endpoint_id: str) -> None:
        self.calls.append(f"teardown:{endpoint_id}")
        if endpoint_id in self.teardown_failures:
            raise self.teardown_failures.pop(endpoint_id)
        if endpoint_id not in self.endpoints:
            raise NotFoundError(f"No endpoint {endpoint_id}.", provider=self.name)
        del self.endpoints[endpoint_id]
        self.torn_down.append(endpoint_id)
