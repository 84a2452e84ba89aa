"""The app over the real embedded local backend (slow: it trains SmolLM2 with LoRA on the CPU).

A real `tunedeck serve` on a free port trains a tiny job submitted through the workspace; the Jobs screen
follows it to `succeeded`, its page shows the metrics and the chart, a chat loads the tuned model, which
appears on Endpoints; `d` then `esc` keeps it, `d` then `y` unloads it, and the CLI's `endpoints list --json`
agrees each time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.base import ChatMessage, TuningSpec
from tests.backend.test_server_support import ServeProcess
from tests.cli.test_jobs_cli import run as run_cli
from tests.cli.test_local_e2e import QA
from tests.tui.conftest import FAST_MONITOR, screen_text, settle, write_config
from tui.app import TunedeckApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.endpoints import EndpointsScreen
from tui.screens.job_detail import JobDetailScreen
from tui.widgets.endpoint_table import EndpointTable
from tui.widgets.job_table import JobTable
from tui.widgets.loss_chart import LossChart
from tunedeck.settings import load_settings
from tunedeck.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture
def server(isolated_home: Path) -> Iterator[ServeProcess]:
    write_config(isolated_home, FAST_MONITOR)
    serve = ServeProcess(load_settings().data_dir / "local-backend", isolated_home)
    try:
        yield serve
    finally:
        serve.stop()


def loaded_models() -> list[str]:
    code, out, err = run_cli("endpoints", "list", "--json")
    assert code == 0, err
    return [view["id"] for view in json.loads(out)["ours"]]


async def test_train_watch_chat_and_unload_on_the_local_backend(server: ServeProcess, tmp_path: Path) -> None:
    dataset = tmp_path / "tiny.jsonl"
    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]} for q, a in QA]
    dataset.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    workspace = Workspace.open()
    try:
        app = TunedeckApp(workspace)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot, lambda: app.header_state.running is not None)
            spec = TuningSpec("smollm2-135m-instruct", "", suffix="tui", n_epochs=2, batch_size=1,
                              learning_rate_multiplier=2.0)  # fmt: skip
            plan = await asyncio.to_thread(workspace.jobs.plan, "local", spec, dataset)
            job = await asyncio.to_thread(workspace.jobs.submit, plan)
            table = app.screen.query_one(JobTable)

            def state() -> str:
                row = table.rows_by_id.get(job.id)  # known at once, its cells drawn in the next slice
                return row.cells["state"][0] if row and row.cells else ""

            await settle(pilot, lambda: state() == "running", timeout=300, what="running")
            await settle(pilot, lambda: state() == "succeeded", timeout=900, what="succeeded")
            assert table.rows_by_id[job.id].cells["progress"][0] == "8/8"

            table.move_cursor(row=table.get_row_index(job.id))
            await pilot.press("enter")
            await settle(pilot, lambda: isinstance(app.screen, JobDetailScreen) and app.screen.checkpoint_models)
            assert [step for step, _ in app.screen.query_one(LossChart).train] == [float(s) for s in range(1, 9)]
            assert "step 8/8" in screen_text(app) and "succeeded" in screen_text(app)
            model = workspace.jobs.find(job.id).fine_tuned_model
            assert model and model in app.screen.checkpoint_models

            await pilot.press("escape", "colon", *"endpoints", "enter")
            await settle(pilot, lambda: isinstance(app.screen, EndpointsScreen))
            reply = await asyncio.to_thread(workspace.reply, "local", model, [ChatMessage("user", "What is 2 plus 2?")],
                                            max_tokens=8)  # fmt: skip
            assert reply.reply.strip()
            endpoints = app.screen.query_one(EndpointTable)
            key = f"local:{model}"
            await settle(pilot, lambda: key in endpoints.rows, timeout=60, what="the loaded model on Endpoints")
            assert model in loaded_models()

            endpoints.move_cursor(row=endpoints.get_row_index(key))
            await pilot.press("d")
            await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("escape")
            await settle(pilot, lambda: isinstance(app.screen, EndpointsScreen))
            assert key in endpoints.rows and model in loaded_models()

            await pilot.press("d")
            await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await settle(pilot, lambda: key not in endpoints.rows, timeout=60, what="the unload")
            assert model not in loaded_models()
    finally:
        workspace.close()
