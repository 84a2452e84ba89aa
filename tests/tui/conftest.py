"""Fixtures for the terminal UI: a workspace over the test's temp home with an in-process provider (or the real
local backend, in the slow tests), a fast monitor, and `settle()` to wait for live updates without sleeping
longer than needed."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.app import App
from textual.pilot import Pilot

from providers.base import MANAGED_BY_LABEL, Endpoint, TuningSpec
from tests.core.fakes import T0, FakeProvider
from tunedeck.store import JobRecord
from tunedeck.workspace import Workspace

FAST_MONITOR = "[monitor]\ninterval_s = 0.05\nmax_interval_s = 0.1\n"


class LocalFake(FakeProvider):
    """The fake under the local backend's name, so validation and prices treat its jobs as local ones."""

    name = "local"

    def close(self) -> None:
        pass


def write_config(home: Path, text: str) -> None:
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text, encoding="utf-8")


@pytest.fixture
def fake() -> LocalFake:
    provider = LocalFake()
    ours = {MANAGED_BY_LABEL: "tunedeck"}
    provider.endpoints = {
        "ft:smol:a": Endpoint("ft:smol:a", "local", "ft:smol:a", "ft:smol:a", 0.5, "local", 1, T0, T0, ours),
        "theirs": Endpoint("theirs", "local", "theirs", "someone-elses", 2.0, "n1", 1, T0, None, {}),
    }
    return provider


@pytest.fixture
def workspace(isolated_home: Path, fake: LocalFake) -> Iterator[Workspace]:
    write_config(isolated_home, FAST_MONITOR)
    ws = Workspace.open(provider_factory=lambda name: fake)
    try:
        yield ws
    finally:
        ws.close()


def tiny_dataset(directory: Path, rows: int = 12) -> Path:
    path = directory / "tiny.jsonl"
    turns = [(f"What is {i} plus {i}?", f"{2 * i}") for i in range(rows)]
    lines = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]} for q, a in turns]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def submit(ws: Workspace, dataset: Path, *, suffix: str = "tiny", **spec: object) -> JobRecord:
    """A job submitted the way every front end does: plan (validate, price), then submit."""
    wanted = TuningSpec(base_model="smollm2-135m-instruct", training_file="", suffix=suffix, **spec)  # type: ignore[arg-type]
    plan = ws.jobs.plan("local", wanted, dataset)
    assert plan.ok, plan.report
    return ws.jobs.submit(plan)


async def settle(pilot: Pilot[None], ready: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    """Pause the pilot until `ready()` holds (live updates come from threads), or fail saying what never came."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or ready}")
        await pilot.pause(0.05)


@dataclass
class Note:
    message: str
    title: str
    severity: str


def record_notifications(app: App[None]) -> list[Note]:
    """Every notification the app shows from now on (toasts expire; this list does not)."""
    notes: list[Note] = []
    show = app.notify

    def notify(message: str, *, title: str = "", severity: Any = "information", **rest: Any) -> None:
        notes.append(Note(message, title, severity))
        show(message, title=title, severity=severity, **rest)

    app.notify = notify  # type: ignore[method-assign]
    return notes


def screen_text(app: App[None]) -> str:
    """What the terminal shows now, as plain text (for assertions on what a user reads)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, color_system=None, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()
