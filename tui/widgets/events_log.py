"""`EventsLog`: a job's events, streaming. It follows new lines only while the view is at the bottom, so
scrolling up to read stays put (Textual's `Log.write_lines` does exactly that)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from textual.widgets import Log

from tui.format import clock_time
from tunedeck.store import EventRecord


class EventsLog(Log):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=5000, highlight=False)
        self.last_seq = -1

    def add(self, events: Iterable[EventRecord], now: datetime) -> None:
        """Append events not shown yet (a reload and a live update may both carry the same ones)."""
        lines = []
        for event in events:
            if event.seq and event.seq <= self.last_seq:
                continue
            self.last_seq = max(self.last_seq, event.seq)
            level = "" if event.level == "info" else f"{event.level.upper()} "
            lines.append(f"{clock_time(event.created_at, now)} {level}{event.message}")
        if lines:
            self.write_lines(lines)
