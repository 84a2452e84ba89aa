"""`ConvertScreen` and `SplitScreen`: the small forms behind the Datasets screen's `c` and `s` — where to write
and how. They only collect the answer; the Datasets screen asks before replacing a file that exists."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from tunedeck.data.formats import DatasetFormat


@dataclass(frozen=True)
class ConvertChoice:
    to: DatasetFormat
    target: Path


@dataclass(frozen=True)
class SplitChoice:
    validation: float
    seed: int
    train: Path
    valid: Path


def converted_name(source: Path, to: DatasetFormat) -> Path:
    suffix = ".csv" if to is DatasetFormat.CSV else ".jsonl"
    return source.with_name(f"{source.stem}.{to.value}{suffix}")


class ConvertScreen(ModalScreen[ConvertChoice | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel", id="convert.cancel")]

    def __init__(self, source: Path, to: DatasetFormat = DatasetFormat.OPENAI_CHAT) -> None:
        super().__init__()
        self.source = source
        self.to = to

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Label(f"Convert {self.source.name}", id="dialog-title")
            yield Select([(f.value, f) for f in DatasetFormat], value=self.to, allow_blank=False, id="convert-to")
            yield Input(str(converted_name(self.source, self.to)), id="convert-target")
            yield Static("enter converts · esc cancels · an existing file is replaced only after you confirm")

    def on_mount(self) -> None:
        self.query_one("#convert-target", Input).focus()

    @on(Select.Changed, "#convert-to")
    def _format_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, DatasetFormat):
            self.query_one("#convert-target", Input).value = str(converted_name(self.source, event.value))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        to = self.query_one("#convert-to", Select).value
        target = self.query_one("#convert-target", Input).value.strip()
        if isinstance(to, DatasetFormat) and target:
            self.dismiss(ConvertChoice(to, Path(target).expanduser()))

    def action_cancel(self) -> None:
        self.dismiss(None)


class SplitScreen(ModalScreen[SplitChoice | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel", id="split.cancel")]

    def __init__(self, source: Path) -> None:
        super().__init__()
        self.source = source

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Label(f"Split {self.source.name} into training and validation", id="dialog-title")
            yield Input("0.1", placeholder="validation fraction", id="split-ratio", type="number")
            yield Input("0", placeholder="seed", id="split-seed", type="integer")
            yield Static(f"writes {self.source.stem}.train.jsonl and {self.source.stem}.valid.jsonl · enter splits",
                         id="split-status")  # fmt: skip

    def on_mount(self) -> None:
        self.query_one("#split-ratio", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        try:
            ratio = float(self.query_one("#split-ratio", Input).value)
            seed = int(self.query_one("#split-seed", Input).value or 0)
        except ValueError:
            self.query_one("#split-status", Static).update("The fraction is a number like 0.1; the seed a whole one.")
            return
        stem, parent = self.source.stem, self.source.parent
        self.dismiss(SplitChoice(ratio, seed, parent / f"{stem}.train.jsonl", parent / f"{stem}.valid.jsonl"))

    def action_cancel(self) -> None:
        self.dismiss(None)
