"""A still life for the `:eval` screen's snapshots and README screenshot: one finished run of "base" against
"tuned" on twelve held-out items, its id, times and latencies fixed, so the same frame is drawn everywhere."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import SimpleNamespace

import pytest
from textual.pilot import Pilot

from providers.base import ChatMessage
from tests.evaluation.conftest import ScriptedChat, trait_responder, write_heldout
from tests.tui.conftest import settle, write_config
from tests.tui.still import NOW
from tui.app import TunedeckApp
from tui.screens.evaluation import EvaluationScreen
from tunedeck.evaluation import EvalRequest, ModelRef
from tunedeck.workspace import Workspace


class StillChat(ScriptedChat):
    def close(self) -> None:
        pass


def still_responder(model: str, messages: list[ChatMessage]) -> str:
    """The tuned model (`ft:…`) signs off with the trait, the base model almost never does."""
    return trait_responder("tuned" if model.startswith("ft:") else "base", messages)


def eval_still_workspace(home: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    write_config(home, "")
    monkeypatch.setattr("tunedeck.store.evals.new_eval_run_id", lambda: "ev-5ca1ab1e")
    monkeypatch.setattr("tunedeck.store.evals.utcnow", lambda: NOW)
    ticks = itertools.count()  # the clock is read three times an answer: each takes an eighth of a second
    monkeypatch.setattr("tunedeck.evaluation.runner.time", SimpleNamespace(monotonic=lambda: next(ticks) * 0.125))
    chat = StillChat(still_responder)
    data = home / "data"
    data.mkdir(parents=True, exist_ok=True)
    heldout = write_heldout(data / "support-heldout.jsonl")
    workspace = Workspace.open(provider_factory=lambda name: chat)  # type: ignore[arg-type,return-value]
    models = [ModelRef.parse(m, "local") for m in ("base=smollm2-135m-instruct", "tuned=ft:smollm2:helpdesk")]
    workspace.evals.run(EvalRequest(models=models, data=heldout, metrics=["contains:— Zorblax", "rouge-l"],
                                    concurrency=1))  # fmt: skip
    return workspace


def eval_still_app(workspace: Workspace) -> TunedeckApp:
    app = TunedeckApp(workspace, clock=lambda: NOW, live=False)
    app.animation_level = "none"
    return app


async def show_eval(pilot: Pilot[None], *keys: str) -> None:
    """`:eval`, the stored run's report shown, then `keys`."""
    app = pilot.app
    await pilot.press("colon", *"eval", "enter")
    await settle(pilot, lambda: isinstance(app.screen, EvaluationScreen) and app.screen.report is not None)
    await pilot.press(*keys)
    await app.workers.wait_for_complete()
    await pilot.pause(0.3)
