"""Bus events delivered to one screen or the app, coalesced so a burst becomes one message.

`Workspace.subscribe` calls its callback on the publishing thread (the monitor's, a worker's). An `EventFeed`
only appends the event under a lock and, when the queue was empty, posts a single `WorkspaceEventsArrived`;
the UI drains everything queued when it gets to it. So 500 job updates in one monitor round cost one
message and one table pass, however busy the UI loop is, and nothing touches a widget off the UI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tui.messages import WorkspaceEventsArrived

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from tunedeck.events import Predicate
    from tunedeck.workspace import Workspace


class EventFeed:
    def __init__(self, target: MessagePump) -> None:
        self._target = target
        self._lock = threading.Lock()
        self._pending: list[Any] = []
        self._unsubscribe: Callable[[], None] | None = None

    def attach(self, workspace: Workspace, accepts: Predicate | None = None) -> EventFeed:
        self._unsubscribe = workspace.subscribe(self, accepts)
        return self

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def __call__(self, event: Any) -> None:
        with self._lock:
            first = not self._pending
            self._pending.append(event)
        if first and not self._post():
            with self._lock:  # the target has closed: keep nothing, so the queue cannot grow forever
                self._pending.clear()

    def _post(self) -> bool:
        try:
            return self._target.post_message(WorkspaceEventsArrived(self))
        except RuntimeError:  # the app's loop has closed under us (quitting)
            return False

    def drain(self) -> list[Any]:
        with self._lock:
            events, self._pending = self._pending, []
        return events
