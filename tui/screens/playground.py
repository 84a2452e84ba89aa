"""`PlaygroundScreen`: the same prompt to one, two or three models at once, streaming into columns with the
latency and tokens of each; the system prompt, temperature and max tokens are editable. A `profile:NAME` column
answers through that profile (its own system prompt, few-shot and retrieval), so base vs tuned vs a profile is
one row of inputs. A validation file's
held-out prompts replay with one key each (1–9), and `a`/`b`/`c` (or `=` for a tie) records which answer was
better through `ws.prefer` (the CLI's `tunedeck preferences record`)."""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Input, Static

from providers.base import ChatMessage
from tui.deck import Deck, reported
from tui.profile_columns import PROFILE, ProfileColumns
from tui.screens.base import DeckScreen
from tui.widgets.status_header import StatusHeader
from tui.work_messages import ColumnReplied, ColumnText

MAX_COLUMNS = 3
LETTERS = "abc"
DEFAULT_MODELS = "local:smollm2-135m-instruct"


class _ReplaceableText(ColumnText):
    """A column's text so far: a newer one for the same column and round replaces a queued older one."""

    def can_replace(self, message: Any) -> bool:
        return isinstance(message, ColumnText) and (message.column, message.round) == (self.column, self.round)


class PlaygroundScreen(DeckScreen):
    TITLE_TEXT = "Playground"
    CSS_PATH = "../part2.tcss"
    SPENDS = frozenset({"send"})
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(str(n), f"replay({n})", f"prompt {n}", show=False, id=f"playground.replay{n}") for n in range(1, 10)),
        *(Binding(letter, f"mark({i})", "better", id=f"playground.mark_{letter}")
          for i, letter in enumerate(LETTERS)),
        Binding("equals_sign", "mark(-1)", "tie", id="playground.tie"),
        Binding("i", "focus_prompt", "prompt", id="playground.prompt"),
    ]  # fmt: skip

    def __init__(self, deck: Deck, models: str = DEFAULT_MODELS, held_out: Path | None = None) -> None:
        super().__init__(deck)
        self.initial_models = models
        self.initial_held_out = held_out
        self.initial_system = ""
        self.targets: list[tuple[str, str]] = []
        self.columns: list[VerticalScroll] = []
        self.texts: list[Static] = []
        self.round = 0
        self.prompt = ""
        self.source: str | None = None
        self.replies: dict[int, Any] = {}
        self.held_out: list[tuple[str, str]] = []
        """(prompt, source) pairs from the validation file."""
        self.marked = False
        self._stopped = threading.Event()
        self.profiles = ProfileColumns(self.ws)

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.TITLE_TEXT)
        with Horizontal(id="pg-settings"):
            yield Input(self.initial_models, placeholder="provider:model or profile:NAME, up to three, comma-separated",
                        id="pg-models")  # fmt: skip
            yield Input(self.initial_system, placeholder="system prompt", id="pg-system")
            yield Input("0.0", placeholder="temperature", id="pg-temperature", type="number")
            yield Input("128", placeholder="max tokens", id="pg-max-tokens", type="integer")
        yield Horizontal(id="pg-columns")
        yield Input(str(self.initial_held_out or ""), placeholder="held-out prompts: a validation file (enter loads)",
                    id="pg-held-out")  # fmt: skip
        yield Static("", id="pg-prompts")
        yield Input(placeholder="a prompt; enter sends it to every column", id="pg-prompt")
        yield Static("", id="pg-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        for field in self.query(Input):
            field.cursor_blink = self.app.animation_level != "none"
        self.query_one("#pg-prompt", Input).focus()
        if self.initial_held_out:
            self.load_held_out(self.initial_held_out)

    def preset(self, models: str, system: str) -> None:
        """Fill the models and system prompt (the Profiles screen's `p`); applied once mounted."""
        self.initial_models, self.initial_system = models, system
        if self.is_mounted:
            self.query_one("#pg-models", Input).value = models
            self.query_one("#pg-system", Input).value = system

    def on_unmount(self) -> None:
        self._stopped.set()
        self.profiles.close()
        super().on_unmount()

    # -- columns -------------------------------------------------------------------------------------------

    def _parse_targets(self) -> list[tuple[str, str]] | None:
        text = self.query_one("#pg-models", Input).value
        names = [part.strip() for part in text.split(",") if part.strip()]
        if not names or len(names) > MAX_COLUMNS:
            self.notify("Name one to three models, comma-separated (provider:model).",
                        title="Which models?", severity="warning")  # fmt: skip
            return None
        known = set(self.ws.known_providers())
        targets = []
        for name in names:
            provider, colon, model = name.partition(":")
            if colon and (provider in known or provider == PROFILE) and model.strip():
                targets.append((provider, model))
                continue
            guessed = self.ws.guess_provider(name)
            if guessed is None:
                self.notify(f"Write it as provider:model (one of {', '.join(sorted(known))}) or profile:NAME.",
                            title=f"Cannot tell which provider serves {name!r}", severity="warning")  # fmt: skip
                return None
            targets.append((guessed, name))
        return targets

    def _columns(self, targets: list[tuple[str, str]]) -> None:
        """Build the columns afresh when the models changed (references kept: mounting finishes later)."""
        if targets == self.targets:
            return
        box = self.query_one("#pg-columns", Horizontal)
        box.remove_children()
        self.columns, self.texts = [], []
        for i, (provider, model) in enumerate(targets):
            text = Static("", classes="pg-text")
            column = VerticalScroll(text, classes="pg-column")
            column.border_title = (
                f"{LETTERS[i]} · {provider} {model}" if provider == PROFILE else f"{LETTERS[i]} · {provider}:{model}"
            )
            column.can_focus = True
            self.columns.append(column)
            self.texts.append(text)
        box.mount_all(self.columns)
        self.targets = targets

    def _number(self, widget: str, default: float) -> float:
        try:
            return float(self.query_one(widget, Input).value)
        except ValueError:
            return default

    def send(self, prompt: str, source: str | None = None) -> None:
        if self.refused("send") or not prompt.strip():
            return
        targets = self._parse_targets()
        if targets is None:
            return
        self.round += 1
        self.prompt, self.source, self.replies, self.marked = prompt, source, {}, False
        self._columns(targets)
        for text, column in zip(self.texts, self.columns, strict=True):
            text.update(Text("…", style="dim"))
            column.border_subtitle = "waiting for the first token…"
        system = self.query_one("#pg-system", Input).value.strip()
        messages = [ChatMessage("system", system)] if system else []
        messages.append(ChatMessage("user", prompt))
        temperature = self._number("#pg-temperature", 0.0)
        max_tokens = max(1, int(self._number("#pg-max-tokens", 128)))
        for i, (provider, model) in enumerate(targets):
            ask = partial(self._ask, i, self.round, provider, model, messages, temperature, max_tokens)
            self.run_worker(ask, thread=True, exclusive=True, group=f"playground-{i}", exit_on_error=False)
        self._status(f"asking {len(targets)} model(s)…")

    def _ask(
        self, column: int, round_: int, provider: str, model: str, messages: list[ChatMessage], temperature: float,
        max_tokens: int,
    ) -> None:  # fmt: skip
        text = ""

        def on_text(piece: str) -> None:
            nonlocal text
            if self._stopped.is_set():
                raise InterruptedError
            text += piece
            self.post_message(_ReplaceableText(column, text, round_))

        reply = None
        with reported(self, f"{provider}:{model}"):
            try:
                if provider == PROFILE:  # the profile brings its own system prompt
                    reply = self.profiles.ask(model, messages[-1].content, max_tokens=max_tokens,
                                              temperature=temperature, on_text=on_text)  # fmt: skip
                else:
                    reply = self.ws.reply(provider, model, messages, max_tokens=max_tokens, temperature=temperature,
                                          on_text=on_text)  # fmt: skip
            except InterruptedError:
                return
        self.post_message(ColumnReplied(column, reply, round_))

    def on_column_text(self, message: ColumnText) -> None:
        if message.round == self.round and message.column < len(self.targets):
            self.texts[message.column].update(Text(message.text))

    def on_column_replied(self, message: ColumnReplied) -> None:
        if message.round != self.round or message.column >= len(self.targets):
            return
        column, text = self.columns[message.column], self.texts[message.column]
        reply = message.reply
        if reply is None:
            text.update(Text("no reply (see the notification)", style="red"))
            column.border_subtitle = "failed"
        else:
            text.update(Text(reply.reply or "(empty reply)"))
            column.border_subtitle = reply.describe()
        self.replies[message.column] = reply
        if len(self.replies) == len(self.targets):
            can_mark = len(self.targets) > 1 and all(r is not None for r in self.replies.values())
            marks = " · a/b/c marks the better answer, = a tie" if can_mark else ""
            self._status(f"done{marks}")
            self.refresh_bindings()

    def _status(self, text: str) -> None:
        self.query_one("#pg-status", Static).update(Text(text, style="dim"))

    # -- held-out prompts ------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="playground-held-out", exit_on_error=False)
    def load_held_out(self, path: Path) -> None:
        from tunedeck.profiles.examples import load_examples

        with reported(self, "Reading the held-out prompts"):
            examples = load_examples(path)
            prompts = [(e.question, f"{path.name}:{e.line}") for e in examples]
            self.app.call_from_thread(self._show_held_out, prompts)

    def _show_held_out(self, prompts: list[tuple[str, str]]) -> None:
        self.held_out = prompts
        lines = Text()
        for n, (prompt, source) in enumerate(prompts[:9], start=1):
            lines.append(f"{n} ", style="bold")
            lines.append(f"{' '.join(prompt.split())[:100]}  ({source})\n")
        more = f"{len(prompts) - 9} more not on a key\n" if len(prompts) > 9 else ""
        self.query_one("#pg-prompts", Static).update(lines + Text(more, style="dim"))
        self._status(f"{len(prompts)} held-out prompts: press 1–{min(9, len(prompts))} (outside a text field)")

    @on(Input.Submitted, "#pg-held-out")
    def _held_out_entered(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.load_held_out(Path(event.value.strip()).expanduser())

    @on(Input.Submitted, "#pg-prompt")
    def _prompt_entered(self, event: Input.Submitted) -> None:
        prompt = event.value.strip()
        if prompt:
            event.input.value = ""
            self.send(prompt)
            self._focus_columns()

    @on(Input.Submitted, "#pg-models, #pg-system, #pg-temperature, #pg-max-tokens")
    def _settings_entered(self) -> None:
        self.query_one("#pg-prompt", Input).focus()

    def _focus_columns(self) -> None:
        if self.columns:
            self.columns[0].focus()

    # -- keys ----------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "mark":
            ready = len(self.targets) > 1 and len(self.replies) == len(self.targets) and not self.marked
            return ready and all(r is not None for r in self.replies.values())
        return super().check_action(action, parameters)

    def action_replay(self, number: int) -> None:
        if 0 < number <= len(self.held_out):
            prompt, source = self.held_out[number - 1]
            self.send(prompt, source)

    def action_focus_prompt(self) -> None:
        self.query_one("#pg-prompt", Input).focus()

    def action_mark(self, index: int) -> None:
        from tunedeck.store.preferences import Candidate

        if index >= len(self.targets):
            return
        # A profile column is recorded under the profile's provider, with `profile:NAME` as its model.
        candidates = [
            Candidate(r.provider, r.model, r.reply) for r in (self.replies[i] for i in range(len(self.targets)))
        ]
        self.marked = True
        self.refresh_bindings()
        self.record(self.prompt, candidates, None if index < 0 else index, self.source)

    @work(thread=True, exclusive=True, group="playground-mark", exit_on_error=False)
    def record(self, prompt: str, candidates: list[Any], preferred: int | None, source: str | None) -> None:
        with reported(self, "Recording the preference"):
            mark = self.ws.prefer(prompt, candidates, preferred, source)
            winner = mark.winner
            said = (
                f"{LETTERS[preferred]} ({winner.provider}:{winner.model}) is better"
                if winner and preferred is not None
                else "a tie"
            )
            self.app.call_from_thread(self.notify, f"#{mark.id}: {said}.", title="Preference recorded")
