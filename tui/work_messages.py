"""Messages the part-2 screens' workers post back to the screen that started them (small dataclasses,
past-tense names; the shell's own vocabulary stays in `tui.messages`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from tunedeck.chat import ChatReply


@dataclass
class StackLoaded(Message):
    """The stack's config file and its last outputs (`outputs` None: none saved and no Pulumi CLI)."""

    stack: str
    work_dir: str
    config: dict[str, Any]
    outputs: dict[str, Any] | None
    outputs_note: str
    pulumi: bool


@dataclass
class StackActionDone(Message):
    """`plan`, `up`, `refresh` or `destroy` answered; `result` None when it failed (and was reported)."""

    verb: str
    result: Any


@dataclass
class DatasetLoaded(Message):
    """A dataset file was validated (`report` None: it failed and was reported)."""

    path: str
    report: Any


@dataclass
class DatasetWritten(Message):
    """`convert` or `split` wrote new files (`result` None: refused or failed, and reported)."""

    verb: str
    result: Any


@dataclass
class ColumnText(Message):
    """A piece of a streamed reply for one playground column (coalesced per column)."""

    column: int
    text: str
    round: int


@dataclass
class ColumnReplied(Message):
    """A playground column's reply finished (`reply` None: it failed and was reported)."""

    column: int
    reply: ChatReply | None
    round: int


@dataclass
class PlanReady(Message):
    """The wizard's validation and estimate (`plan` None: it failed and was reported)."""

    plan: Any


@dataclass
class JobSubmittedFromWizard(Message):
    job: Any


@dataclass
class ProfilesLoaded(Message):
    names: list[str]
    view: Any
