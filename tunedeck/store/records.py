"""Typed rows of the store: what tunedeck knows about datasets, jobs, models, endpoints and teardowns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from providers.base import JobState


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def stored_time(value: str) -> datetime:
    """A timestamp from a NOT NULL column (always written by `to_iso`)."""
    return datetime.fromisoformat(value)


class Submission(StrEnum):
    """Where a job's submission stands: the intent is written before the paid remote call is made."""

    INTENT = "intent"
    """Written, remote call maybe in flight or crashed: reconcile before trying again."""
    SUBMITTED = "submitted"
    """The provider has the job and we know its id."""
    NOT_SUBMITTED = "not-submitted"
    """Reconciliation found no remote job for an old intent: safe to retry with the same key."""


@dataclass(frozen=True)
class DatasetRecord:
    id: int
    provider: str
    path: str
    sha256: str
    size_bytes: int
    provider_file_id: str
    uploaded_at: datetime


@dataclass(frozen=True)
class StateChange:
    state: JobState
    raw_state: str
    detail: str
    at: datetime


@dataclass(frozen=True)
class EventRecord:
    job_id: str
    event_id: str
    created_at: datetime
    level: str
    message: str
    metrics: Mapping[str, float] | None = None
    seq: int = 0
    """The store's insertion order across every process: watchers follow a job by the last `seq` they saw."""


@dataclass(frozen=True)
class JobRecord:
    """A job as the store knows it. `id` is tunedeck's own id, stable before the provider assigns one."""

    id: str
    client_key: str
    provider: str
    base_model: str
    spec: dict[str, Any]
    submission: Submission
    state: JobState
    created_at: datetime
    updated_at: datetime
    provider_job_id: str | None = None
    raw_state: str = ""
    state_detail: str = ""
    unknown_since: datetime | None = None
    fine_tuned_model: str | None = None
    error: str | None = None
    estimated_tokens: int | None = None
    estimated_cost_usd: float | None = None
    billed_tokens: int | None = None
    actual_cost_usd: float | None = None
    last_event_id: str | None = None
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.state.finished or self.submission is Submission.NOT_SUBMITTED

    @property
    def display_state(self) -> str:
        if self.submission is not Submission.SUBMITTED:
            return str(self.submission)
        if self.state is JobState.UNKNOWN and self.unknown_since:
            return f"unknown since {self.unknown_since:%Y-%m-%d %H:%M:%S}Z"
        return str(self.state)


@dataclass(frozen=True)
class ModelRecord:
    name: str
    provider: str
    base_model: str
    job_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class EndpointRecord:
    """An hourly-billed thing tunedeck has seen; `torn_down_at` set once it is gone."""

    provider: str
    id: str
    display_name: str
    model: str
    hourly_rate_usd: float | None
    first_seen_at: datetime
    machine_type: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    idle_teardown_s: float | None = None
    torn_down_at: datetime | None = None

    @property
    def started_at(self) -> datetime:
        return self.created_at or self.first_seen_at

    def uptime_s(self, now: datetime | None = None) -> float:
        end = self.torn_down_at or now or utcnow()
        return max(0.0, (end - self.started_at).total_seconds())

    def accrued_cost_usd(self, now: datetime | None = None) -> float | None:
        if self.hourly_rate_usd is None:
            return None
        return self.hourly_rate_usd * self.uptime_s(now) / 3600.0

    def idle_s(self, now: datetime | None = None) -> float:
        last = self.last_used_at or self.started_at
        return max(0.0, ((now or utcnow()) - last).total_seconds())


class TeardownOutcome(StrEnum):
    DONE = "done"
    ALREADY_GONE = "already-gone"
    NOT_OURS = "not-ours"
    FAILED = "failed"


@dataclass(frozen=True)
class TeardownRecord:
    id: int
    provider: str
    endpoint_id: str
    outcome: TeardownOutcome
    reason: str
    at: datetime
    error: str | None = None
    accrued_cost_usd: float | None = None
