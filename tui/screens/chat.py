"""`ChatScreen`: a test chat with one model (an endpoint's, a checkpoint's), streaming, with latency and tokens.

The screen owns its worker: the reply streams in through `ChatTextArrived` messages (posted from the worker
thread) and ends with `ChatReplied`. Closing the screen mid-reply stops reading the stream at the next piece.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from providers.base import ChatMessage
from tui.deck import Deck, reported
from tui.messages import ChatReplied, ChatTextArrived

DEFAULT_PROMPT = "Say hello in five words."


@dataclass(frozen=True)
class ChatTarget:
    provider: str
    model: str
    label: str
    """What the title names: the endpoint or the checkpoint."""


class _Closed(Exception):
    """Raised inside the stream callback once the screen is gone, to stop reading the reply."""


class ChatScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "close", id="chat.close")]

    def __init__(self, deck: Deck, target: ChatTarget, *, max_tokens: int = 64) -> None:
        super().__init__()
        self.deck = deck
        self.target = target
        self.max_tokens = max_tokens
        self.history: list[ChatMessage] = []
        self._stopped = threading.Event()
        self._reply: Static | None = None
        self._text = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide tall"):
            yield Label(Text(f"Test chat — {self.target.label}"), id="dialog-title")
            yield Static(Text(f"{self.target.provider} · {self.target.model}", style="dim"))
            yield VerticalScroll(id="chat-transcript")
            yield Input(DEFAULT_PROMPT, placeholder="a prompt; enter sends", id="chat-input")
            yield Static("enter sends · esc closes", id="chat-status")

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = self.app.animation_level != "none"
        field.focus()

    @on(Input.Submitted)
    def _send(self, event: Input.Submitted) -> None:
        prompt = event.value.strip()
        if not prompt or self._reply is not None:
            return
        event.input.value = ""
        transcript = self.query_one("#chat-transcript", VerticalScroll)
        transcript.mount(Static(Text.assemble(("you  ", "bold"), prompt), classes="chat-you"))
        self._reply = Static(Text("…", style="dim"), classes="chat-model")
        transcript.mount(self._reply)
        transcript.scroll_end(animate=False)
        self.query_one("#chat-status", Static).update("waiting for the first token…")
        self.history.append(ChatMessage("user", prompt))
        self._text = ""
        self.ask(list(self.history))

    @work(thread=True, exclusive=True, group="chat", exit_on_error=False)
    def ask(self, messages: list[ChatMessage]) -> None:
        def on_text(piece: str) -> None:
            if self._stopped.is_set():
                raise _Closed
            self.post_message(ChatTextArrived(piece))

        reply = None
        with reported(self, "The test chat"):
            try:
                reply = self.deck.workspace.reply(
                    self.target.provider, self.target.model, messages, max_tokens=self.max_tokens, on_text=on_text
                )
            except _Closed:
                return
        self.post_message(ChatReplied(reply))  # None: it failed (and was reported); the prompt unlocks

    def on_chat_text_arrived(self, message: ChatTextArrived) -> None:
        if self._reply is None:
            return
        self._text += message.text
        self._reply.update(Text.assemble(("model  ", "bold"), self._text))
        self.query_one("#chat-transcript", VerticalScroll).scroll_end(animate=False)

    def on_chat_replied(self, message: ChatReplied) -> None:
        reply, status = message.reply, self.query_one("#chat-status", Static)
        if reply is None:
            if self._reply is not None:
                self._reply.update(Text("no reply (see the notification)", style="red"))
            if self.history:
                self.history.pop()
            status.update("failed · enter to try again · esc closes")
        else:
            if self._reply is not None:
                self._reply.update(Text.assemble(("model  ", "bold"), reply.reply or "(empty reply)"))
            self.history.append(ChatMessage("assistant", reply.reply))
            status.update(Text(f"{reply.describe()} · enter sends · esc closes"))
        self._reply = None

    def action_close(self) -> None:
        self._stopped.set()
        self.dismiss(None)
