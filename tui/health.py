"""Provider health as the header shows it: reachable, unknown since …, not configured — read from bus events.

The core has no "ping": health is inferred from what already happens. An inventory says per provider whether
it was checked; a job poll that answers proves the provider is reachable; a poll that could not reach it
(`JobUnknown` with a retry time) makes it "unknown since" the first failure, until it answers again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from tui.format import clock_time
from tunedeck.endpoints.inventory import CheckStatus
from tunedeck.events import (
    EndpointsListed,
    JobEventsArrived,
    JobRateLimited,
    JobStateChanged,
    JobUnknown,
    ProviderReachable,
    ProviderUnavailable,
)
from tunedeck.store import Submission


class Health(StrEnum):
    CHECKING = "checking…"
    REACHABLE = "reachable"
    UNKNOWN = "unknown"
    NOT_CONFIGURED = "not configured"


@dataclass(frozen=True)
class ProviderStatus:
    provider: str
    health: Health
    since: datetime | None = None
    detail: str = ""

    def label(self, now: datetime, *, short: bool = False) -> str:
        """'local reachable' / 'vertex unknown since 14:03:07'; `short` trades words for glyphs at 80 columns."""
        if self.health is Health.UNKNOWN:
            since = f" {clock_time(self.since, now)}" if self.since else ""
            return f"{self.provider} ?{since}" if short else f"{self.provider} unknown since{since or ' …'}"
        if short:
            glyph = {Health.REACHABLE: "✓", Health.NOT_CONFIGURED: "–", Health.CHECKING: "…"}[self.health]
            return f"{self.provider} {glyph}"
        return f"{self.provider} {self.health}"


class HealthBoard:
    """Provider name → its latest status. `apply` returns whether anything the header shows changed."""

    def __init__(self) -> None:
        self._status: dict[str, ProviderStatus] = {}

    def statuses(self) -> tuple[ProviderStatus, ...]:
        return tuple(self._status[name] for name in sorted(self._status))

    def expect(self, providers: list[str]) -> bool:
        """Providers to show as 'checking…' until something is known about them."""
        new = [name for name in providers if name not in self._status]
        for name in new:
            self._status[name] = ProviderStatus(name, Health.CHECKING)
        return bool(new)

    def apply(self, event: Any, now: datetime) -> bool:
        if isinstance(event, EndpointsListed):
            changed = False
            for name, check in event.inventory.checks.items():
                if check.status is CheckStatus.CHECKED:
                    changed |= self._set(name, Health.REACHABLE, now)
                elif check.status is CheckStatus.NOT_CONFIGURED:
                    changed |= self._set(name, Health.NOT_CONFIGURED, now, check.detail)
                else:
                    changed |= self._set(name, Health.UNKNOWN, now, check.detail)
            return changed
        if isinstance(event, JobUnknown):
            # Only an unreachable provider comes with a retry time; a job gone at the provider says nothing
            # about the provider itself.
            if event.retry_in_s is None:
                return False
            return self._set(event.job.provider, Health.UNKNOWN, event.job.unknown_since or now, event.detail)
        if isinstance(event, JobRateLimited | JobEventsArrived):
            return self._set(event.job.provider, Health.REACHABLE, now)
        if isinstance(event, JobStateChanged):
            job = event.job
            if job.submission is Submission.SUBMITTED and job.unknown_since is None:
                return self._set(job.provider, Health.REACHABLE, now)
            return False
        if isinstance(event, ProviderUnavailable):
            return self._set(event.provider, Health.UNKNOWN, now, event.title)
        if isinstance(event, ProviderReachable):
            return self._set(event.provider, Health.REACHABLE, now)
        return False

    def _set(self, name: str, health: Health, at: datetime, detail: str = "") -> bool:
        old = self._status.get(name)
        if old is not None and old.health is health:
            # "Unknown since" keeps the first failure; a repeated failure only refreshes the reason.
            if old.detail != detail:
                self._status[name] = replace(old, detail=detail)
            return False
        self._status[name] = ProviderStatus(name, health, at, detail)
        return True
