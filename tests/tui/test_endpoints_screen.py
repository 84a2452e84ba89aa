"""Pilot tests of the Endpoints screen: listing with ownership, one-key teardown behind a confirmation (and the
CLI agreeing afterwards), cancelling it, a failed teardown retried, bulk idle teardown, autostop, test chat,
and read-only mode offering none of it."""

from __future__ import annotations

import json
from datetime import timedelta

from textual.widgets import Button, Input

from providers.errors import UnavailableError
from tests.cli.test_jobs_cli import run as run_cli
from tests.tui.conftest import LocalFake, record_notifications, screen_text, settle
from tui.app import TunedeckApp
from tui.screens.autostop import AutostopScreen
from tui.screens.chat import ChatScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.endpoints import EndpointsScreen
from tui.widgets.endpoint_table import EndpointTable
from tunedeck.workspace import Workspace

OURS, THEIRS = "local:ft:smol:a", "local:theirs"


def cli_listing(fake: LocalFake) -> dict[str, list[str]]:
    """What `tunedeck endpoints list --json` says now, run in-process on its own workspace."""
    code, out, err = run_cli("endpoints", "list", "--json",
                             workspace=lambda: Workspace.open(provider_factory=lambda name: fake))  # fmt: skip
    assert code == 0, err
    listing = json.loads(out)
    return {side: [v["id"] for v in listing[side]] for side in ("ours", "not_ours")}


async def open_endpoints(app: TunedeckApp, pilot: object) -> EndpointTable:
    await pilot.press("colon", *"endpoints", "enter")  # type: ignore[attr-defined]
    await settle(pilot, lambda: isinstance(app.screen, EndpointsScreen))  # type: ignore[arg-type]
    table = app.screen.query_one(EndpointTable)
    await settle(pilot, lambda: table.row_count == 2, what="both endpoints")  # type: ignore[arg-type]
    return table


def dialog_text(app: TunedeckApp) -> str:
    dialog = app.screen
    assert isinstance(dialog, ConfirmScreen)
    return f"{dialog.title_text}\n{dialog.body}"


def select(table: EndpointTable, key: str) -> None:
    table.move_cursor(row=table.get_row_index(key))


async def test_listing_dims_foreign_and_d_then_y_tears_down_as_the_cli_sees(
    workspace: Workspace, fake: LocalFake
) -> None:
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        table = await open_endpoints(app, pilot)
        assert table.get_row(OURS)[4].plain == "tunedeck" and table.get_row(THEIRS)[4].plain == "foreign"
        assert str(table.get_row(THEIRS)[0].style) == "dim"
        assert "burning now: $2.50/h" in screen_text(app)
        select(table, OURS)
        await pilot.press("d")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        dialog = dialog_text(app)
        assert "local:ft:smol:a" in dialog and "$0.50/h" in dialog and "accrued ≈ $" in dialog
        assert isinstance(app.focused, Button) and app.focused.id == "cancel"  # the default is not to destroy
        await pilot.press("y")
        await settle(pilot, lambda: OURS not in table.rows, what="the row to go")
        assert fake.torn_down == ["ft:smol:a"]
        await settle(pilot, lambda: any(n.title == "Torn down 1" for n in notes))
        await settle(pilot, lambda: "burning now: $2.00/h" in screen_text(app), what="the burn rate to follow")
    assert cli_listing(fake) == {"ours": [], "not_ours": ["theirs"]}


async def test_d_then_esc_or_n_changes_nothing(workspace: Workspace, fake: LocalFake) -> None:
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_endpoints(app, pilot)
        select(table, OURS)
        for key in ("escape", "n"):
            await pilot.press("d")
            await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press(key)
            await settle(pilot, lambda: isinstance(app.screen, EndpointsScreen))
        await pilot.press("d", "enter")  # enter presses the focused button: Cancel
        await settle(pilot, lambda: isinstance(app.screen, EndpointsScreen))
        await pilot.pause(0.2)
        assert OURS in table.rows and fake.torn_down == [] and table.selected.status == ""  # type: ignore[union-attr]
    assert cli_listing(fake) == {"ours": ["ft:smol:a"], "not_ours": ["theirs"]}


