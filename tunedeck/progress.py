"""How long-running core work reports progress to whoever watches (a CLI bar, a TUI widget, nobody)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Progress:
    """A snapshot of long work: `done` of `total` units (total None when unknown)."""

    task: str
    done: float
    total: float | None = None
    unit: str = ""
    message: str = ""


class ProgressSink(Protocol):
    def __call__(self, progress: Progress) -> None: ...


def ignore_progress(progress: Progress) -> None:
    """The sink for callers that do not watch."""
