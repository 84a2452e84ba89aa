"""`HelpScreen` (`?`): every binding of the screen underneath and the global ones, with their ids for `[keys]`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static


def own_bindings(node: DOMNode) -> Iterator[Binding]:
    """The `Binding`s a node's classes declare (ours, not Textual's built-in ones), most derived first."""
    seen: set[str] = set()
    for cls in type(node).__mro__:
        for binding in cls.__dict__.get("BINDINGS", ()):
            if isinstance(binding, Binding) and binding.id and binding.id not in seen:
                seen.add(binding.id)
                yield binding


def binding_table(screen: Screen[object], keymap: Mapping[str, str]) -> Table:
    """(keys, what it does, id) for the screen's bindings then the app's, as rebound; unavailable ones say why."""
    app = screen.app
    table = Table(box=None, pad_edge=False, expand=True, header_style="bold")
    table.add_column("key", no_wrap=True)
    table.add_column("does")
    table.add_column(Text("id (for [keys])"), style="dim", no_wrap=True)
    for title, node in (("this screen", screen), ("everywhere", app)):
        table.add_row(Text(title, style="bold underline"), "", "")
        for binding in own_bindings(node):
            keys = keymap.get(binding.id or "", binding.key)
            shown = ", ".join(app.get_key_display(replace(binding, key=k.strip())) for k in keys.split(","))
            state = node.check_action(binding.action, ())
            does = binding.tooltip or binding.description or binding.action
            if state is False:
                does += " (off: read-only)"
            elif state is None:
                does += " (select a row first)"
            table.add_row(Text(shown), Text(does), Text(binding.id or ""))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,q", "close", "close", id="help.close")]

    def __init__(self, title: str, table: Table) -> None:
        super().__init__()
        self.title_text = title
        self.table = table

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Label(Text(f"Keys — {self.title_text}"), id="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(self.table)
            yield Static(Text("esc closes · rebind any id under [keys] in config.toml"), classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