async def test_a_failed_teardown_shows_why_and_d_retries(workspace: Workspace, fake: LocalFake) -> None:
    fake.teardown_failures = {"ft:smol:a": UnavailableError("The local backend did not answer.", provider="local")}
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        table = await open_endpoints(app, pilot)
        select(table, OURS)
        await pilot.press("d", "y")
        await settle(pilot, lambda: "did not answer" in table.get_row(OURS)[2].plain, what="the error on the row")
        assert "d retries" in table.get_row(OURS)[2].plain
        await settle(pilot, lambda: any(n.severity == "error" and "did not answer" in n.message for n in notes))
        await pilot.press("d", "y")
        await settle(pilot, lambda: OURS not in table.rows, what="the retried teardown")


async def test_foreign_endpoints_cannot_be_torn_down(workspace: Workspace, fake: LocalFake) -> None:
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_endpoints(app, pilot)
        notes = record_notifications(app)
        select(table, THEIRS)
        await pilot.press("d")
        await settle(pilot, lambda: any("never torn down" in n.message for n in notes), what="the reason")
        assert isinstance(app.screen, EndpointsScreen) and fake.calls.count("teardown:theirs") == 0


async def test_capital_d_tears_down_every_idle_endpoint_after_one_confirmation(
    workspace: Workspace, fake: LocalFake
) -> None:
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_endpoints(app, pilot)
        await pilot.press("D")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        dialog = dialog_text(app)
        assert "Tear down 1 idle endpoint" in dialog and "local:ft:smol:a" in dialog and "theirs" not in dialog
        await pilot.press("y")
        await settle(pilot, lambda: OURS not in table.rows)
        assert fake.torn_down == ["ft:smol:a"] and THEIRS in table.rows


async def test_a_sets_and_clears_idle_auto_teardown(workspace: Workspace, fake: LocalFake) -> None:
    # Without the monitor: it would rightly tear the endpoint down at once (unused for days, limit 45 minutes).
    app = TunedeckApp(workspace, live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_endpoints(app, pilot)
        select(table, OURS)
        await pilot.press("a")
        await settle(pilot, lambda: isinstance(app.screen, AutostopScreen))
        await pilot.press(*"soon", "enter")  # not a duration: said in the dialog, which stays
        await settle(pilot, lambda: "Cannot read" in screen_text(app))
        app.screen.query_one(Input).value = ""
        await pilot.press(*"45m", "enter")
        await settle(pilot, lambda: table.get_row(OURS)[9].plain == "after 45m idle")
    assert workspace.store.get_endpoint("local", "ft:smol:a").idle_teardown_s == timedelta(minutes=45).seconds  # type: ignore[union-attr]
    app = TunedeckApp(workspace, live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_endpoints(app, pilot)
        select(table, OURS)
        await pilot.press("a")
        await settle(pilot, lambda: isinstance(app.screen, AutostopScreen))
        app.screen.query_one(Input).value = "off"
        await pilot.press("enter")
        await settle(pilot, lambda: table.get_row(OURS)[9].plain == "off")


async def test_t_streams_a_test_chat_with_latency_and_tokens(workspace: Workspace, fake: LocalFake) -> None:
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_endpoints(app, pilot)
        select(table, OURS)
        await pilot.press("t")
        await settle(pilot, lambda: isinstance(app.screen, ChatScreen))
        await pilot.press("enter")
        await settle(pilot, lambda: "2 tokens" in screen_text(app))
        assert "Hello there" in screen_text(app) and "chat" in fake.calls


async def test_read_only_offers_no_teardown(workspace: Workspace, fake: LocalFake) -> None:
    app = TunedeckApp(workspace, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_endpoints(app, pilot)
        select(table, OURS)
        await pilot.pause(0.1)
        await settle(pilot, lambda: "/ filter" in screen_text(app).splitlines()[39], what="the footer")
        lines = screen_text(app).splitlines()
        assert "read-only" in lines[0]
        assert "teardown" not in lines[39] and "idle" not in lines[39] and "autostop" not in lines[39]
        for key in ("d", "D", "a", "t"):
            await pilot.press(key)
            await pilot.pause(0.1)
            assert isinstance(app.screen, EndpointsScreen), key
        await app.screen.run_action("teardown")  # what the palette would do: refused all the same
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert not [c for c in commands if c.startswith("Tear down")] and "Go to Jobs" in commands
        await pilot.pause(0.2)
        assert fake.torn_down == [] and not [c for c in fake.calls if c.startswith("teardown")]
