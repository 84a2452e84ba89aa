"""SVG snapshots of every screen and dialog, drawn from the still life (fixed ids, times and a frozen clock).

`pytest tests/tui/test_snapshots.py --snapshot-update` redraws them after an intended change; look at the
report it writes before committing. Behaviour is tested in the Pilot tests; these catch layout regressions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import settle
from tests.tui.still import still_app, still_workspace
from tui.app import TunedeckApp
from tui.widgets.endpoint_table import EndpointTable
from tui.widgets.job_table import JobTable

Compare = Callable[..., bool]


async def _loaded(pilot: Pilot[None]) -> None:
    """Wait until the first screen holds its data and every start-up worker is done."""
    app = pilot.app
    assert isinstance(app, TunedeckApp)
    await settle(pilot, lambda: app.screen.query(JobTable) and app.screen.query_one(JobTable).row_count == 4)
    await settle(pilot, lambda: app.header_state.burn_usd_per_h is not None)
    await app.workers.wait_for_complete()


Ready = Callable[[TunedeckApp], bool]


def _then(*steps: tuple[Iterable[str], Ready]) -> Callable[[Pilot[None]], object]:
    """After loading: press each step's keys, then wait until it is ready (never a fixed sleep)."""

    async def run_before(pilot: Pilot[None]) -> None:
        await _loaded(pilot)
        app = pilot.app
        assert isinstance(app, TunedeckApp)
        for keys, ready in steps:
            await pilot.press(*keys)
            await settle(pilot, lambda: ready(app))  # noqa: B023  # awaited inside the loop
            await app.workers.wait_for_complete()
        await pilot.pause(0.2)

    return run_before


def _showing(name: str) -> Ready:
    return lambda app: type(app.screen).__name__ == name


@pytest.fixture
def app(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> TunedeckApp:
    return still_app(still_workspace(isolated_home, monkeypatch))


def _endpoints_listed(app: TunedeckApp) -> bool:
    return bool(app.screen.query(EndpointTable)) and app.screen.query_one(EndpointTable).row_count == 3


ENDPOINTS_LISTED = (("colon", *"endpoints", "enter"), _endpoints_listed)


def test_jobs(app: TunedeckApp, snap_compare: Compare) -> None:
    assert snap_compare(app, terminal_size=(120, 40), run_before=_loaded)


def test_jobs_at_80_by_24(app: TunedeckApp, snap_compare: Compare) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=_loaded)


def test_job_detail(app: TunedeckApp, snap_compare: Compare) -> None:
    opened = _then((("down", "down", "down", "enter"), lambda a: bool(getattr(a.screen, "checkpoint_models", None))))
    assert snap_compare(app, terminal_size=(120, 40), run_before=opened)


def test_endpoints(app: TunedeckApp, snap_compare: Compare) -> None:
    assert snap_compare(app, terminal_size=(120, 40), run_before=_then(ENDPOINTS_LISTED))


def test_teardown_dialog(app: TunedeckApp, snap_compare: Compare) -> None:
    run_before = _then(ENDPOINTS_LISTED, (("down", "d"), _showing("ConfirmScreen")))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_teardown_idle_dialog(app: TunedeckApp, snap_compare: Compare) -> None:
    run_before = _then(ENDPOINTS_LISTED, (("D",), _showing("ConfirmScreen")))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_autostop_dialog(app: TunedeckApp, snap_compare: Compare) -> None:
    run_before = _then(ENDPOINTS_LISTED, (("down", "a"), _showing("AutostopScreen")))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_test_chat(app: TunedeckApp, snap_compare: Compare) -> None:
    run_before = _then(ENDPOINTS_LISTED, (("t",), _showing("ChatScreen")))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_help(app: TunedeckApp, snap_compare: Compare) -> None:
    run_before = _then((("question_mark",), _showing("HelpScreen")))
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_command_line(app: TunedeckApp, snap_compare: Compare) -> None:
    run_before = _then((("colon", "e"), _showing("CommandLineScreen")))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
