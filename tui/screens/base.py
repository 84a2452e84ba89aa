"""`DeckScreen`: what every screen of the deck shares — its `Deck`, its own event feed, and the read-only rule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.screen import Screen

from tui.deck import Deck
from tui.feed import EventFeed
from tui.messages import ActionFailed, WorkspaceEventsArrived
from tunedeck.events import Predicate

if TYPE_CHECKING:
    from tunedeck.workspace import Workspace


class DeckScreen(Screen[None]):
    TITLE_TEXT: ClassVar[str] = ""
    """What the header shows as the location."""
    SPENDS: ClassVar[frozenset[str]] = frozenset()
    """Actions that spend or delete: hidden from the footer and refused in read-only mode."""

    def __init__(self, deck: Deck) -> None:
        super().__init__()
        self.deck = deck
        self._feed = EventFeed(self)

    @property
    def ws(self) -> Workspace:
        return self.deck.workspace

    def accepts(self) -> Predicate | None:
        """Which bus events this screen wants (None: all of them)."""
        return None

    def handle_events(self, events: list[Any]) -> None:
        """A coalesced batch of bus events, on the UI thread."""

    def on_mount(self) -> None:
        self._feed.attach(self.deck.workspace, self.accepts())

    def on_unmount(self) -> None:
        self._feed.detach()

    def on_workspace_events_arrived(self, message: WorkspaceEventsArrived) -> None:
        message.stop()
        events = message.feed.drain()
        if events:
            self.handle_events(events)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Read-only hides what spends or deletes from the footer and disables its key, as k9s does.
        return not (self.deck.read_only and action in self.SPENDS)

    def refused(self, action: str) -> bool:
        """For actions reached other ways than a key (the palette): the same read-only rule."""
        if self.deck.read_only and action in self.SPENDS:
            self.post_message(ActionFailed("Read-only: nothing that spends or deletes.", "", "warning"))
            return True
        return False
