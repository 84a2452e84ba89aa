"""A finished job's result file on the local server: listed in `result_files`, served through the Files API as
OpenAI's `step_metrics.csv` (same columns), and valid against OpenAI's published schemas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localbackend.basemodel import BASE_MODEL_ID
from localbackend.server.result_files import COLUMNS, metrics_csv
from localbackend.server.state import ServerConfig
from tests.backend.test_openai_conformance import check, spec  # noqa: F401 - fixtures
from tests.backend.test_server_support import ThreadServer, jsonl, openai_client, raw, wait_until
from tests.conftest import MODEL_CACHE

GOOD = [[{"role": "user", "content": f"Q{i}?"}, {"role": "assistant", "content": f"A{i}."}] for i in range(4)]


def test_metrics_csv_has_openais_columns_and_leaves_unmeasured_cells_empty() -> None:
    rows = [
        {"step": 2, "train_loss": 1.0, "train_mean_token_accuracy": 0.5, "valid_loss": None},
        {"step": 1, "train_loss": 2.0, "train_mean_token_accuracy": 0.25, "valid_loss": 2.5,
         "valid_mean_token_accuracy": 0.2},
        {"message": "no step"},
        {"step": 2, "train_loss": 0.9, "train_mean_token_accuracy": 0.6},  # a resumed step: the last one wins
    ]  # fmt: skip
    lines = metrics_csv(rows).splitlines()
    assert lines == [",".join(COLUMNS), "1,2,0.25,2.5,0.2", "2,0.9,0.6,,"]
    assert COLUMNS == ("step", "train_loss", "train_accuracy", "valid_loss", "valid_mean_token_accuracy")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    config = ServerConfig(
        data_dir=tmp_path_factory.mktemp("results"), cache_dir=MODEL_CACHE,
        train_fn="tests.backend.test_server_support:fake_train",
    )  # fmt: skip
    srv = ThreadServer(config)
    yield srv
    srv.stop()


def test_a_succeeded_job_serves_its_step_metrics(server: ThreadServer, check: Any, tmp_path: Path) -> None:  # noqa: F811
    client = openai_client(server.base_url)
    training = client.files.create(file=("t.jsonl", jsonl(GOOD)), purpose="fine-tune").id
    job = client.fine_tuning.jobs.create(model=BASE_MODEL_ID, training_file=training)
    assert job.result_files == []  # nothing until it has succeeded
    done = wait_until(lambda: (j := client.fine_tuning.jobs.retrieve(job.id)).status == "succeeded" and j, 60, "job")
    assert len(done.result_files) == 1
    result_id = done.result_files[0]
    check(raw(server.base_url, "GET", f"/v1/fine_tuning/jobs/{job.id}").json(), "FineTuningJob")
    info = raw(server.base_url, "GET", f"/v1/files/{result_id}").json()
    check(info, "OpenAIFile")
    assert info["purpose"] == "fine-tune-results" and info["filename"] == "step_metrics.csv"
    content = client.files.content(result_id).read().decode()
    table = list(csv.DictReader(io.StringIO(content)))
    assert list(table[0]) == list(COLUMNS)
    assert [int(r["step"]) for r in table] == list(range(1, 7))  # fake_train's 6 steps
    assert float(table[0]["train_loss"]) == pytest.approx(2.0) and float(table[-1]["train_accuracy"]) == 0.6
    assert {r["valid_loss"] for r in table} == {""}  # no validation file: the column is there, empty
    assert info["bytes"] == len(content.encode())
    # Asked again it is the same file; it is listed with the other files now that it exists.
    assert client.files.content(result_id).read().decode() == content
    assert result_id in {f.id for f in client.files.list(purpose="fine-tune-results")}


def test_unknown_or_unfinished_result_files_are_404(server: ThreadServer) -> None:
    assert raw(server.base_url, "GET", "/v1/files/file-results-0123456789abcdef01234567").status_code == 404
    assert raw(server.base_url, "GET", "/v1/files/file-results-nope/content").status_code == 404
