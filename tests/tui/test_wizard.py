"""Pilot tests of the New job wizard: a file in another format fixed by `c` convert, then provider, model,
hyperparameters, estimate and one submission (the job's page opens); and a file with errors that blocks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, OptionList

from tests.tui.conftest import LocalFake, record_notifications, settle, tiny_dataset
from tui.app import TunedeckApp
from tui.screens.job_detail import JobDetailScreen
from tui.screens.wizard import WizardScreen
from tui.widgets.provider_picker import ProviderPicker
from tunedeck.workspace import Workspace


def vertex_dataset(directory: Path, rows: int = 12) -> Path:
    path = directory / "gemini.jsonl"
    lines = [{"contents": [{"role": "user", "parts": [{"text": f"What is {i} plus {i}?"}]},
                           {"role": "model", "parts": [{"text": f"{2 * i}"}]}]} for i in range(rows)]  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


async def open_wizard(app: TunedeckApp, pilot: object, path: Path) -> WizardScreen:
    await pilot.press("colon", *"new", "enter")  # type: ignore[attr-defined]
    await settle(pilot, lambda: isinstance(app.screen, WizardScreen))  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, WizardScreen)
    await settle(pilot, lambda: screen.query_one("#wz-files", OptionList).option_count > 0, what="the file list")  # type: ignore[arg-type]
    await pilot.press(*path.stem[:4], "enter", "enter")  # type: ignore[attr-defined]  # filter, pick, no validation
    await settle(pilot, lambda: screen.step == 1, timeout=60, what="the validation report")  # type: ignore[arg-type]
    return screen


async def test_wizard_converts_then_submits_once_and_opens_the_job(
    workspace: Workspace, fake: LocalFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    source = vertex_dataset(data)
    monkeypatch.chdir(data)
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        screen = await open_wizard(app, pilot, source)
        table = screen.query_one("#wz-problems", DataTable)
        codes = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}
        assert "format-not-accepted" in codes and not screen.report.ok
        await pilot.press("ctrl+n")  # errors block the next step
        assert screen.step == 1 and any(n.title == "The dataset has errors" for n in notes)
        await pilot.press("c")
        await settle(pilot, lambda: screen.report.ok, timeout=60, what="the converted file's clean report")
        assert screen.training == data / "gemini.openai-chat.jsonl" and screen.training.is_file()
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: screen.step == 2)
        providers = screen.query_one("#wz-providers", OptionList)
        ids = [providers.get_option_at_index(i).id for i in range(providers.option_count)]
        assert providers.get_option("anthropic").disabled
        providers.highlighted = ids.index("local")
        await pilot.press("enter")  # pick local; the model field gets its default
        assert screen.query_one("#wz-model", Input).value == "smollm2-135m-instruct"
        await pilot.press("enter")
        await settle(pilot, lambda: screen.step == 3)
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: screen.step == 4, timeout=60, what="the estimate")
        assert screen.plan.ok
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, JobDetailScreen), timeout=30, what="the job's page")
        assert len(fake.jobs) == 1
        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is screen)
        await pilot.press("enter")  # a second enter submits nothing more
        await pilot.pause(0.3)
        assert len(fake.jobs) == 1
        assert screen.check_action("submit", ()) is False


async def test_errors_block_the_wizard(workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    path = tiny_dataset(data)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("not json at all\n")
    monkeypatch.chdir(data)
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        screen = await open_wizard(app, pilot, path)
        assert not screen.report.ok
        assert screen.check_action("convert", ()) is False  # nothing to convert: the file has errors of its own
        await pilot.press("ctrl+n")
        assert screen.step == 1 and any(n.title == "The dataset has errors" for n in notes)
        await pilot.press("escape")  # back to the dataset step
        assert screen.step == 0


async def test_n_on_jobs_opens_the_wizard_and_read_only_offers_no_new_job(workspace: Workspace) -> None:
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, WizardScreen), what="the wizard")
    read_only = TunedeckApp(workspace, read_only=True)
    async with read_only.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert read_only.screen.check_action("new_job", ()) is False
        await pilot.press("n")
        await pilot.pause(0.2)
        assert not isinstance(read_only.screen, WizardScreen)


async def test_wizard_lists_only_configured_providers_as_pickable(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No OpenAI key and no Vertex project: both are listed, disabled, with what to set; local stays pickable.
    With a key in the environment OpenAI becomes pickable (the check reads settings only, asks no service)."""
    monkeypatch.chdir(tmp_path)
    await check_picker(workspace, key_set=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    await check_picker(workspace, key_set=True)


async def check_picker(workspace: Workspace, *, key_set: bool) -> None:
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("colon", *"new", "enter")
        await settle(pilot, lambda: isinstance(app.screen, WizardScreen))
        picker = app.screen.query_one("#wz-providers", ProviderPicker)
        await settle(pilot, lambda: picker.checked, what="the provider check")
        assert not picker.get_option("local").disabled
        assert picker.get_option("vertex").disabled
        assert "No Google Cloud project" in str(picker.get_option("vertex").prompt)
        assert picker.get_option("openai").disabled is not key_set
        if not key_set:
            assert "OPENAI_API_KEY" in str(picker.get_option("openai").prompt)
        assert "sk-test" not in str(picker.get_option("openai").prompt)
