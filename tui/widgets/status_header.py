"""`StatusHeader`: the line above every screen — where you are, provider health, running jobs, the burn rate.

Every screen composes its own header; the app owns what they show (`HeaderState`) and publishes each new
state on its `header_changed` signal, so all headers agree and none of them asks anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, cast

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.health import Health, ProviderStatus

if TYPE_CHECKING:
    from textual.signal import Signal

_HEALTH_STYLE = {
    Health.REACHABLE: "green",
    Health.UNKNOWN: "yellow",
    Health.NOT_CONFIGURED: "dim",
    Health.CHECKING: "dim",
}


@dataclass(frozen=True)
class HeaderState:
    statuses: tuple[ProviderStatus, ...] = ()
    running: int | None = None
    """None until the first load: shown as '…', never as a misleading 0."""
    waiting: int = 0
    """Unfinished jobs not running yet (validating, queued, paused, unknown)."""
    burn_usd_per_h: float | None = None
    burn_complete: bool = True
    """False when a provider could not be checked: the burn rate is then a lower bound."""
    read_only: bool = False
    now: datetime | None = None


class HeaderSource(Protocol):
    header_state: HeaderState
    header_changed: Signal[HeaderState]


class StatusHeader(Widget):
    DEFAULT_CSS = """
    StatusHeader {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    state: reactive[HeaderState] = reactive(HeaderState)
    location: reactive[str] = reactive("")

    def __init__(self, location: str) -> None:
        super().__init__()
        self.set_reactive(StatusHeader.location, location)

    def on_mount(self) -> None:
        source = cast("HeaderSource", self.app)
        if hasattr(source, "header_changed"):
            self.state = source.header_state
            source.header_changed.subscribe(self, self._changed)

    def _changed(self, state: HeaderState) -> None:
        self.state = state

    def render(self) -> Text:
        """The widest form that fits: long health labels, then glyphs, then without the app's name; what is
        right of the health (running jobs, burn rate) is never the part that gets cut."""
        state, width = self.state, self.size.width
        right = Text.assemble(_running(state), " · ", _burn(state), " ")
        for short, named in ((False, True), (True, True), (True, False)):
            left = Text.assemble((" tunedeck · ", "bold") if named else " ", (self.location, "bold"))
            if state.read_only:
                left.append(" · read-only", "bold yellow")
            line = Text.assemble(left, "  ", _health(state, short=short))
            if line.cell_len + right.cell_len + 2 <= width:
                break
        line.truncate(max(0, width - right.cell_len - 2))
        line.append(" " * max(2, width - line.cell_len - right.cell_len))
        line.append_text(right)
        line.truncate(width)
        return line


def _health(state: HeaderState, *, short: bool) -> Text:
    now = state.now or datetime.now()
    text = Text()
    for index, status in enumerate(state.statuses):
        if index:
            text.append("  ")
        text.append(status.label(now, short=short), _HEALTH_STYLE[status.health])
    return text


def _running(state: HeaderState) -> str:
    if state.running is None:
        return "… running"
    return f"{state.running} running" + (f" +{state.waiting} waiting" if state.waiting else "")


def _burn(state: HeaderState) -> Text:
    if state.burn_usd_per_h is None:
        return Text("burning now: …")
    bound = "" if state.burn_complete else "≥ "
    style = "bold red" if state.burn_usd_per_h > 0 else ""
    return Text.assemble("burning now: ", (f"{bound}${state.burn_usd_per_h:,.2f}/h", style))
