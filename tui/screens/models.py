"""`ModelsScreen` (`:models`): every tuned model across providers, as `tunedeck models list` shows them. `p`
deploys the selected one (the rate confirmation of `tunedeck endpoints deploy`), `x` deletes one tunedeck made
after the user types its short name (`tunedeck models delete`). A provider that cannot be listed gets a status
line, never a stall: the listing runs in a worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from tui.deck import Deck, reported
from tui.messages import InventoryRequested
from tui.screens.base import TableScreen
from tui.screens.deploy_flow import start_deploy
from tui.screens.type_to_confirm import TypeToConfirmScreen
from tui.widgets.model_table import ModelTable, row_key
from tui.widgets.status_header import StatusHeader
from tunedeck.events import DeploymentFailed, EndpointTornDown, ModelDeleted, ModelDeployed, Predicate, ProgressAdvanced

DEPLOYING, DELETING = "deploying…", "deleting…"


@dataclass
class ModelsLoaded(Message):
    """The listing (None: it failed, and the failure was reported)."""

    listing: Any


@dataclass
class ModelDeleteFinished(Message):
    key: str
    result: Any
    """A `DeleteResult`, or None when the call failed (reported on its own)."""


def _wanted(event: object) -> bool:
    if isinstance(event, ProgressAdvanced):
        return event.task.startswith("deploy ")
    return isinstance(event, ModelDeployed | DeploymentFailed | ModelDeleted | EndpointTornDown)


class ModelsScreen(TableScreen):
    TITLE_TEXT = "Models"
    SPENDS = frozenset({"deploy", "delete"})
    ROW_ACTIONS = ("deploy", "delete")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "deploy", "deploy", id="models.deploy",
                tooltip="Deploy the selected model so it answers (shows the hourly rate and asks first)"),
        Binding("x", "delete", "delete", id="models.delete",
                tooltip="Delete the selected model tunedeck made (type its name to confirm; cannot be undone)"),
        Binding("slash", "filter", "filter", id="models.filter", tooltip="Filter the models"),
        Binding("ctrl+r", "refresh", "list again", show=False, id="models.refresh", tooltip="List the models again"),
    ]  # fmt: skip

    def __init__(self, deck: Deck) -> None:
        super().__init__(deck)
        self.listed = False
        self.errors: dict[str, str] = {}
        self.progress = ""

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.TITLE_TEXT)
        yield ModelTable(id="models")
        yield Static("Listing tuned models…", id="models-empty", classes="empty")
        yield Static("", id="models-status", classes="empty")
        yield Footer(compact=True)

    @property
    def table(self) -> ModelTable:
        return self.query_one(ModelTable)

    def on_mount(self) -> None:
        super().on_mount()
        self._describe()

    def start(self) -> None:
        self.load()

    def accepts(self) -> Predicate | None:
        return _wanted

    # -- data --------------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="models-load", exit_on_error=False)
    def load(self) -> None:
        listing = None
        with reported(self, "Listing tuned models"):
            listing = self.ws.models.list()
        self.post_message(ModelsLoaded(listing))

    def on_models_loaded(self, message: ModelsLoaded) -> None:
        self.listed = True
        if message.listing is not None:
            self.table.show(message.listing.models)
            self.errors = dict(message.listing.errors)
        self._describe()
        self.refresh_keys()

    def handle_events(self, events: list[Any]) -> None:
        table, changed = self.table, False
        for event in events:
            if isinstance(event, ProgressAdvanced):
                model = event.task.removeprefix("deploy ")
                self.progress = f"deploy {model}: {event.message}" if event.message else ""
                for key, row in table.rows_by_key.items():
                    if row.view.id == model:
                        table.mark(key, DEPLOYING, "yellow")
            elif isinstance(event, DeploymentFailed):
                self.progress = f"deploy {event.deployment.model} failed: {event.error}"
                for key, row in table.rows_by_key.items():
                    if row.view.id == event.deployment.model:
                        table.mark(key, "deploy failed (p retries)", "red")
            else:
                changed = True
                if isinstance(event, ModelDeployed):
                    self.progress = ""
                    for key, row in table.rows_by_key.items():
                        if row.view.id == event.deployment.model and row.status == DEPLOYING:
                            table.mark(key, "")
        if changed:
            self.load()  # where each model is served changed: list again (exclusive: bursts collapse)
        self._describe()
        self.refresh_keys()

    def filter_changed(self) -> None:
        self._describe()

    def _describe(self) -> None:
        table = self.table
        rows = table.rows_by_key.values()
        ours = sum(1 for r in rows if r.view.ours)
        table.border_title = f"{ours} ours · {len(table.rows_by_key) - ours} foreign"
        problems = [f"{name}: could not list models ({why})" for name, why in sorted(self.errors.items())]
        status = self.query_one("#models-status", Static)
        status.update(Text("\n".join([*problems, self.progress] if self.progress else problems), style="yellow"))
        status.display = bool(problems or self.progress)
        empty = self.query_one("#models-empty", Static)
        if not self.listed:
            empty.update("Listing tuned models…")
        elif not table.rows_by_key:
            empty.update("No tuned models yet: a job that succeeds makes one (`:new` submits a job).")
        else:
            empty.update(Text(f"No model matches {table.filter_text!r} (esc in the filter clears it)."))
        empty.display = not table.row_count

    # -- keys ----------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed or not self.is_mounted or action not in self.ROW_ACTIONS:
            return allowed
        # With a row selected the keys always answer (a foreign model says why it is left alone).
        return True if self.table.selected else None

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.refresh_keys()

    def action_deploy(self) -> None:
        row = self.table.selected
        if row is None or self.refused("deploy"):
            return
        if row.status in (DEPLOYING, DELETING):
            self.notify(f"{row.view.id} is {row.status.rstrip('…')} already.", title="Models")
            return
        start_deploy(self.app, self.deck, row.view.id, row.view.provider)

    def action_delete(self) -> None:
        row = self.table.selected
        if row is None or self.refused("delete"):
            return
        view = row.view
        if not view.ours:
            why = f"{view.id} was not made by tunedeck (owner: {view.owner}): it is listed, never deleted."
            self.notify(f"{why} Delete it where it was made if it is yours.", title="Not ours", severity="warning")
            return
        if row.status == DELETING:
            self.notify(f"{view.id} is being deleted already.", title="Models")
            return
        hourly = [s.endpoint_id for s in view.served if s.billing != "per token"]
        first = f"\nIt is served on {', '.join(hourly)}, which is torn down first." if hourly else ""
        body = f"{view.provider} model {view.id}{first}\n\nThis cannot be undone."
        key = row_key(view)

        def chosen(yes: bool | None) -> None:
            if yes:
                self.table.mark(key, DELETING, "yellow")
                self.refresh_keys()
                self.delete(key, view)

        self.app.push_screen(TypeToConfirmScreen("Delete this tuned model?", body, view.short_name), chosen)

    @work(thread=True, group="model-delete", exit_on_error=False)
    def delete(self, key: str, view: Any) -> None:
        # Not exclusive: a second delete started meanwhile must never abandon the first.
        result = None
        with reported(self, "The delete"):
            result = self.ws.models.delete(view)
        self.post_message(ModelDeleteFinished(key, result))

    def on_model_delete_finished(self, message: ModelDeleteFinished) -> None:
        result = message.result
        if result is None:
            self.table.mark(message.key, "delete failed (x retries)", "red")
        elif result.deleted:
            self.table.remove_keys([message.key])
            self.notify(f"{result.provider}:{result.model}" + (f"\n{result.note}" if result.note else ""),
                        title="Model deleted")  # fmt: skip
        else:
            self.table.mark(message.key, "not deleted", "red")
            self.notify(result.note or "The provider kept it.", title=f"{result.model} not deleted",
                        severity="warning", timeout=15)  # fmt: skip
        if result is not None and result.teardowns:
            self.post_message(InventoryRequested())  # an endpoint went with it: :endpoints and the burn rate follow
        self._describe()
        self.refresh_keys()
        self.load()

    def action_refresh(self) -> None:
        self.load()
