"""Issue 11, item 8's promise that the local backend takes a CSV, kept end to end: `jobs submit support.csv -p
local` validates the CSV, uploads it in the chat JSONL the backend's file API takes (converted on the way), and
the job runs — on the real local server with a fast stand-in trainer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_dataset_wording import support_csv
from tests.cli.test_jobs_cli import run
from tests.conftest import MODEL_CACHE
from tests.providers.local_fixtures import ThreadServer


@pytest.fixture
def server(tmp_path: Path, isolated_home: Path) -> Iterator[ThreadServer]:
    backend = ThreadServer(tmp_path / "backend", MODEL_CACHE)
    config = isolated_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[local]\nbase_url = "{backend.base_url}"\n[monitor]\ninterval_s = 0.05\nmax_interval_s = 0.2\n')
    yield backend
    backend.stop()


def test_a_csv_submitted_to_the_local_backend_trains(server: ThreadServer, tmp_path: Path) -> None:
    path = support_csv(tmp_path / "support.csv", ("input_text", "output_text"))
    code, out, err = run(
        "jobs", "submit", str(path), "-p", "local", "-m", "SmolLM2-135M-Instruct", "--yes", "--watch", "--json"
    )
    assert code == 0, err
    job = json.loads(out)
    assert job["state"] == "succeeded" and job["base_model"] == "smollm2-135m-instruct"
    assert job["fine_tuned_model"].startswith("ft:smollm2-135m-instruct:")
    uploaded = list((tmp_path / "backend").rglob("*.jsonl"))
    assert uploaded and all("input_text" not in p.read_text() for p in uploaded)  # chat JSONL, not the CSV
    # The same CSV again: recognised by its content, not uploaded (nor converted) a second time.
    code, out, err = run("jobs", "submit", str(path), "-p", "local", "-m", "smollm2-135m-instruct", "--yes", "--json")
    assert code == 0, err
    assert len(list((tmp_path / "backend").rglob("*.jsonl"))) == len(uploaded)
