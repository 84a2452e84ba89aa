"""Pilot tests of the Datasets screen: a file's problems by line with the raw line shown, its statistics, and
`c` convert writing a new file, then refusing to replace it unless the user confirms."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable, Input, Select, Static

from tests.tui.conftest import record_notifications, screen_text, settle, tiny_dataset
from tui.app import TunedeckApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.dataset_output import ConvertScreen
from tui.screens.datasets import DatasetsScreen
from tunedeck.data.formats import DatasetFormat
from tunedeck.workspace import Workspace


async def open_datasets(app: TunedeckApp, pilot: object, path: Path) -> DatasetsScreen:
    await pilot.press("colon", *"datasets", "enter")  # type: ignore[attr-defined]
    await settle(pilot, lambda: isinstance(app.screen, DatasetsScreen))  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, DatasetsScreen)
    field = screen.query_one("#ds-path", Input)
    field.value = str(path)
    field.focus()
    await pilot.press("enter")  # type: ignore[attr-defined]
    await settle(pilot, lambda: screen.report is not None, timeout=60, what="the validation report")  # type: ignore[arg-type]
    return screen


async def test_problems_by_line_show_the_raw_line_and_stats(workspace: Workspace, tmp_path: Path) -> None:
    path = tiny_dataset(tmp_path)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"messages": [{"role": "user", "content": "no answer"}]}\n')
        handle.write("not json at all\n")
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_datasets(app, pilot, path)
        table = screen.query_one("#ds-problems", DataTable)
        lines = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "13" in lines and "14" in lines
        assert "errors block submitting" in str(table.border_title)
        table.focus()
        table.move_cursor(row=lines.index("14"))
        raw = screen.query_one("#ds-raw", Static)
        await settle(pilot, lambda: "not json at all" in str(raw.content), what="the raw line")
        assert "14 examples" in screen_text(app) or "examples" in str(screen.query_one("#ds-stats", Static).content)


async def test_convert_writes_a_file_and_refuses_to_overwrite_silently(workspace: Workspace, tmp_path: Path) -> None:
    path = tiny_dataset(tmp_path)
    target = tmp_path / "tiny.vertex.jsonl"
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        screen = await open_datasets(app, pilot, path)
        screen.query_one("#ds-problems", DataTable).focus()
        await pilot.press("c")
        await settle(pilot, lambda: isinstance(app.screen, ConvertScreen))
        app.screen.query_one("#convert-to", Select).value = DatasetFormat.VERTEX
        await pilot.pause()
        assert app.screen.query_one("#convert-target", Input).value == str(target)
        await pilot.press("enter")
        await settle(pilot, lambda: any(n.title.startswith("Converted") for n in notes), what="the conversion")
        first = target.read_text(encoding="utf-8")
        assert len(first.splitlines()) == 12 and "contents" in json.loads(first.splitlines()[0])
        target.write_text("mine, keep me\n", encoding="utf-8")

        screen.query_one("#ds-problems", DataTable).focus()
        await pilot.press("c")
        await settle(pilot, lambda: isinstance(app.screen, ConvertScreen))
        app.screen.query_one("#convert-to", Select).value = DatasetFormat.VERTEX
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the overwrite question")
        await pilot.press("n")
        await settle(pilot, lambda: any(n.title == "Kept the existing files" for n in notes))
        assert target.read_text(encoding="utf-8") == "mine, keep me\n"

        screen.query_one("#ds-problems", DataTable).focus()
        await pilot.press("c")
        await settle(pilot, lambda: isinstance(app.screen, ConvertScreen))
        app.screen.query_one("#convert-to", Select).value = DatasetFormat.VERTEX
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await settle(pilot, lambda: target.read_text(encoding="utf-8") == first, what="the confirmed replacement")
