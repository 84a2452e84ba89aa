"""The migration flow end to end with the local backend standing in for OpenAI (it speaks the same API): a real
`tunedeck serve` trains a tiny job made with the OpenAI SDK; `migrate list` shows it, `migrate export` saves its
files, per-step metrics and golden answers, and `migrate retrain --to local --yes --wait` trains a comparable job
and prints the comparison with the golden answers.

Two steps per training (4 short examples, batch 2, 1 epoch) and 8-token answers keep it well under a minute and a
half on a quiet 2-core machine; the fast tests (test_flow_fake.py) cover every option and error.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backend.test_server_support import ServeProcess
from tests.data.helpers import run_cli as run
from tests.migration.helpers import HELD_OUT, original_job, point_providers_at
from tunedeck.exitcodes import ExitCode
from tunedeck.settings import load_settings

pytestmark = pytest.mark.slow


@pytest.fixture
def server(isolated_home: Path) -> Iterator[ServeProcess]:
    serve = ServeProcess(load_settings().data_dir / "local-backend", isolated_home)
    point_providers_at(isolated_home, serve.base_url)
    try:
        yield serve
    finally:
        serve.stop()


def test_list_export_retrain_compare_on_the_real_model(server: ServeProcess, tmp_path: Path) -> None:
    job = original_job(server.base_url, timeout=300, n_epochs=1, batch_size=2)
    assert job.status == "succeeded", server.log()

    code, out, err = run("migrate", "list", "--json")
    assert code == ExitCode.OK, err
    [row] = [r for r in json.loads(out)["fine_tunes"] if r["job_id"] == job.id]
    assert row["model"] == job.fine_tuned_model and row["state"] == "succeeded"

    folder = tmp_path / "export"
    code, out, err = run("migrate", "export", job.id, "--out", str(folder), "--max-tokens", "8", "--json")
    assert code == ExitCode.OK, err + server.log()
    manifest = json.loads(out)["manifest"]
    assert {f["kind"] for f in manifest["saved"]} == {
        "job", "hyperparameters", "events", "training", "validation", "results", "golden",
    }  # fmt: skip
    metrics = list(csv.DictReader(io.StringIO((folder / "step_metrics.csv").read_text())))
    assert [int(r["step"]) for r in metrics] == [1, 2]
    assert all(float(r["train_loss"]) > 0 and 0 <= float(r["train_accuracy"]) <= 1 for r in metrics)
    golden = (folder / "golden.jsonl").read_text().splitlines()
    assert len(golden) == len(HELD_OUT) and all(json.loads(g)["messages"][-1]["content"].strip() for g in golden)

    code, out, err = run("migrate", "retrain", str(folder), "--to", "local", "--yes", "--wait")
    assert code == ExitCode.OK, err + server.log()
    assert "learning-rate multiplier" not in err or "note:" in err
    assert "batch size 2: carried over" in err  # the mapping said what it did
    for shown in ("retrained", "base", "token-f1", "rouge-l", "exact", "normalized"):
        assert shown in out, out
    retrain = json.loads((folder / "manifest.json").read_text())["retrain"]
    assert retrain["target"] == "local" and retrain["hyperparameters"]["n_epochs"] == 1
