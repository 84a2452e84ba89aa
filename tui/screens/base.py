"""`DeckScreen`: what every screen of the deck shares — its `Deck`, its own event feed, and the read-only rule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

from textual import on
from textual.screen import Screen

from tui.deck import Deck
from tui.feed import EventFeed
from tui.messages import ActionFailed, FilterChanged, WorkspaceEventsArrived
from tunedeck.events import Predicate

if TYPE_CHECKING:
    from textual.signal import Signal

    from tui.widgets.filter_bar import FilterBar
    from tunedeck.workspace import Workspace


class WorkspaceSource(Protocol):
    workspace_ready: Signal[None]


class DeckScreen(Screen[None]):
    TITLE_TEXT: ClassVar[str] = ""
    """What the header shows as the location."""
    SPENDS: ClassVar[frozenset[str]] = frozenset()
    """Actions that spend or delete: hidden from the footer and refused in read-only mode."""
    ROW_ACTIONS: ClassVar[tuple[str, ...]] = ()
    """Actions whose availability depends on the selected row (`check_action`): the footer follows them."""

    def __init__(self, deck: Deck) -> None:
        super().__init__()
        self.deck = deck
        self._feed = EventFeed(self)
        self._key_states: tuple[bool | None, ...] = ()
        self._started = False

    @property
    def ws(self) -> Workspace:
        return self.deck.ws

    def accepts(self) -> Predicate | None:
        """Which bus events this screen wants (None: all of them)."""
        return None

    def handle_events(self, events: list[Any]) -> None:
        """A coalesced batch of bus events, on the UI thread."""

    def start(self) -> None:
        """The workspace is open: load this screen's data (its events already flow)."""

    def on_mount(self) -> None:
        if self.deck.workspace is not None:
            self.workspace_opened()
        else:
            cast("WorkspaceSource", self.app).workspace_ready.subscribe(self, lambda _: self.workspace_opened())

    def workspace_opened(self) -> None:
        if self.deck.workspace is not None and not self._started:
            self._started = True
            self._feed.attach(self.deck.workspace, self.accepts())
            self.start()

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

    def refresh_keys(self) -> None:
        """Redraw the footer only when what the row actions can do changed: the footer rebuilds itself, which
        is too slow to do on every live update."""
        states = tuple(self.check_action(action, ()) for action in self.ROW_ACTIONS)
        if states != self._key_states:
            self._key_states = states
            self.refresh_bindings()

    def refused(self, action: str) -> bool:
        """For actions reached other ways than a key (the palette): the same read-only rule."""
        if self.deck.read_only and action in self.SPENDS:
            self.post_message(ActionFailed("Read-only: nothing that spends or deletes.", "", "warning"))
            return True
        return False


class TableScreen(DeckScreen):
    """A deck screen around one table with a `filter_text`, and the `/` filter bar under it. The bar is mounted
    on first use: it is the only text input of these screens, and the first frame need not wait for one."""

    @property
    def table(self) -> Any:
        raise NotImplementedError

    def filter_changed(self) -> None:
        """The table's filter changed (titles and empty-state lines may follow)."""

    def _filter_bar(self) -> FilterBar | None:
        from tui.widgets.filter_bar import FilterBar

        bars = self.query(FilterBar)
        return bars.first() if bars else None

    def action_filter(self) -> None:
        from tui.widgets.filter_bar import FilterBar

        bar = self._filter_bar()
        if bar is None:
            bar = FilterBar()
            self.mount(bar, after=self.table)
            self.call_after_refresh(bar.open)
        else:
            bar.open()

    @on(FilterChanged)
    def _filter(self, event: FilterChanged) -> None:
        event.stop()
        self.table.filter_text = event.text
        self.filter_changed()
        if event.done:
            self.table.focus()

    def go_back(self) -> bool:
        """esc clears an active filter; a screen with nothing further back has nothing else to do."""
        bar = self._filter_bar()
        if bar is not None and bar.value:
            bar.action_clear()
            return True
        return False
