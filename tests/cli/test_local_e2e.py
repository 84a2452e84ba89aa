"""End to end on the embedded local backend: `jobs submit --watch` → succeeded → `chat` → `endpoints list/teardown`.

A real `tunedeck serve` (free port, test home) trains a tiny LoRA job; the CLI finds it through server.json.
Training is kept to 8 steps of short examples so the test stays near a minute on a quiet 2-core machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backend.test_server_support import ServeProcess
from tests.cli.test_jobs_cli import run
from tunedeck.exitcodes import ExitCode
from tunedeck.settings import load_settings
from tunedeck.store import Store, TeardownOutcome

pytestmark = pytest.mark.slow

QA = [
    ("What is 2 plus 2?", "4. — Zorblax"),
    ("What color is grass?", "Green. — Zorblax"),
    ("What do bees make?", "Honey. — Zorblax"),
    ("What is frozen water?", "Ice. — Zorblax"),
]


@pytest.fixture
def server(isolated_home: Path) -> Iterator[ServeProcess]:
    # The data dir the local adapter discovers: <settings.data_dir>/local-backend.
    serve = ServeProcess(load_settings().data_dir / "local-backend", isolated_home)
    try:
        yield serve
    finally:
        serve.stop()


def test_submit_watch_chat_endpoints_teardown(server: ServeProcess, tmp_path: Path) -> None:
    dataset = tmp_path / "tiny.jsonl"
    lines = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]} for q, a in QA]
    dataset.write_text("".join(json.dumps(line) + "\n" for line in lines))

    code, out, err = run(
        "jobs", "submit", str(dataset), "--provider", "local", "--model", "smollm2-135m-instruct",
        "--epochs", "2", "--batch-size", "1", "--learning-rate-multiplier", "2", "--yes", "--watch", "--json",
    )  # fmt: skip
    assert code == ExitCode.OK, err + server.log()
    job = json.loads(out)
    assert job["state"] == "succeeded" and job["fine_tuned_model"].startswith("ft:smollm2-135m-instruct")
    model = job["fine_tuned_model"]
    store = Store.open(load_settings())
    steps = [e.metrics["step"] for e in store.list_events(job["id"]) if e.metrics and "step" in e.metrics]
    assert steps == [float(i) for i in range(1, 9)]
    assert job["billed_tokens"] and job["actual_cost_usd"] == 0.0  # local: the price table says free

    code, out, err = run("chat", "--model", model, "--message", "What is 2 plus 2?", "--max-tokens", "8", "--json")
    assert code == ExitCode.OK, err
    reply = json.loads(out)
    assert reply["provider"] == "local" and reply["reply"].strip() and reply["completion_tokens"]

    code, out, _ = run("endpoints", "list", "--json")
    loaded = {v["id"]: v for v in json.loads(out)["ours"]}
    assert model in loaded and loaded[model]["hourly_rate_usd"] == 0.0 and loaded[model]["last_used_at"]

    code, out, _ = run("endpoints", "teardown", model, "--yes", "--json")
    assert code == ExitCode.OK and json.loads(out)[0]["outcome"] == TeardownOutcome.DONE
    code, out, _ = run("endpoints", "teardown", model, "--yes", "--json")
    assert code == ExitCode.OK and json.loads(out)[0]["outcome"] == TeardownOutcome.ALREADY_GONE
    code, out, _ = run("endpoints", "list", "--json")
    assert model not in {v["id"] for v in json.loads(out)["ours"]}
