"""`AutostopScreen`: set or clear one endpoint's idle auto-teardown (`30m`, `2h`, empty for off)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tunedeck.endpoints.idle import parse_duration
from tunedeck.errors import UsageError


@dataclass(frozen=True)
class AutostopChoice:
    idle: str | None
    """What `EndpointActions.set_autostop` takes: '30m', or None for never."""


class AutostopScreen(ModalScreen[AutostopChoice | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel", id="autostop.cancel")]

    def __init__(self, endpoint: str, current: str) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(f"Idle auto-teardown for {self.endpoint}"), id="dialog-title")
            yield Static(
                "Tear it down after this long unused, e.g. 30m, 2h, 1h30m.\n"
                "Leave empty (or write off) to never tear it down automatically.\n"
                "enter sets it · esc leaves it as it is",
                id="dialog-body",
            )
            yield Input(self.current, placeholder="30m", id="autostop-input")
            yield Static("", id="dialog-error")

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = self.app.animation_level != "none"
        field.focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text.lower() in ("", "off", "never", "none"):
            self.dismiss(AutostopChoice(None))
            return
        try:
            parse_duration(text)
        except UsageError as exc:
            self.query_one("#dialog-error", Static).update(Text(f"{exc.title} {exc.hint}"))
            return
        self.dismiss(AutostopChoice(text))

    def action_cancel(self) -> None:
        self.dismiss(None)
