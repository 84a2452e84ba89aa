"""The shell around the screens: the `:` command line with completion, `?` help, `esc`, the palette, `[keys]`
rebinding from config.toml, the header's provider health when a provider fails, 80×24, and 500 jobs."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette
from textual.widgets import Input

from providers.base import Endpoint, TuningSpec
from providers.errors import UnavailableError
from tests.tui.conftest import FAST_MONITOR, LocalFake, record_notifications, screen_text, settle, write_config
from tui.app import TunedeckApp
from tui.screens.command_line import CommandLineScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.endpoints import EndpointsScreen
from tui.screens.help import HelpScreen
from tui.screens.jobs import JobsScreen
from tui.widgets.job_table import JobTable
from tunedeck.workspace import Workspace


async def test_colon_completes_and_jumps_and_unknown_names_are_said(workspace: Workspace) -> None:
    app = TunedeckApp(workspace, live=False)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        await pilot.press("colon")
        await settle(pilot, lambda: isinstance(app.screen, CommandLineScreen))
        await pilot.press(*"end", "tab")
        assert app.screen.query_one(Input).value == "endpoints"
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, EndpointsScreen))
        await pilot.press("colon", *"jobs", "enter")
        await settle(pilot, lambda: isinstance(app.screen, JobsScreen))
        await pilot.press("colon", *"nowhere", "enter")
        await settle(pilot, lambda: any("nowhere" in n.title for n in notes))
        assert isinstance(app.screen, JobsScreen)
        await pilot.press("colon", "escape")
        await settle(pilot, lambda: isinstance(app.screen, JobsScreen))


async def test_question_mark_lists_every_binding_of_the_screen_and_the_global_ones(workspace: Workspace) -> None:
    app = TunedeckApp(workspace, live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("colon", *"endpoints", "enter")
        await settle(pilot, lambda: isinstance(app.screen, EndpointsScreen))
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        for binding_id in ("endpoints.teardown", "endpoints.teardown_idle", "endpoints.autostop", "endpoints.test",
                           "endpoints.filter", "app.command_line", "app.help", "app.quit", "app.palette"):  # fmt: skip
            assert binding_id in text, binding_id
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, EndpointsScreen))


async def test_keys_from_config_rebind_and_a_typo_is_reported(isolated_home: Path, fake: LocalFake) -> None:
    write_config(isolated_home, FAST_MONITOR + '[keys]\n"endpoints.teardown" = "x"\n"jobs.filtr" = "f"\n')
    workspace = Workspace.open(provider_factory=lambda name: fake)
    try:
        app = TunedeckApp(workspace, live=False)
        notes = record_notifications(app)  # before the start: the warning comes at once
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await settle(pilot, lambda: any("jobs.filtr" in n.message for n in notes), what="the typo's warning")
            await pilot.press("colon", *"endpoints", "enter")
            table = app.screen.query_one("#endpoints")
            await settle(pilot, lambda: table.row_count == 2)  # type: ignore[attr-defined]
            await pilot.press("d")
            await pilot.pause(0.2)
            assert isinstance(app.screen, EndpointsScreen)  # d no longer tears down
            await pilot.press("x")
            await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("escape", "question_mark")
            await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
            [row] = [line for line in screen_text(app).splitlines() if "endpoints.teardown " in line]
            assert row.strip("█│ ").startswith("x "), row
    finally:
        workspace.close()


async def test_the_palette_offers_the_screens_actions(workspace: Workspace) -> None:
    app = TunedeckApp(workspace, live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("colon", *"endpoints", "enter")
        table = app.screen.query_one("#endpoints")
        await settle(pilot, lambda: table.row_count == 2)  # type: ignore[attr-defined]
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert {
            "Go to Jobs",
            "Go to Endpoints",
            "Tear down the selected endpoint",
            "Tear down every idle endpoint of ours",
            "Keys",
        } <= set(titles)
        await pilot.press("ctrl+p")
        await settle(pilot, lambda: CommandPalette.is_open(app))
        await pilot.press(*"go to jobs")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, JobsScreen), what="the palette's jump")


async def test_a_failing_provider_shows_in_the_header_not_a_traceback(isolated_home: Path, fake: LocalFake) -> None:
    class DownVertex(LocalFake):
        name = "vertex"

        def list_endpoints(self) -> list[Endpoint]:
            raise UnavailableError("Vertex AI did not answer.", "Check your network.", provider="vertex")

    write_config(isolated_home, FAST_MONITOR)
    down = DownVertex()
    workspace = Workspace.open(provider_factory=lambda name: down if name == "vertex" else fake)
    try:
        app = TunedeckApp(workspace, live=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot, lambda: "vertex unknown since" in screen_text(app).splitlines()[0], what="the status")
            header = screen_text(app).splitlines()[0]
            assert "local reachable" in header and "burning now: ≥ $2.50/h" in header  # a lower bound: vertex unasked
            await pilot.press("colon", *"endpoints", "enter")
            await settle(pilot, lambda: "vertex: could not check" in screen_text(app))
    finally:
        workspace.close()


async def test_80_by_24_keeps_the_header_totals_and_the_footer_keys(workspace: Workspace) -> None:
    app = TunedeckApp(workspace, live=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: "burning now: $2.50/h" in screen_text(app), what="the burn rate")
        await settle(pilot, lambda: "q quit" in screen_text(app).splitlines()[23], what="the footer")
        assert screen_text(app).splitlines()[0].rstrip().endswith("0 running · burning now: $2.50/h")
        await pilot.press("colon", *"endpoints", "enter")
        await settle(pilot, lambda: "d teardown" in screen_text(app).splitlines()[23], what="the footer")


async def test_hundreds_of_jobs_load_and_the_live_ones_update_in_place(workspace: Workspace, fake: LocalFake) -> None:
    for n in range(500):  # intents (never polled) fill the table; 40 submitted ones finish live among them
        spec = TuningSpec("smollm2-135m-instruct", "file-1", client_key=f"k{n}")
        intent = workspace.store.create_job_intent("local", spec)
        if n % 12 == 0 and n < 480:
            workspace.store.mark_submitted(intent.id, fake.create_job(spec))
    live = {job.id for job in workspace.jobs.all(limit=None) if job.submission.value == "submitted"}
    assert len(live) == 40
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(JobTable)
        await settle(pilot, lambda: table.row_count == 500, what="500 rows")
        rows_before = {key.value: row for key, row in table.rows.items()}
        done = lambda: all(table.rows_by_id[i].cells["state"][0] == "succeeded" for i in live)  # noqa: E731
        await settle(pilot, done, timeout=60, what="the submitted jobs to succeed live")
        assert {key.value: row for key, row in table.rows.items()} == rows_before  # the same Row objects
        assert "500 jobs" in screen_text(app)
