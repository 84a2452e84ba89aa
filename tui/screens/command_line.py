"""`CommandLineScreen` (`:`): type a screen's name to jump to it, k9s style; tab completes, esc closes."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static

from tui.destinations import DESTINATIONS

EXTRA = (("quit", "leave tunedeck"), ("help", "every key of this screen"))


class CommandLineScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "close", id="command_line.cancel"),
        Binding("tab", "complete", "complete", id="command_line.complete", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries = [(d.name, d.description) for d in DESTINATIONS] + list(EXTRA)

    def compose(self) -> ComposeResult:
        with Vertical(id="command-line"):
            yield Static(self._matches(""), id="command-matches")
            yield Input(
                placeholder="jobs, endpoints … (tab completes, enter goes, esc closes)",
                suggester=SuggestFromList([name for name, _ in self.entries], case_sensitive=False),
                id="command-input",
            )

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = self.app.animation_level != "none"
        field.focus()

    def _matches(self, typed: str) -> Text:
        wanted = typed.strip().lstrip(":").lower()
        text = Text()
        for name, description in self.entries:
            if name.startswith(wanted):
                if text:
                    text.append("\n")
                text.append(f":{name}", "bold")
                text.append(f"  {description}", "dim")
        return text or Text(f"no screen called {typed!r}", "yellow")

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#command-matches", Static).update(self._matches(event.value))

    @on(Input.Submitted)
    def _go(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip().lstrip(":") or None)

    def action_complete(self) -> None:
        field = self.query_one(Input)
        wanted = field.value.strip().lstrip(":").lower()
        names = [name for name, _ in self.entries if name.startswith(wanted)]
        if names:
            field.value = names[0]
            field.cursor_position = len(field.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
