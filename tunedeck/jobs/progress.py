"""A job's progress read from its recorded metrics events: step of total, latest losses and an ETA."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tunedeck.store import EventRecord


@dataclass(frozen=True)
class JobProgress:
    step: int | None = None
    total_steps: int | None = None
    train_loss: float | None = None
    valid_loss: float | None = None
    eta_s: float | None = None
    """Seconds left: the provider's own estimate when it gives one, else extrapolated from the step rate."""
    at: datetime | None = None
    """When the latest metrics were recorded."""
    first_step: int | None = None
    first_step_at: datetime | None = None
    """The earliest step seen and when: the step rate (for an ETA) spans every update, not just one batch."""

    @property
    def fraction(self) -> float | None:
        if self.step is None or not self.total_steps:
            return None
        return min(1.0, self.step / self.total_steps)

    def describe(self) -> str:
        """'step 12/36 · train 1.2345 · valid 1.3456 · ETA 0m42s' (the parts that are known)."""
        parts = []
        if self.step is not None:
            parts.append(f"step {self.step}/{self.total_steps}" if self.total_steps else f"step {self.step}")
        if self.train_loss is not None:
            parts.append(f"train {self.train_loss:.4f}")
        if self.valid_loss is not None:
            parts.append(f"valid {self.valid_loss:.4f}")
        if self.eta_s is not None:
            parts.append(f"ETA {format_seconds(self.eta_s)}")
        return " · ".join(parts)

    def advanced(self, events: Iterable[EventRecord]) -> JobProgress:
        """This progress updated with newer events (those without metrics are skipped)."""
        progress = self
        first: tuple[int, datetime] | None = None
        if self.first_step is not None and self.first_step_at is not None:
            first = (self.first_step, self.first_step_at)
        for event in events:
            metrics = event.metrics or {}
            if "step" not in metrics:
                continue
            step = int(metrics["step"])
            first = first or (step, event.created_at)
            total = metrics.get("total_steps")
            eta = metrics.get("estimated_remaining_s")
            valid = metrics.get("valid_loss", metrics.get("full_valid_loss"))
            progress = JobProgress(
                step=step,
                total_steps=int(total) if total else progress.total_steps,
                train_loss=_number(metrics.get("train_loss"), progress.train_loss),
                valid_loss=_number(valid, progress.valid_loss),
                eta_s=float(eta) if isinstance(eta, int | float) else None,
                at=event.created_at,
                first_step=first[0],
                first_step_at=first[1],
            )
        if progress.eta_s is None and first is not None and progress.total_steps and progress.step and progress.at:
            done = progress.step - first[0]
            elapsed = (progress.at - first[1]).total_seconds()
            if done > 0 and elapsed > 0:
                progress = _with_eta(progress, elapsed / done * (progress.total_steps - progress.step))
        return progress

    @classmethod
    def from_events(cls, events: Iterable[EventRecord]) -> JobProgress:
        return cls().advanced(events)


def _number(value: object, default: float | None) -> float | None:
    return float(value) if isinstance(value, int | float) else default


def _with_eta(progress: JobProgress, eta_s: float) -> JobProgress:
    from dataclasses import replace

    return replace(progress, eta_s=max(0.0, eta_s))


def format_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
