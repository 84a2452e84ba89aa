"""Every message the app's screens and widgets post, in one place: small dataclasses, past-tense names.

Workers post these back to the screen that started them (thread-safe), and unhandled ones bubble up to the
app, which turns `ActionFailed` into a notification.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from tui.feed import EventFeed
    from tunedeck.chat import ChatReply
    from tunedeck.endpoints.teardown import TeardownResult
    from tunedeck.jobs.actions import JobDetail
    from tunedeck.jobs.progress import JobProgress
    from tunedeck.store import JobRecord


@dataclass
class WorkspaceEventsArrived(Message):
    """Bus events queued on `feed` since the last message (coalesced: drain them all with `feed.drain()`)."""

    feed: EventFeed


@dataclass
class ActionFailed(Message):
    """A workspace call failed: shown as a notification with the error's title and hint."""

    title: str
    hint: str = ""
    severity: str = "error"


@dataclass
class JobsLoaded(Message):
    jobs: list[JobRecord]
    progress: dict[str, JobProgress]


@dataclass
class JobDetailLoaded(Message):
    detail: JobDetail


@dataclass
class CheckpointsLoaded(Message):
    detail: JobDetail


@dataclass
class JobActionDone(Message):
    """`cancel` or `retry` answered (the table follows the job through the bus as well)."""

    verb: str
    job: JobRecord


@dataclass
class TeardownFinished(Message):
    results: list[TeardownResult]
    keys: list[str] = field(default_factory=list)
    """The rows these results are for, so a failure before any result still clears "tearing down…"."""


@dataclass
class AutostopSet(Message):
    key: str
    idle_s: float | None


@dataclass
class ChatTextArrived(Message):
    text: str


@dataclass
class ChatReplied(Message):
    reply: ChatReply | None
    """None when the call failed (the failure is reported on its own)."""


@dataclass
class FilterChanged(Message):
    """The filter bar's text changed (`done`: the user pressed enter or esc and leaves the bar)."""

    text: str
    done: bool = False


@dataclass
class InventoryRequested(Message):
    """A screen asks the app to list endpoints again now (the app owns the inventory the header shows)."""


@dataclass
class StartupDone(Message):
    """The app's first load finished: jobs for the header's count and job notifications, and the provider list."""

    jobs: list[JobRecord]
    providers: list[str]
    problems: list[Any] = field(default_factory=list)
