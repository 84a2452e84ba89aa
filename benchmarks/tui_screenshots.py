"""The README's screenshots of the terminal UI: Jobs, a job's page and Endpoints, as SVG (Textual's own
`save_screenshot`), drawn from the tests' still life so they change only when the UI does.

Run: .venv/bin/python benchmarks/tui_screenshots.py   (writes docs/images/tui-*.svg)
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT = REPO / "docs" / "images"


async def shoot(app: object, steps: list[tuple[tuple[str, ...], Callable[[object], bool], str]]) -> None:
    from tests.tui.conftest import settle
    from tui.app import TunedeckApp
    from tui.widgets.job_table import JobTable

    assert isinstance(app, TunedeckApp)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, lambda: app.screen.query(JobTable) and app.screen.query_one(JobTable).row_count == 4)
        await settle(pilot, lambda: app.header_state.burn_usd_per_h is not None)
        await app.workers.wait_for_complete()
        for keys, ready, name in steps:
            await pilot.press(*keys)
            await settle(pilot, lambda: ready(app))  # noqa: B023  # awaited inside the loop
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
            app.save_screenshot(f"tui-{name}.svg", str(OUT))
            print(OUT / f"tui-{name}.svg")


def main() -> None:
    import pytest

    os.environ["TUNEDECK_HOME"] = home = tempfile.mkdtemp(prefix="tunedeck-screenshots-")
    from tests.tui.still import still_app, still_workspace
    from tests.tui.test_snapshots import _detail_settled, _endpoints_listed

    OUT.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as monkeypatch:
        workspace = still_workspace(Path(home), monkeypatch)
        try:
            app = still_app(workspace)
            app.title = "tunedeck"
            steps = [
                ((), lambda a: True, "jobs"),
                (("down", "down", "down", "enter"), _detail_settled, "job"),
                (("escape", "colon", *"endpoints", "enter"), _endpoints_listed, "endpoints"),
            ]
            asyncio.run(shoot(app, steps))  # type: ignore[arg-type]
        finally:
            workspace.close()


if __name__ == "__main__":
    main()
