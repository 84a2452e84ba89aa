"""`EndpointsScreen`: what bills by the hour or holds memory, across providers. `t` test chat, `d` tear down
the selected endpoint, `D` every idle one, `a` idle auto-teardown. Only tunedeck's own can be torn down."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from tui import format as fmt
from tui.deck import Deck, reported
from tui.messages import AutostopSet, InventoryRequested, TeardownFinished
from tui.screens.autostop import AutostopChoice, AutostopScreen
from tui.screens.base import TableScreen
from tui.screens.chat import ChatScreen, ChatTarget
from tui.screens.confirm import ConfirmScreen
from tui.widgets.endpoint_table import TEARING_DOWN, EndpointRow, EndpointTable, row_key
from tui.widgets.status_header import StatusHeader
from tunedeck.endpoints.idle import parse_duration
from tunedeck.events import AutoTeardownDone, EndpointsListed, EndpointTornDown, EndpointUsed

DEFAULT_IDLE_S = 30 * 60
"""What `D` counts as idle when `[endpoints] idle_teardown` is not set."""


class EndpointsScreen(TableScreen):
    TITLE_TEXT = "Endpoints"
    SPENDS = frozenset({"test_endpoint", "teardown", "teardown_idle", "autostop", "deploy"})
    ROW_ACTIONS = ("test_endpoint", "teardown", "autostop")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "t",
            "test_endpoint",
            "test",
            id="endpoints.test",
            tooltip="Test chat with the endpoint's model: streaming reply, latency and tokens",
        ),
        Binding(
            "d",
            "teardown",
            "teardown",
            id="endpoints.teardown",
            tooltip="Tear down the selected endpoint (asks first; only tunedeck's own)",
        ),
        Binding(
            "D",
            "teardown_idle",
            "idle",
            id="endpoints.teardown_idle",
            tooltip="Tear down every idle endpoint of ours (one confirmation listing them)",
        ),
        Binding(
            "a",
            "autostop",
            "autostop",
            id="endpoints.autostop",
            tooltip="Set or clear the idle auto-teardown of the selected endpoint",
        ),
        Binding(
            "p",
            "deploy",
            "deploy",
            id="endpoints.deploy",
            tooltip="Deploy a tuned model: pick it on :models, then p there shows the hourly rate and asks",
        ),
        Binding("slash", "filter", "filter", id="endpoints.filter", tooltip="Filter the endpoints"),
        Binding(
            "ctrl+r",
            "refresh",
            "list again",
            show=False,
            id="endpoints.refresh",
            tooltip="List the endpoints again now",
        ),
    ]

    def __init__(self, deck: Deck) -> None:
        super().__init__(deck)
        self.listed = False
        self._described: tuple[object, ...] = ()

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.TITLE_TEXT)
        yield EndpointTable(id="endpoints")
        yield Static("Listing endpoints…", id="endpoints-empty", classes="empty")
        yield Footer(compact=True)

    @property
    def table(self) -> EndpointTable:
        return self.query_one(EndpointTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.table.now = self.deck.clock()
        self._describe()
        self.set_interval(1.0, self._tick)

    def start(self) -> None:
        self.post_message(InventoryRequested())

    # -- data --------------------------------------------------------------------------------------------

    def handle_events(self, events: list[Any]) -> None:
        table = self.table
        for event in events:
            if isinstance(event, EndpointsListed):
                self.listed = True
                table.show(event.inventory.everything)
                problems = event.inventory.errors
                table.border_subtitle = "; ".join(f"{p}: could not check ({d})" for p, d in problems.items())
            elif isinstance(event, EndpointTornDown):
                self._torn_down([event.result])
            elif isinstance(event, EndpointUsed):
                now = self.deck.clock()
                for row in table.rows_by_key.values():
                    if (row.view.provider, row.view.model) == (event.provider, event.model):
                        row.last_used_at = now
            elif isinstance(event, AutoTeardownDone):
                self._torn_down(list(event.results))
        self._describe()
        self.refresh_keys()

    def _torn_down(self, results: list[Any]) -> None:
        table = self.table
        gone = [f"{r.provider}:{r.endpoint_id}" for r in results if r.ok]
        table.remove_keys(gone)
        for result in results:
            if not result.ok:
                table.mark(f"{result.provider}:{result.endpoint_id}", f"{result.outcome}: {result.detail} (d retries)",
                           "red")  # fmt: skip

    def _tick(self) -> None:
        self.table.tick(self.deck.clock())

    def filter_changed(self) -> None:
        self._describe()

    def _describe(self) -> None:
        table = self.table
        rows = table.rows_by_key.values()
        burn = sum(r.view.hourly_rate_usd or 0.0 for r in rows)
        ours = sum(1 for r in rows if r.view.ours)
        state = (self.listed, ours, len(table.rows_by_key), table.row_count, burn, table.filter_text)
        if state == self._described:
            return  # unchanged: touching the title or the note would repaint and re-lay out the screen
        self._described = state
        table.border_title = f"{ours} ours · {len(table.rows_by_key) - ours} foreign · {fmt.rate(burn)}"
        empty = self.query_one("#endpoints-empty", Static)
        if not self.listed:
            empty.update("Listing endpoints…")
        elif not table.rows_by_key:
            empty.update("Nothing billed by the hour is running, and no model is loaded in the local backend.")
        else:
            empty.update(Text(f"No endpoint matches {table.filter_text!r} (esc in the filter clears it)."))
        empty.display = not table.row_count

    # -- keys ----------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed or not self.is_mounted or action not in self.ROW_ACTIONS:
            return allowed
        # With a row selected the key always answers (a foreign endpoint says why it is left alone).
        return True if self.table.selected else None

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.refresh_keys()

    def action_test_endpoint(self) -> None:
        row = self.table.selected
        if row is None or self.refused("test_endpoint"):
            return
        view = row.view
        target = ChatTarget(view.provider, view.model or view.id, f"endpoint {view.display_name}")
        self.app.push_screen(ChatScreen(self.deck, target))

    def action_teardown(self) -> None:
        row = self.table.selected
        if row is None or self.refused("teardown"):
            return
        view, now = row.view, self.deck.clock()
        if not view.ours:
            self.notify(f"{view.display_name} was not created by tunedeck: it is shown, never torn down.",
                        severity="warning")  # fmt: skip
            return
        if row.status == TEARING_DOWN:
            self.notify(f"{view.display_name} is being torn down already.", title="Endpoints")
            return
        body = Text.assemble(
            (f"{view.provider}:{view.display_name}", "bold"), f"\nmodel {view.model or '—'}\n",
            f"rate {fmt.rate(view.hourly_rate_usd)} · up {fmt.duration(row.uptime_s(now))} · "
            f"accrued ≈ {fmt.money(row.accrued_usd(now))}\n\n",
            view.live.note if view.live and view.live.note else "It stops billing once it is gone.",
        )  # fmt: skip

        def chosen(yes: bool | None) -> None:
            if yes:
                self._start_teardown([row], reason="requested in the terminal UI")

        self.app.push_screen(ConfirmScreen("Tear down this endpoint?", body, "Tear down"), chosen)

    def action_teardown_idle(self) -> None:
        if self.refused("teardown_idle"):
            return
        now = self.deck.clock()
        limit_s = self.ws.endpoints.default_idle_teardown_s() or DEFAULT_IDLE_S
        idle = [
            row for row in self.table.rows_by_key.values()
            if row.view.ours and row.status != TEARING_DOWN and (row.idle_s(now) or 0) >= limit_s
        ]  # fmt: skip
        limit = fmt.span(limit_s)
        if not idle:
            self.notify(f"No endpoint of ours has been idle for {limit}.", title="Endpoints")
            return
        body = Text(f"Idle for at least {limit} (tunedeck's own only):\n\n")
        for row in idle:
            body.append(f"{row.view.provider}:{row.view.display_name}", "bold")
            body.append(f"  {fmt.rate(row.view.hourly_rate_usd)} · accrued ≈ {fmt.money(row.accrued_usd(now))}"
                        f" · idle {fmt.duration(row.idle_s(now))}\n")  # fmt: skip
        total = sum(row.view.hourly_rate_usd or 0.0 for row in idle)
        body.append(f"\nTogether {fmt.rate(total)}.")

        def chosen(yes: bool | None) -> None:
            if yes:
                self._start_teardown(idle, reason=f"bulk teardown from the terminal UI: idle for at least {limit}")

        title = f"Tear down {len(idle)} idle endpoint{'s' if len(idle) > 1 else ''}?"
        self.app.push_screen(ConfirmScreen(title, body, "Tear down all"), chosen)

    def _start_teardown(self, rows: list[EndpointRow], *, reason: str) -> None:
        keys = [row_key(row.view) for row in rows]
        for key in keys:
            self.table.mark(key, TEARING_DOWN, "yellow")
        self.refresh_keys()
        self.teardown([(row.view.provider, row.view.id) for row in rows], keys, reason)

    @work(thread=True, group="teardown", exit_on_error=False)
    def teardown(self, targets: list[tuple[str, str]], keys: list[str], reason: str) -> None:
        # Not exclusive: a second teardown started meanwhile must never abandon the first.
        results: list[Any] = []
        with reported(self, "The teardown"):
            results = self.ws.endpoints.teardown_targets(targets, reason=reason)
        self.post_message(TeardownFinished(results, keys))

    def on_teardown_finished(self, message: TeardownFinished) -> None:
        self._torn_down(message.results)
        answered = {f"{r.provider}:{r.endpoint_id}" for r in message.results}
        for key in message.keys:
            if key not in answered:  # the call failed before any result (reported already)
                self.table.mark(key, "failed (d retries)", "red")
        failed = [r for r in message.results if not r.ok]
        for result in failed:
            self.notify(f"{result.provider}:{result.endpoint_id}: {result.detail}\nPress d to try again.",
                        title=f"Teardown {result.outcome}", severity="error")  # fmt: skip
        done = [r for r in message.results if r.ok]
        if done:
            spent = sum(r.accrued_cost_usd or 0.0 for r in done)
            names = ", ".join(r.endpoint_id for r in done)
            self.notify(f"{names} (accrued ≈ {fmt.money(spent)})", title=f"Torn down {len(done)}")
        self._describe()
        self.refresh_keys()
        self.post_message(InventoryRequested())  # the header's burn rate follows

    def action_autostop(self) -> None:
        row = self.table.selected
        if row is None or self.refused("autostop"):
            return
        if not row.view.ours:
            self.notify("Auto-teardown applies to tunedeck's own endpoints only.", severity="warning")
            return
        current = fmt.span(row.idle_teardown_s) if row.idle_teardown_s else ""

        def chosen(choice: AutostopChoice | None) -> None:
            if choice is not None:
                self.set_autostop(row.view.provider, row.view.id, choice.idle)

        self.app.push_screen(AutostopScreen(row.view.display_name, current), chosen)

    @work(thread=True, exclusive=True, group="autostop", exit_on_error=False)
    def set_autostop(self, provider: str, endpoint_id: str, idle: str | None) -> None:
        with reported(self, "Setting auto-teardown"):
            self.ws.endpoints.set_autostop(endpoint_id, idle, provider)
            seconds = parse_duration(idle).total_seconds() if idle else None
            self.post_message(AutostopSet(f"{provider}:{endpoint_id}", seconds))

    def on_autostop_set(self, message: AutostopSet) -> None:
        row = self.table.rows_by_key.get(message.key)
        if row is not None:
            row.idle_teardown_s = message.idle_s
            self.table.mark(message.key, row.status, row.status_style)
        limit = f"after {fmt.span(message.idle_s)} idle" if message.idle_s else "off"
        self.notify(f"{message.key}: auto-teardown {limit}.", title="Endpoints")

    def action_deploy(self) -> None:
        # Deploying starts from a tuned model, and :models is where they are listed (with where each is served
        # already): p there runs the same confirmation. One list of models, not a second copy in a picker.
        if self.refused("deploy"):
            return
        go_to = getattr(self.app, "go_to", None)
        if callable(go_to):
            go_to("models")
            self.app.notify("Select the model to deploy and press p.", title="Deploy")

    def action_refresh(self) -> None:
        self.post_message(InventoryRequested())
