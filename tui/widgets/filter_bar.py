"""`FilterBar`: the `/` prompt under a table. Filters as you type; enter keeps the filter, esc clears it."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.widgets import Input

from tui.messages import FilterChanged


class FilterBar(Input):
    DEFAULT_CSS = """
    FilterBar, FilterBar:focus {
        dock: bottom;
        display: none;
        border: none;
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    FilterBar.-open { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "clear", "clear filter", id="filter.clear")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="filter: any text in the row (enter keeps it, esc clears)", id=id)

    def open(self) -> None:
        self.add_class("-open")
        self.focus()

    def on_mount(self) -> None:
        # Snapshots and `TEXTUAL_ANIMATIONS=none` want a still frame: no blinking cursor.
        self.cursor_blink = self.app.animation_level != "none"

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(FilterChanged(event.value))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close(keep=True)

    def action_clear(self) -> None:
        self.value = ""
        self._close(keep=False)

    def _close(self, *, keep: bool) -> None:
        if not (keep and self.value):
            self.remove_class("-open")
        self.post_message(FilterChanged(self.value, done=True))
