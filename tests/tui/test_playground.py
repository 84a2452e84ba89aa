"""Pilot tests of the Playground: one prompt streams into two columns with latency and tokens, held-out prompts
replay with a key each, and `b` records which answer was better (the CLI's `preferences list` agrees)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from providers.base import ChatChunk, ChatMessage
from tests.cli.test_jobs_cli import run as run_cli
from tests.profiles.conftest import profile_dir  # noqa: F401 - a fixture
from tests.tui.conftest import LocalFake, record_notifications, settle
from tui.app import TunedeckApp
from tui.screens.playground import PlaygroundScreen
from tunedeck.workspace import Workspace

TWO = "local:smollm2-135m-instruct, local:ft:smol:a"


class EchoFake(LocalFake):
    """Streams a reply that names the model and the prompt, piece by piece."""

    def chat(
        self, model: str, messages: list[ChatMessage], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[ChatChunk]:
        yield ChatChunk(f"{model} ")
        yield ChatChunk("says ")
        yield ChatChunk(messages[-1].content[:20], finish_reason="stop", prompt_tokens=4, completion_tokens=3)


async def open_playground(app: TunedeckApp, pilot: object) -> PlaygroundScreen:
    await pilot.press("colon", *"playground", "enter")  # type: ignore[attr-defined]
    await settle(pilot, lambda: isinstance(app.screen, PlaygroundScreen))  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, PlaygroundScreen)
    screen.query_one("#pg-models", Input).value = TWO
    return screen


def column_text(screen: PlaygroundScreen, i: int) -> str:
    return str(screen.texts[i].content)


async def test_side_by_side_streams_two_models_with_latency_and_tokens(isolated_home: Path) -> None:
    fake = EchoFake()
    ws = Workspace.open(provider_factory=lambda name: fake)
    app = TunedeckApp(ws)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_playground(app, pilot)
            screen.query_one("#pg-prompt", Input).focus()
            await pilot.press(*"hello", "enter")
            await settle(pilot, lambda: len(screen.replies) == 2, what="both replies")
            assert column_text(screen, 0) == "smollm2-135m-instruct says hello"
            assert column_text(screen, 1) == "ft:smol:a says hello"
            for i in (0, 1):
                subtitle = str(screen.columns[i].border_subtitle)
                assert "3 tokens" in subtitle and "first token" in subtitle
    finally:
        ws.close()


async def test_held_out_prompt_replays_by_key_and_b_records_the_preference(isolated_home: Path, tmp_path: Path) -> None:
    held_out = tmp_path / "valid.jsonl"
    rows = [("What is 2 plus 2?", "4"), ("Name a colour.", "blue")]
    held_out.write_text("".join(json.dumps({"messages": [{"role": "user", "content": q},
                                                         {"role": "assistant", "content": a}]}) + "\n"
                                for q, a in rows), encoding="utf-8")  # fmt: skip
    fake = EchoFake()
    ws = Workspace.open(provider_factory=lambda name: fake)
    app = TunedeckApp(ws)
    try:
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            notes = record_notifications(app)
            screen = await open_playground(app, pilot)
            field = screen.query_one("#pg-held-out", Input)
            field.value = str(held_out)
            field.focus()
            await pilot.press("enter")
            await settle(pilot, lambda: len(screen.held_out) == 2, what="the held-out prompts")
            assert "Name a colour." in str(screen.query_one("#pg-prompts", Static).content)
            screen.set_focus(None)  # keys reach the screen outside a text field
            await pilot.press("2")
            await settle(pilot, lambda: len(screen.replies) == 2, what="both replies")
            assert column_text(screen, 1) == "ft:smol:a says Name a colour."
            await pilot.press("b")
            await settle(pilot, lambda: any(n.title == "Preference recorded" for n in notes), what="the mark")
            await pilot.press("a")  # one mark per answer pair
            await pilot.pause()
    finally:
        ws.close()
    code, out, err = run_cli("preferences", "list", "--json",
                             workspace=lambda: Workspace.open(provider_factory=lambda name: fake))  # fmt: skip
    assert code == 0, err
    marks = json.loads(out)
    assert len(marks) == 1
    assert marks[0]["prompt"] == "Name a colour." and marks[0]["preferred"] == 1
    assert marks[0]["source"] == "valid.jsonl:2"
    assert [c["model"] for c in marks[0]["candidates"]] == ["smollm2-135m-instruct", "ft:smol:a"]


def test_cli_records_a_preference_and_refuses_a_bad_one(isolated_home: Path) -> None:
    fake = EchoFake()

    def make() -> Workspace:
        return Workspace.open(provider_factory=lambda name: fake)

    code, out, err = run_cli("preferences", "record", "--prompt", "hi", "-a", "local:base=hello",
                             "-a", "local:ft:x:y=hi there", "--better", "2", "--json", workspace=make)  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["candidates"][1] == {"provider": "local", "model": "ft:x:y", "reply": "hi there"}
    code, out, err = run_cli("preferences", "record", "--prompt", "hi", "-a", "local:base=hello",
                             "-a", "local:ft=hi", "--better", "3", workspace=make)  # fmt: skip
    assert code == 2 and "No answer number 3" in err
    code, out, _ = run_cli("preferences", "list", "--json", workspace=make)
    assert [m["preferred"] for m in json.loads(out)] == [1]


class ContextFake(LocalFake):
    """Answers with what reached it: whether the profile's system prompt did, whether a few-shot example did
    (a question from the profile's dataset), and how many messages came."""

    def chat(
        self, model: str, messages: list[ChatMessage], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[ChatChunk]:
        text = " ".join(m.content for m in messages)
        said = f"byte={'You are Byte' in text} retrieved={'<document' in text} messages={len(messages)}"
        yield ChatChunk(said, finish_reason="stop", completion_tokens=2)


async def test_a_profile_column_answers_through_the_profile_beside_base_and_tuned(
    profile_dir: Path,  # noqa: F811
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Base vs tuned vs a profile: the profile column carries the profile's system prompt and few-shot turns,
    the others get the bare prompt; a mark records the profile as `profile:NAME` on its own provider."""
    monkeypatch.chdir(profile_dir)
    fake = ContextFake()
    ws = Workspace.open(provider_factory=lambda name: fake)
    app = TunedeckApp(ws)
    try:
        async with app.run_test(size=(150, 40), notifications=True) as pilot:
            notes = record_notifications(app)
            screen = await open_playground(app, pilot)
            screen.query_one("#pg-models", Input).value = f"{TWO}, profile:helpdesk"
            screen.query_one("#pg-prompt", Input).focus()
            await pilot.press(*"vpn certificate error", "enter")
            await settle(pilot, lambda: len(screen.replies) == 3, what="three replies")
            bare = "byte=False retrieved=False messages=1"
            assert column_text(screen, 0) == column_text(screen, 1) == bare
            assert column_text(screen, 2).startswith("byte=True retrieved=True")
            assert "helpdesk" in str(screen.columns[2].border_title)
            assert "2 tokens" in str(screen.columns[2].border_subtitle)
            screen.set_focus(None)
            await pilot.press("c")
            await settle(pilot, lambda: any(n.title == "Preference recorded" for n in notes), what="the mark")
            assert "anthropic:profile:helpdesk" in next(n.message for n in notes if n.title == "Preference recorded")
            bad = screen.query_one("#pg-models", Input)
            bad.value = "profile:nobody"
            screen.query_one("#pg-prompt", Input).focus()
            await pilot.press(*"hi", "enter")
            await settle(pilot, lambda: any("nobody" in f"{n.title} {n.message}" for n in notes), what="the error")
    finally:
        ws.close()
    marks = Workspace.open(provider_factory=lambda name: fake).preferences()
    assert [(c.provider, c.model) for c in marks[0].candidates][2] == ("anthropic", "profile:helpdesk")
