"""The `:eval` screen's two forms: a new run (models, data, metrics, provider) and advise (data, base, profile,
tuned model or job). Each checks what it can read without asking anyone; the plan checks the rest."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tunedeck.advice import AdviseRequest
from tunedeck.errors import UsageError
from tunedeck.evaluation import EvalRequest, ModelRef


@dataclass
class EvalDraft:
    """What the new-run form shows first (the job detail's `v` fills it with a job's models and data)."""

    models: list[str] = field(default_factory=list)
    data: str = ""
    metrics: list[str] = field(default_factory=list)
    provider: str = ""


def split_words(text: str) -> list[str]:
    """Words separated by spaces or commas; quotes keep one whole (`contains:"a, b"`)."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace += ","
    lexer.whitespace_split = True
    lexer.escape = ""  # a regex keeps its backslashes
    try:
        return list(lexer)
    except ValueError as exc:
        raise UsageError(f"Cannot read {text!r}: {exc}.", "Close the quote.") from exc


def data_path(text: str, root: Path) -> Path:
    if not text.strip():
        raise UsageError("No held-out data file.", "Type the path of a dataset file (any format tunedeck reads).")
    path = Path(text.strip()).expanduser()
    path = path if path.is_absolute() else root / path
    if not path.is_file():
        raise UsageError(f"{path} is not a file.", "Type the path of a held-out dataset file.")
    return path


class _Form(ModalScreen[object]):
    """Fields one under the other: enter moves to the next, on the last one (or ctrl+s) submits; esc cancels."""

    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    """(id, label, placeholder)."""
    CSS_PATH = "../eval.tcss"
    FORM_TITLE: ClassVar[str] = ""
    FORM_HINT: ClassVar[str] = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", id="eval_form.cancel"),
        Binding("ctrl+s", "submit", "start", id="eval_form.submit"),
    ]

    def __init__(self, values: dict[str, str], root: Path | None = None) -> None:
        super().__init__()
        self.values = values
        self.root = root or Path.cwd()

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Label(Text(self.FORM_TITLE), id="dialog-title")
            for key, label, placeholder in self.FIELDS:
                with Horizontal(classes="ev-row"):
                    yield Label(label, classes="ev-label")
                    yield Input(self.values.get(key, ""), placeholder=placeholder, id=f"ev-{key}", compact=True)
            yield Static(Text(self.FORM_HINT, style="dim"), id="dialog-body")
            yield Static("", id="dialog-error")

    def on_mount(self) -> None:
        for field_ in self.query(Input):
            field_.cursor_blink = self.app.animation_level != "none"
        empty = [f for f in self.query(Input) if not f.value.strip()]
        (empty[0] if empty else self.query(Input).first()).focus()

    def value(self, key: str) -> str:
        return self.query_one(f"#ev-{key}", Input).value.strip()

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == f"ev-{self.FIELDS[-1][0]}":
            self.action_submit()
        else:
            self.focus_next()

    def action_submit(self) -> None:
        try:
            result = self.result()
        except UsageError as exc:
            self.query_one("#dialog-error", Static).update(Text(f"{exc.title} {exc.hint}".strip()))
            return
        self.dismiss(result)

    def result(self) -> object:
        raise NotImplementedError

    def action_cancel(self) -> None:
        self.dismiss(None)


class EvalForm(_Form):
    FORM_TITLE = "New evaluation run"
    FIELDS = (
        ("models", "models", "two or more: base-model, ft:…, profile:NAME, LABEL=MODEL"),
        ("data", "held-out data", "a dataset file: the last assistant turn is the reference"),
        ("metrics", "metrics", "default token-f1 rouge-l; e.g. exact contains:TEXT regex:P"),
        ("provider", "provider", "optional: inferred from each model"),
    )
    FORM_HINT = "enter: next field; on the last one (or ctrl+s) the estimate, and a paid run asks first · esc cancels"

    def __init__(self, draft: EvalDraft | None = None, root: Path | None = None) -> None:
        draft = draft or EvalDraft()
        values = {"models": ", ".join(draft.models), "data": draft.data, "metrics": " ".join(draft.metrics),
                  "provider": draft.provider}  # fmt: skip
        super().__init__(values, root)

    def result(self) -> EvalRequest:
        provider = self.value("provider") or None
        models = [ModelRef.parse(text, provider) for text in split_words(self.value("models"))]
        if len(models) < 2:
            raise UsageError("An evaluation compares two models or more.", "e.g. base-model, ft:base-model:mine")
        data = data_path(self.value("data"), self.root)
        return EvalRequest(models=models, data=data, metrics=split_words(self.value("metrics")), base_dir=self.root)


class AdviseForm(_Form):
    FORM_TITLE = "Prompt or fine-tune? (advise)"
    FIELDS = (
        ("data", "held-out data", "a dataset file the candidates are compared on"),
        ("base", "base model", "the base model, prompted with the data's own system prompt"),
        ("profile", "profile", "optional: a profile run on the base model"),
        ("tuned", "tuned model", "the fine-tuned model (or give its job below)"),
        ("job", "or job", "the tunedeck job that made it"),
        ("provider", "provider", "optional: inferred"),
    )
    FORM_HINT = "enter: next field; on the last one (or ctrl+s) the estimate, then the comparison · esc cancels"

    def result(self) -> AdviseRequest:
        data = data_path(self.value("data"), self.root)
        if not self.value("base"):
            raise UsageError("No base model.", "Name the model the profile runs on and the tuned model was tuned from.")
        profile, tuned, job = self.value("profile") or None, self.value("tuned") or None, self.value("job") or None
        if profile is None and tuned is None and job is None:
            raise UsageError("Nothing to compare the base model with.", "Give a profile, a tuned model or a job.")
        if tuned is not None and job is not None:
            raise UsageError("Give a tuned model or a job, not both.")
        return AdviseRequest(data=data, base=self.value("base"), provider=self.value("provider") or None,
                             profile=profile, tuned=tuned, job=job)  # fmt: skip
