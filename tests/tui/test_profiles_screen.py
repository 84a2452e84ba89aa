"""Pilot tests of the Profiles screen: a profile's system prompt, few-shot source, facts and indexed documents;
remember and forget a fact (the CLI's `profile show` agrees); `p` opens it in the Playground."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from tests.profiles.conftest import profile_dir  # noqa: F401 - a fixture
from tests.tui.conftest import record_notifications, screen_text, settle
from tui.app import TunedeckApp
from tui.screens.playground import PlaygroundScreen
from tui.screens.profiles import ProfilesScreen
from tunedeck.workspace import Workspace


@pytest.fixture
def in_project(profile_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # noqa: F811
    monkeypatch.chdir(profile_dir)
    return profile_dir


async def test_profile_details_remember_forget_and_playground(in_project: Path, workspace: Workspace) -> None:
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        await pilot.press("colon", *"profiles", "enter")
        await settle(pilot, lambda: isinstance(app.screen, ProfilesScreen))
        screen = app.screen
        assert isinstance(screen, ProfilesScreen)
        await settle(pilot, lambda: screen.view is not None, what="the profile")
        shown = screen_text(app)
        assert "You are Byte." in shown and "Uses a Mac" in shown and "2 similar from" in shown
        assert "Indexed documents" in shown and ".md" in shown
        screen.query_one("#pf-list", OptionList).focus()
        await pilot.press("r", *"Prefers dark mode", "enter")
        await settle(pilot, lambda: "Prefers dark mode" in screen.view.stored_facts, what="the remembered fact")
        assert workspace.profiles.show("helpdesk").stored_facts == ["Prefers dark mode"]
        screen.query_one("#pf-list", OptionList).focus()
        await pilot.press("f", "1", "enter")
        await settle(pilot, lambda: screen.view.stored_facts == [], what="the fact to go")
        assert any(n.message == "helpdesk forgot: Prefers dark mode" for n in notes)
        screen.query_one("#pf-list", OptionList).focus()
        await pilot.press("p")
        await settle(pilot, lambda: isinstance(app.screen, PlaygroundScreen))
        await pilot.pause()
        assert app.screen.query_one("#pg-models", Input).value == "anthropic:claude-test, profile:helpdesk"
        assert app.screen.query_one("#pg-system", Input).value == ""
