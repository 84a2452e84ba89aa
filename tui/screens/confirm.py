"""`ConfirmScreen`: one yes/no question before anything that spends or deletes. Cancel has the focus; `y`
confirms, `n` or `esc` cancels, so an absent-minded enter never destroys anything."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "yes", id="confirm.yes"),
        Binding("n", "cancel", "no", id="confirm.no"),
        Binding("escape", "cancel", "cancel", id="confirm.cancel"),
    ]

    def __init__(
        self, title: str, body: Text | str, confirm_label: str, *, cancel_label: str = "Cancel", danger: bool = True
    ) -> None:
        super().__init__()
        self.cancel_label = cancel_label
        self.title_text = title
        self.body = body
        self.confirm_label = confirm_label
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(self.title_text), id="dialog-title")
            yield Static(self.body, id="dialog-body")
            with Horizontal(id="dialog-buttons"):
                yield Button(f"{self.cancel_label} (n)", id="cancel", variant="primary")
                yield Button(f"{self.confirm_label} (y)", id="confirm", variant="error" if self.danger else "success")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
