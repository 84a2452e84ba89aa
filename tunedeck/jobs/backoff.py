"""When to poll next: per-job intervals that stretch while nothing changes, per-provider pauses on 429/5xx."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BackoffPolicy:
    base_s: float = 5.0
    """Poll interval right after a change."""
    max_s: float = 60.0
    """Longest interval for a quiet job."""
    quiet_factor: float = 1.5
    """How fast the interval stretches while a job reports nothing new."""
    error_base_s: float = 5.0
    error_max_s: float = 300.0
    """Exponential backoff bounds for a provider that is down or limits us without saying for how long."""


@dataclass
class Schedule:
    """Monotonic-clock bookkeeping of when each job and each provider may next be asked."""

    policy: BackoffPolicy
    job_due: dict[str, float] = field(default_factory=dict)
    job_interval: dict[str, float] = field(default_factory=dict)
    provider_blocked_until: dict[str, float] = field(default_factory=dict)
    provider_failures: dict[str, int] = field(default_factory=dict)

    def job_is_due(self, job_id: str, now: float) -> bool:
        return self.job_due.get(job_id, 0.0) <= now

    def provider_is_open(self, provider: str, now: float) -> bool:
        return self.provider_blocked_until.get(provider, 0.0) <= now

    def after_poll(self, job_id: str, now: float, *, changed: bool) -> None:
        previous = self.job_interval.get(job_id)
        if changed or previous is None:
            interval = self.policy.base_s
        else:
            interval = min(self.policy.max_s, previous * self.policy.quiet_factor)
        self.job_interval[job_id] = interval
        self.job_due[job_id] = now + interval

    def provider_ok(self, provider: str) -> None:
        self.provider_failures.pop(provider, None)

    def provider_failed(self, provider: str, now: float, retry_after: float | None = None) -> float:
        """Pause every poll of `provider`: for `retry_after` when the provider said so, else exponentially."""
        failures = self.provider_failures.get(provider, 0) + 1
        self.provider_failures[provider] = failures
        if retry_after is not None and retry_after >= 0:
            wait = retry_after
        else:
            wait = min(self.policy.error_max_s, self.policy.error_base_s * 2 ** (failures - 1))
        self.provider_blocked_until[provider] = now + wait
        return wait

    def forget(self, job_id: str) -> None:
        self.job_due.pop(job_id, None)
        self.job_interval.pop(job_id, None)

    def next_due(self, job_ids: list[str], providers: dict[str, str], now: float) -> float:
        """Seconds until the earliest job may be polled (0 when one is due now)."""
        times = [
            max(self.job_due.get(job_id, 0.0), self.provider_blocked_until.get(providers[job_id], 0.0))
            for job_id in job_ids
        ]
        return max(0.0, min(times) - now) if times else self.policy.max_s
