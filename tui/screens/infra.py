"""`InfraScreen`: the Pulumi stack — its config, its last outputs, and `p` plan (offline under mocks when the
Pulumi CLI is missing, and it says so), `u` up, `r` refresh, `x` destroy behind typing the stack's name. The
engine's output streams into a log pane (`OutputLine` events on the bus). Resources that bill are marked."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, RichLog, Static

from tui.deck import Deck, reported
from tui.screens.base import DeckScreen
from tui.screens.type_to_confirm import TypeToConfirmScreen
from tui.widgets.status_header import StatusHeader
from tui.work_messages import StackActionDone, StackLoaded
from tunedeck.events import OutputLine, Predicate

BILLS: dict[str, str] = {
    "gcp:storage/bucket:Bucket": "storage per GB-month",
    "gcp:vertex/aiEndpoint:AiEndpoint": "per node-hour while a model is deployed",
    "gcp:kms/cryptoKey:CryptoKey": "per key version per month",
}
"""Resource types that cost money by existing; the table marks them with `$`."""


def short_type(token: str) -> str:
    """gcp:storage/bucket:Bucket → storage.Bucket"""
    parts = token.split(":")
    return f"{parts[1].split('/')[0]}.{parts[2]}" if len(parts) == 3 else token


def compact(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(compact(v) for v in value) + "]"
    return str(value).lower() if isinstance(value, bool) else str(value)


class InfraScreen(DeckScreen):
    TITLE_TEXT = "Infra"
    CSS_PATH = "../part2.tcss"
    SPENDS = frozenset({"up", "destroy"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "plan", "plan", id="infra.plan"),
        Binding("u", "up", "up", id="infra.up"),
        Binding("r", "refresh_stack", "refresh", id="infra.refresh"),
        Binding("x", "destroy", "destroy", id="infra.destroy"),
    ]

    def __init__(self, deck: Deck) -> None:
        super().__init__(deck)
        settings = deck.workspace.settings
        self.stack = str(settings.section("infra").get("stack") or "dev")
        self.busy = ""
        self.pulumi = False

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.TITLE_TEXT)
        with Horizontal(id="infra-top"):
            yield Static(Text(f"stack {self.stack}: reading its config…"), id="infra-config")
            yield Static(Text("outputs: …"), id="infra-outputs")
        table: DataTable[Any] = DataTable(id="infra-plan", cursor_type="row", zebra_stripes=True)
        table.border_title = "Plan (p)"
        yield table
        log = RichLog(id="infra-log", wrap=True, max_lines=2000)
        log.border_title = "Engine output"
        yield log
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#infra-plan", DataTable)
        table.add_columns("$", "Type", "Name", "Key properties")
        self.load()

    def accepts(self) -> Predicate | None:
        return lambda event: isinstance(event, OutputLine)

    def handle_events(self, events: list[Any]) -> None:
        log = self.query_one("#infra-log", RichLog)
        for event in events:
            log.write(Text(event.line))

    # -- workers -----------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="infra-load", exit_on_error=False)
    def load(self) -> None:
        from infra.stack_files import load_stack_config

        ws = self.ws
        with reported(self, "Reading the stack"):
            target = ws.stacks.target(self.stack)
            pulumi = ws.stacks.pulumi_installed()
            config: dict[str, Any] = {}
            try:
                config = dict(load_stack_config(target.work_dir, self.stack).values)
            except Exception as exc:  # a missing stack file is shown in the pane, not raised
                config = {"(no config)": getattr(exc, "title", str(exc))}
            outputs, note = None, ""
            try:
                found = ws.stacks.outputs(self.stack)
                outputs = found.as_outputs()
                note = f"{found.source}" + (f", saved {found.saved_at:%Y-%m-%d %H:%M}" if found.saved_at else "")
            except Exception as exc:
                note = getattr(exc, "title", "") or "none yet (run u to deploy)"
            self.post_message(StackLoaded(self.stack, str(target.work_dir), config, outputs, note, pulumi))

    def on_stack_loaded(self, message: StackLoaded) -> None:
        self.pulumi = message.pulumi
        lines = Text.assemble((f"stack {message.stack}", "bold"), f"  ({message.work_dir})\n")
        if not message.pulumi:
            lines.append("Pulumi CLI not installed: p plans offline under mocks; u, r, x need it.\n", style="yellow")
        for key, value in sorted(message.config.items(), key=lambda kv: (not kv[0].startswith("gcp:"), kv[0])):
            lines.append(f"{key}: {compact(value)}\n")
        self.query_one("#infra-config", Static).update(lines)
        outputs = Text.assemble(("outputs", "bold"), f" ({message.outputs_note})\n")
        for key, value in (message.outputs or {}).items():
            outputs.append(f"{key}: {compact(value)}\n")
        self.query_one("#infra-outputs", Static).update(outputs)

    def _start(self, verb: str) -> bool:
        if self.busy:
            self.notify(f"Wait for {self.busy} to finish.", title="The stack is busy", severity="warning")
            return False
        self.busy = verb
        self.query_one("#infra-log", RichLog).write(Text(f"── {verb} {self.stack} ──", style="bold"))
        return True

    @work(thread=True, exclusive=True, group="infra", exit_on_error=False)
    def run_stack(self, verb: str) -> None:
        stacks = self.ws.stacks
        result: Any = None
        with reported(self, f"infra {verb}"):
            if verb == "plan":
                result = stacks.plan(self.stack)
            elif verb == "up":
                result = stacks.up(self.stack)
            elif verb == "refresh":
                result = stacks.refresh(self.stack)
            elif verb == "destroy":
                result = stacks.destroy(self.stack)
        self.post_message(StackActionDone(verb, result))

    def on_stack_action_done(self, message: StackActionDone) -> None:
        self.busy = ""
        log, result = self.query_one("#infra-log", RichLog), message.result
        if result is None:
            log.write(Text(f"{message.verb} failed (see the notification)", style="red"))
            return
        if message.verb == "plan" and not isinstance(result, dict):
            self._show_plan(result)
        elif isinstance(result, dict):
            summary = ", ".join(f"{op}: {count}" for op, count in result.items()) or "no changes"
            log.write(Text(f"{message.verb}: {summary}", style="green"))
        else:
            log.write(Text(f"{message.verb} done", style="green"))
        if message.verb in ("up", "destroy", "refresh"):
            self.load()

    def _show_plan(self, plan: Any) -> None:
        table = self.query_one("#infra-plan", DataTable)
        table.clear()
        for resource in plan.resources:
            bills = BILLS.get(resource.type)
            properties = ", ".join(f"{k}: {compact(v)}" for k, v in resource.properties.items())
            mark = Text("$", style="bold yellow") if bills else Text("")
            table.add_row(mark, short_type(resource.type), resource.name, Text(properties))
        billing = sum(1 for r in plan.resources if r.type in BILLS)
        note = " (offline, under mocks: no cloud calls)" if plan.offline else ""
        table.border_title = f"Plan for {plan.stack}{note}: {len(plan.resources)} resources, {billing} bill ($)"
        self.query_one("#infra-log", RichLog).write(Text(f"plan: {len(plan.resources)} resources{note}", style="green"))

    # -- keys ----------------------------------------------------------------------------------------------

    def action_plan(self) -> None:
        if not self.pulumi:
            self.notify("Planning offline under Pulumi's mocks: nothing is read from or sent to GCP.",
                        title="Pulumi CLI not installed")  # fmt: skip
        if self._start("plan"):
            self.run_stack("plan")

    def action_up(self) -> None:
        if not self.refused("up") and self._start("up"):
            self.run_stack("up")

    def action_refresh_stack(self) -> None:
        if self._start("refresh"):
            self.run_stack("refresh")

    def action_destroy(self) -> None:
        if self.refused("destroy"):
            return
        self._ask_destroy()

    @work(exclusive=True, group="infra-confirm", exit_on_error=False)
    async def _ask_destroy(self) -> None:
        try:
            warning = self.ws.stacks.destroy_warning(self.stack)
        except Exception as exc:
            warning = f"This deletes every resource in stack {self.stack!r}. ({exc})"
        confirmed = await self.app.push_screen_wait(
            TypeToConfirmScreen(f"Destroy stack {self.stack}?", warning, self.stack)
        )
        if confirmed and self._start("destroy"):
            self.run_stack("destroy")
