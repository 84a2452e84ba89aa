"""`TunedeckApp`: the shell around every screen — the `:` command line, `?` help, `esc`, `q`, the command
palette, the status header, job-finished notifications, and the endpoint inventory the header's burn rate
comes from. Screens do the rest; each is one of `tui.destinations.DESTINATIONS` (an app mode).

Built by injection: `TunedeckApp(workspace, read_only=…, clock=…)`; the workspace's owner closes it. Or with
`opener=` (bare `tunedeck`): the app opens the workspace on a worker after its first frame, so start-up never
waits for settings and the store, and `app.workspace` is then the caller's to close.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import events, on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.signal import Signal

from providers.base import JobState
from tui.deck import Clock, Deck, reported, utc_clock
from tui.destinations import DESTINATIONS, find
from tui.feed import EventFeed
from tui.health import HealthBoard
from tui.heap import IDLE_S, HeapKeeper
from tui.keys import keymap_from_config
from tui.messages import ActionFailed, InventoryRequested, StartupDone, WorkspaceEventsArrived
from tui.widgets.job_table import JobTable
from tui.widgets.status_header import HeaderState
from tunedeck.errors import TunedeckError
from tunedeck.events import (
    AutoTeardownDone,
    EndpointsListed,
    EndpointTornDown,
    EndpointUsed,
    JobForgotten,
    MonitorStopped,
    job_of,
)
from tunedeck.store import JobRecord, Submission

if TYPE_CHECKING:
    from tunedeck.endpoints.inventory import Inventory
    from tunedeck.workspace import Workspace

INVENTORY_EVERY_S = 60.0
"""How often the app lists endpoints again (accrued cost ticks locally in between)."""


class TunedeckApp(App[None]):
    CSS_PATH = "tunedeck.tcss"
    TITLE = "tunedeck"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "colon",
            "command_line",
            "go to",
            id="app.command_line",
            tooltip="Go to a screen by name (:jobs, :endpoints)",
        ),
        Binding("question_mark", "help", "keys", id="app.help", tooltip="Every key of this screen and the global ones"),
        Binding("escape", "back", "back", show=False, id="app.back", tooltip="Back (or clear the filter)"),
        Binding("q", "quit", "quit", id="app.quit", tooltip="Quit (a local backend still training keeps running)"),
        Binding(
            "ctrl+p",
            "command_palette",
            "palette",
            show=False,
            priority=True,
            id="app.palette",
            tooltip="The command palette: every action by name",
        ),
    ]

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        opener: Callable[[], Workspace] | None = None,
        read_only: bool = False,
        clock: Clock = utc_clock,
        live: bool = True,
    ) -> None:
        """`live`: run the workspace's monitor so jobs follow their providers live (still frames turn it off).
        `opener`: how to open the workspace when none is given (default: `Workspace.open()`)."""
        super().__init__()
        self.deck = Deck(workspace, read_only, clock)
        self.opener = opener
        self.failure: TunedeckError | None = None
        """Why the workspace could not be opened (the app then exits; the caller reports it)."""
        self.workspace_ready: Signal[None] = Signal(self, "workspace-ready")
        self.live = live
        self.health = HealthBoard()
        self.jobs_seen: dict[str, JobRecord] = {}
        self.header_state = HeaderState(read_only=read_only, now=clock())
        self.header_changed: Signal[HeaderState] = Signal(self, "header-changed")
        self.keymap: dict[str, str] = {}
        self._rates: dict[str, float] = {}
        self._jobs_loaded = False
        self._frozen = False
        self.heap = HeapKeeper()
        self._listed_once = False
        self._inventory_running = False
        self._inventory_again = False
        self._feed = EventFeed(self)

    @property
    def ws(self) -> Workspace:
        return self.deck.ws

    @property
    def workspace(self) -> Workspace | None:
        return self.deck.workspace

    # -- start-up: the first frame waits for no provider, and not even for the store ----------------------

    def get_default_screen(self) -> Screen[Any]:
        """The home screen (Jobs) is the app's default screen: built with the app, so its styles are parsed once
        at start-up. Switching to it as a mode parsed every style sheet a second time, before the first frame."""
        return DESTINATIONS[0].build(self.deck)

    def on_mount(self) -> None:
        if self.deck.workspace is not None:
            self._opened(self.deck.workspace)
        # After the first frame: the start-up worker opens the store and imports adapters and SDKs, and even
        # on a thread that would compete with the first paint for the interpreter.
        self.call_after_refresh(self.startup)
        self.set_interval(INVENTORY_EVERY_S, self.request_inventory)

    def _opened(self, workspace: Workspace) -> None:
        self.deck.workspace = workspace
        theme = workspace.settings.section("tui").get("theme")
        if isinstance(theme, str) and theme in self.available_themes:
            self.theme = theme
        self._feed.attach(workspace)
        self.workspace_ready.publish(None)

    def _open_failed(self, error: TunedeckError) -> None:
        self.failure = error
        self.exit(return_code=int(error.exit_code))

    def on_unmount(self) -> None:
        self._feed.detach()
        self.heap.uninstall()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.heap.touched()
        await super().on_event(event)

    @work(thread=True, exclusive=True, group="startup", exit_on_error=False)
    def startup(self) -> None:
        if self.deck.workspace is None:
            try:
                workspace = (self.opener or _open_default)()
            except TunedeckError as error:  # config.toml unreadable, store not writable: nothing works without it
                self.call_from_thread(self._open_failed, error)
                return
            self.call_from_thread(self._opened, workspace)
        jobs: list[JobRecord] = []
        providers: list[str] = []
        problems: list[str] = []
        with reported(self, "Starting up"):
            keymap, problems = keymap_from_config(self.ws.settings.section("keys"), _binding_ids())
            self.call_from_thread(self._apply_keymap, keymap)
            jobs = self.ws.jobs.all(limit=None)
            providers = self.ws.endpoints.providers()
        self.post_message(StartupDone(jobs, providers, problems))
        with reported(self, "Settling earlier submissions"):
            self.ws.jobs.reconcile()
        if self.live:
            if self.deck.read_only:
                # Read-only changes nothing, not even the idle auto-teardown the monitor's round would run.
                self.ws.monitor.on_tick = None
            self.ws.start()

    @on(JobTable.Settled)
    def _first_draw_done(self) -> None:
        """Once the first jobs are drawn, move everything alive to the collector's permanent generation: a full
        collection then scans only what is new. Measured with 500 live jobs: full collections over the whole
        heap (Textual, styles, every row) stalled the UI for 0.2–0.6 s."""
        if not self._frozen:
            self._frozen = True
            gc.freeze()

    def _settle_heap(self) -> None:
        """The first inventory is done, so the adapters and their SDKs are imported: from here on every full
        collection freezes its survivors (tui/heap.py). Freezing only at the first draw left the SDKs' modules,
        imported after it, and everything allocated later in every full collection: 60–90 ms stalls."""
        if not self.heap.installed:
            self.heap.install()
            self.set_interval(IDLE_S, self.heap.sweep_if_idle)

    def _apply_keymap(self, keymap: dict[str, str]) -> None:
        self.keymap = keymap
        self.set_keymap(keymap)

    def on_startup_done(self, message: StartupDone) -> None:
        self.jobs_seen = {job.id: job for job in message.jobs} | self.jobs_seen  # live news beats the load
        self._jobs_loaded = True
        self.health.expect(sorted({*message.providers, *(job.provider for job in message.jobs)}))
        for problem in message.problems:
            self.notify(str(problem), title="config.toml", severity="warning", timeout=10)
        self._publish_header()
        self.request_inventory()

    # -- the endpoint inventory (the header's burn rate and provider health) --------------------------------

    def request_inventory(self) -> None:
        if self.deck.workspace is None:
            return  # the start-up lists them once the workspace is open
        if self._inventory_running:
            self._inventory_again = True
            return
        self._inventory_running = True
        self.list_endpoints()

    @work(thread=True, group="inventory", exit_on_error=False)
    def list_endpoints(self) -> None:
        # Results arrive as EndpointsListed on the bus, for the header and the Endpoints screen alike.
        with reported(self, "Listing endpoints"):
            self.ws.endpoints.inventory()
        self.call_from_thread(self._inventory_done)

    def _inventory_done(self) -> None:
        self._inventory_running = False
        self._settle_heap()
        if self._inventory_again:
            self._inventory_again = False
            self.request_inventory()

    def on_inventory_requested(self, message: InventoryRequested) -> None:
        self.request_inventory()

    # -- bus events -----------------------------------------------------------------------------------------

    def on_workspace_events_arrived(self, message: WorkspaceEventsArrived) -> None:
        events = message.feed.drain()
        now = self.deck.clock()
        for event in events:
            self.health.apply(event, now)
            if (job := job_of(event)) is not None:
                self._job_changed(job)
            elif isinstance(event, JobForgotten):
                self.jobs_seen.pop(event.job_id, None)
            elif isinstance(event, EndpointsListed):
                self._listed(event.inventory)
            elif isinstance(event, EndpointTornDown) and event.result.ok:
                self._rates.pop(f"{event.result.provider}:{event.result.endpoint_id}", None)
            elif isinstance(event, EndpointUsed):
                self.set_timer(1.0, self.request_inventory)  # a chat may have loaded a model: list again
            elif isinstance(event, AutoTeardownDone):
                names = ", ".join(f"{r.provider}:{r.endpoint_id}" for r in event.results if r.ok)
                if names:
                    self.notify(names, title="Idle auto-teardown")
            elif isinstance(event, MonitorStopped) and event.reason != "stopped":
                self.notify(f"{event.reason}: {event.error}\nJobs stop updating; restart tunedeck to resume.",
                            title="The job monitor stopped", severity="error", timeout=30)  # fmt: skip
        self._publish_header()

    def _job_changed(self, job: JobRecord) -> None:
        before = self.jobs_seen.get(job.id)
        self.jobs_seen[job.id] = job
        if before is None or before.finished or not job.finished or job.submission is not Submission.SUBMITTED:
            return
        self.bell()
        if job.state is JobState.SUCCEEDED:
            self.notify(f"{job.id} ({job.provider}, {job.base_model}) → {job.fine_tuned_model or 'done'}",
                        title="Job succeeded")  # fmt: skip
        elif job.state is JobState.FAILED:
            why = job.error or job.state_detail or "the provider gave no reason"
            self.notify(f"{job.id} ({job.provider}): {why}", title="Job failed", severity="error", timeout=30)
        else:
            self.notify(f"{job.id} ({job.provider}) was {job.state}.", title="Job ended", severity="warning")

    def _listed(self, inventory: Inventory) -> None:
        self._rates = {f"{v.provider}:{v.id}": v.hourly_rate_usd or 0.0 for v in inventory.everything}
        self._listed_once = True
        self.header_state = replace(self.header_state, burn_complete=inventory.all_checked)

    def _publish_header(self) -> None:
        active = [j for j in self.jobs_seen.values() if j.submission is Submission.SUBMITTED and not j.finished]
        running = sum(1 for j in active if j.state is JobState.RUNNING)
        state = replace(
            self.header_state,
            statuses=self.health.statuses(),
            running=running if self._jobs_loaded else None,
            waiting=len(active) - running,
            burn_usd_per_h=sum(self._rates.values()) if self._listed_once else None,
            now=self.deck.clock(),
        )
        if state != self.header_state:
            self.header_state = state
            self.header_changed.publish(state)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications carry provider text (error titles, ids), which may hold brackets: never read as markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def on_action_failed(self, message: ActionFailed) -> None:
        severity = cast("SeverityLevel", message.severity)
        if message.hint:
            self.notify(message.hint, title=message.title, severity=severity, timeout=10)
        else:
            self.notify(message.title, severity=severity, timeout=10)

    # -- the shell's keys ---------------------------------------------------------------------------------

    def action_command_line(self) -> None:
        from tui.screens.command_line import CommandLineScreen

        if not isinstance(self.screen, ModalScreen):
            self.push_screen(CommandLineScreen(), self._command_entered)

    def _command_entered(self, name: str | None) -> None:
        if name:
            self.go_to(name)

    def go_to(self, name: str) -> None:
        if name.lower() in ("q", "quit", "exit"):
            self.exit()
            return
        if name.lower() == "help":
            self.action_help()
            return
        destination = find(name)
        if destination is None:
            known = ", ".join(f":{d.name}" for d in DESTINATIONS)
            self.notify(f"Try {known}.", title=f"No screen called {name!r}", severity="warning")
            return
        # One stack with the home screen at the bottom: `:name` goes home, then up to that screen, which is
        # installed on first use so it keeps its data (and follows its events) while another one shows.
        while len(self.screen_stack) > 1:
            self.pop_screen()
        if destination is DESTINATIONS[0]:
            return
        if not self.is_screen_installed(destination.name):
            self.install_screen(destination.build(self.deck), destination.name)
        self.push_screen(destination.name)

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen, binding_table

        if isinstance(self.screen, ModalScreen):
            return
        title = getattr(self.screen, "TITLE_TEXT", "") or "tunedeck"
        self.push_screen(HelpScreen(title, binding_table(self.screen, self.keymap)))

    async def action_back(self) -> None:
        go_back = getattr(self.screen, "go_back", None)
        if callable(go_back) and go_back():
            return
        if len(self.screen_stack) > 1 and not isinstance(self.screen, ModalScreen):
            self.pop_screen()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette offers what the keys do: every screen to jump to and the current screen's actions."""
        from tui.screens.help import own_bindings

        for destination in DESTINATIONS:
            yield SystemCommand(f"Go to {destination.title}", f":{destination.name} · {destination.description}",
                                partial(self.go_to, destination.name))  # fmt: skip
        for binding in own_bindings(screen):
            if screen.check_action(binding.action, ()) is True and binding.description:
                keys = self.keymap.get(binding.id or "", binding.key)
                shown = ", ".join(self.get_key_display(replace(binding, key=k.strip())) for k in keys.split(","))
                title = (binding.tooltip or binding.description).split(" (")[0]
                yield SystemCommand(title, f"{shown} · {binding.id}", partial(screen.run_action, binding.action))
        yield SystemCommand("Keys of this screen", "every key here and the global ones, with ids for [keys] (?)",
                            self.action_help)  # fmt: skip
        yield from super().get_system_commands(screen)


def _open_default() -> Workspace:
    from tunedeck.workspace import Workspace

    return Workspace.open()


def _binding_ids() -> set[str]:
    """Every binding id a user may rebind: the app's and those of every screen and widget under tui/ (their modules
    are imported here, off the UI thread, so a screen added later needs no entry here)."""
    import importlib
    import pkgutil

    import tui.screens
    import tui.widgets
    from tui.keys import binding_ids

    for package in (tui.screens, tui.widgets):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")
    classes: list[type[Any]] = [TunedeckApp]
    pending: list[type[Any]] = [DOMNode]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("tui.") and "BINDINGS" in vars(cls):
            classes.append(cls)
    return binding_ids(cls.BINDINGS for cls in classes)
