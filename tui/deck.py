"""`Deck`: what every screen is handed — the workspace, whether it may spend or delete, and the clock.

Injected rather than reached for (`self.app.workspace`), so a screen can be built in a test with a temp
workspace and a frozen clock, and so the read-only switch is one value every screen obeys.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tui.messages import ActionFailed
from tunedeck.errors import TunedeckError

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from tunedeck.workspace import Workspace

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deck:
    workspace: Workspace
    read_only: bool = False
    clock: Clock = utc_clock


@contextlib.contextmanager
def reported(target: MessagePump, doing: str) -> Iterator[None]:
    """Run a workspace call in a worker: our errors become a notification with their title and hint, anything
    else a notification saying what failed (and the log keeps the traceback). Never a traceback on screen."""
    try:
        yield
    except TunedeckError as exc:
        target.post_message(ActionFailed(exc.title, exc.hint))
    except Exception as exc:
        log.exception("%s failed", doing)
        target.post_message(ActionFailed(f"{doing} failed: {type(exc).__name__}: {exc}", "See the log for details."))
