"""SVG snapshots of part 2's screens (the wizard's report, Datasets, the side-by-side Playground) from the still
life, at 120×40 and 80×24. `--snapshot-update` redraws them; behaviour lives in the Pilot tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.conftest import settle
from tests.tui.still import still_app, still_workspace
from tui.app import TunedeckApp

Compare = Callable[..., bool]


def write_support_dataset(data: Path) -> Path:
    """Twelve examples, the fifth without an answer: one error and the usual warnings."""
    rows = [(f"What is {i} plus {i}?", f"{2 * i}") for i in range(12)]
    lines = [json.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]})
             for q, a in rows]  # fmt: skip
    lines[4] = '{"messages": [{"role": "user", "content": "no answer here"}]}'
    path = data / "support.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def app(isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TunedeckApp:
    data = tmp_path / "data"
    data.mkdir()
    write_support_dataset(data)
    monkeypatch.chdir(data)
    # Latency figures come from the clock: a stepping one, counted per thread (each column streams on its own
    # worker, and a shared count would depend on how they interleave), draws the same columns every time.
    local = threading.local()

    def monotonic() -> float:
        local.ticks = getattr(local, "ticks", -1) + 1
        return float(local.ticks * 0.25)

    monkeypatch.setattr("tunedeck.chat.time", SimpleNamespace(monotonic=monotonic))
    return still_app(still_workspace(isolated_home, monkeypatch))


def _go(name: str, *keys: str, ready: Callable[[TunedeckApp], bool]) -> Callable[[Pilot[None]], object]:
    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, TunedeckApp)
        await pilot.press("colon", *name, "enter")
        await settle(pilot, lambda: type(app.screen).__name__.lower().startswith(name[:4]) or name == "new")
        await pilot.pause(0.2)
        for key in keys:
            if key.startswith("="):
                field, value = key[1:].split("=", 1)
                app.screen.query_one(f"#{field}", Input).value = value
            else:
                await pilot.press(key)
        await settle(pilot, lambda: ready(app), timeout=60)
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)

    return run_before


def _wizard_report(app: TunedeckApp) -> bool:
    return getattr(app.screen, "step", 0) == 1


def _played(app: TunedeckApp) -> bool:
    return len(getattr(app.screen, "replies", {})) == 2


def _validated(app: TunedeckApp) -> bool:
    return getattr(app.screen, "report", None) is not None


WIZARD = _go("new", "s", "u", "enter", "enter", ready=_wizard_report)
PLAYGROUND = _go("playground", "=pg-models=local:smollm2-135m-instruct, local:ft:smollm2:helpdesk",
                 "=pg-prompt=Reset my password", "enter", ready=_played)  # fmt: skip
DATASETS = _go("datasets", "=ds-path=support.jsonl", "enter", ready=_validated)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_wizard_report(app: TunedeckApp, snap_compare: Compare, size: tuple[int, int]) -> None:
    assert snap_compare(app, terminal_size=size, run_before=WIZARD)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_playground_side_by_side(app: TunedeckApp, snap_compare: Compare, size: tuple[int, int]) -> None:
    assert snap_compare(app, terminal_size=size, run_before=PLAYGROUND)


def test_datasets(app: TunedeckApp, snap_compare: Compare) -> None:
    assert snap_compare(app, terminal_size=(120, 40), run_before=DATASETS)
