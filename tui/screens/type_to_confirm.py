"""`TypeToConfirmScreen`: a confirmation for what cannot be undone (destroying a stack): the user types a word
(the stack's name) and only an exact match confirms; `esc` cancels, as `tunedeck infra destroy` asks."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class TypeToConfirmScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel", id="type_confirm.cancel")]

    def __init__(self, title: str, body: str, word: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.word = word

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Label(self.title_text, id="dialog-title")
            yield Static(Text(self.body), id="dialog-body")
            yield Static(Text.assemble("Type ", (self.word, "bold"), " and press enter to confirm; esc cancels."))
            yield Input(placeholder=self.word, id="type-confirm-input")
            yield Static("", id="type-confirm-status")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.word:
            self.dismiss(True)
        else:
            self.query_one("#type-confirm-status", Static).update(
                Text(f"That is not {self.word!r}; nothing was destroyed.", style="red")
            )

    def action_cancel(self) -> None:
        self.dismiss(False)
