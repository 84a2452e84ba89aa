"""`tunedeck migrate` on the real local server with a fast stand-in trainer and engine, the `openai` provider
pointed at it: every command, its --json and its documented errors, in seconds (the real model: test_e2e.py)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from localbackend.basemodel import BASE_MODEL_ID
from localbackend.server.state import ServerConfig
from tests.backend.fake_engine import EchoEngine
from tests.backend.test_server_support import ThreadServer, openai_client
from tests.conftest import MODEL_CACHE
from tests.data.helpers import run_cli as run
from tests.migration.helpers import HELD_OUT, QA, chat_lines, original_job, point_providers_at
from tests.providers.conftest import free_port
from tests.providers.local_fixtures import FAKE_TRAIN_FN, SLOW_SEED
from tunedeck.exitcodes import ExitCode

SECRET = "sk-proj-migrate-test-0123456789abcdefghij"


@pytest.fixture
def server(tmp_path: Path, isolated_home: Path) -> Iterator[ThreadServer]:
    config = ServerConfig(data_dir=tmp_path / "backend", cache_dir=MODEL_CACHE, train_fn=FAKE_TRAIN_FN)
    backend = ThreadServer(config, engine=EchoEngine())
    point_providers_at(isolated_home, backend.base_url)
    yield backend
    backend.stop()


def test_list_export_retrain_compare(server: ThreadServer, tmp_path: Path) -> None:
    job = original_job(server.base_url, n_epochs=2, batch_size=1, learning_rate_multiplier=0.5)
    assert job.status == "succeeded"

    code, out, err = run("migrate", "list", "--provider", "openai", "--json")
    assert code == ExitCode.OK, err
    listed = json.loads(out)
    assert listed["last_day_for_new_jobs"] == "2027-01-06" and isinstance(listed["days_left"], int)
    row = next(r for r in listed["fine_tunes"] if r["job_id"] == job.id)
    assert row["model"] == job.fine_tuned_model and row["base_model"] == job.model and row["created_at"]
    code, out, err = run("migrate", "list")
    assert code == ExitCode.OK and job.id in out and "2027-01-06" in err

    folder = tmp_path / "export"
    code, out, err = run("migrate", "export", job.id, "--out", str(folder), "--json")
    assert code == ExitCode.OK, err
    manifest = json.loads(out)["manifest"]
    kinds = {f["kind"]: f for f in manifest["saved"]}
    assert set(kinds) == {"job", "hyperparameters", "events", "training", "validation", "results", "golden"}
    assert (folder / "training.jsonl").read_bytes() == chat_lines(QA)
    assert (folder / "validation.jsonl").read_bytes() == chat_lines(HELD_OUT)
    metrics = list(csv.DictReader(io.StringIO((folder / "step_metrics.csv").read_text())))
    assert [int(r["step"]) for r in metrics] == [1, 2, 3, 4] and metrics[0]["train_loss"]
    events = json.loads((folder / "events.json").read_text())
    assert [e["metrics"]["step"] for e in events if e["metrics"]] == [1, 2, 3, 4]
    assert json.loads((folder / "hyperparameters.json").read_text()) == {
        "n_epochs": 2, "batch_size": 1, "learning_rate_multiplier": 0.5,
    }  # fmt: skip
    golden = [json.loads(line) for line in (folder / "golden.jsonl").read_text().splitlines()]
    assert [g["messages"][0]["content"] for g in golden] == [q for q, _ in HELD_OUT]
    assert golden[0]["messages"][-1]["content"] == "What is 3 plus 3?"  # the stand-in engine echoes
    assert manifest["golden"]["answered"] == 2 and manifest["golden"]["model"] == job.fine_tuned_model
    on_disk = json.loads((folder / "manifest.json").read_text())
    assert on_disk["saved"] == manifest["saved"] and on_disk["missing"] == []

    code, out, err = run("migrate", "retrain", str(folder), "--to", "local", "--yes", "--wait", "--json")
    assert code == ExitCode.OK, err
    done = json.loads(out)
    assert done["job"]["state"] == "succeeded" and done["job"]["provider"] == "local"
    assert done["plan"]["hyperparameters"]["n_epochs"] == 2 and done["plan"]["hyperparameters"]["batch_size"] == 1
    assert any("learning-rate multiplier 0.5" in n for n in done["plan"]["hyperparameters"]["notes"])
    comparison = done["comparison"]
    assert [m["label"] for m in comparison["models"]] == ["retrained", "base"]
    assert {m["name"] for m in comparison["metrics"]} >= {"token-f1", "rouge-l", "exact", "normalized"}
    assert json.loads((folder / "manifest.json").read_text())["retrain"]["job"] == done["job"]["id"]

    # The same retrain asked again finds the job it submitted: never a second one.
    code, out, err = run("migrate", "retrain", str(folder), "--to", "local", "--yes", "--json")
    assert code == ExitCode.OK, err
    assert json.loads(out)["job"]["id"] == done["job"]["id"]

    code, out, err = run("migrate", "compare", str(folder))
    assert code == ExitCode.OK, err
    assert "retrained" in out and "base" in out and "token-f1" in out


def test_export_errors_are_clear_and_write_nothing(server: ThreadServer, tmp_path: Path, isolated_home: Path) -> None:
    code, out, err = run("migrate", "export", "ftjob-doesnotexist", "--out", str(tmp_path / "a"), "--json")
    assert code == ExitCode.BAD_INPUT and "not found" in json.loads(out)["error"]["title"]
    assert not (tmp_path / "a").exists()

    client = openai_client(server.base_url)
    training = client.files.create(file=("t.jsonl", chat_lines(QA)), purpose="fine-tune").id
    slow = client.fine_tuning.jobs.create(model=BASE_MODEL_ID, training_file=training, seed=SLOW_SEED)
    client.fine_tuning.jobs.cancel(slow.id)
    code, out, err = run("migrate", "export", slow.id, "--out", str(tmp_path / "a"), "--json")
    assert code == ExitCode.BAD_INPUT and "only a succeeded job" in json.loads(out)["error"]["title"]
    assert not (tmp_path / "a").exists()

    plain = original_job(server.base_url, validation=False)
    code, out, err = run("migrate", "export", plain.id, "--out", str(tmp_path / "b"), "--json")
    assert code == ExitCode.USAGE and "--heldout" in json.loads(out)["error"]["hint"]
    assert not (tmp_path / "b").exists()

    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"messages": [{"role": "user", "content": "no answer"}]}\n')
    code, out, err = run("migrate", "export", plain.id, "--out", str(tmp_path / "b"), "--heldout", str(junk))
    assert code == ExitCode.BAD_INPUT and not (tmp_path / "b").exists(), err

    held = tmp_path / "held.jsonl"
    held.write_bytes(chat_lines(HELD_OUT))
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    code, out, err = run("migrate", "export", plain.id, "--out", str(taken), "--heldout", str(held), "--json")
    assert code == ExitCode.USAGE and "not empty" in json.loads(out)["error"]["title"]
    assert [p.name for p in taken.iterdir()] == ["keep.txt"]

    code, out, err = run("migrate", "export", plain.id, "--out", str(taken), "--heldout", str(held), "--overwrite",
                         "--limit", "1", "--json")  # fmt: skip
    assert code == ExitCode.OK, err
    manifest = json.loads(out)["manifest"]
    assert {m["kind"] for m in manifest["missing"]} == {"validation"}
    assert manifest["golden"]["asked"] == 1 and (taken / "heldout.jsonl").is_file() and (taken / "keep.txt").exists()

    point_providers_at(isolated_home, server.base_url, openai_url=f"http://127.0.0.1:{free_port()}/v1")
    code, out, err = run("migrate", "export", plain.id, "--out", str(tmp_path / "c"), "--json")
    assert code == ExitCode.UNAVAILABLE and json.loads(out)["error"]["title"].startswith("Could not reach")
    code, out, err = run("migrate", "list", "--json")
    assert code == ExitCode.UNAVAILABLE


def test_no_key_reaches_the_folder(server: ThreadServer, tmp_path: Path, isolated_home: Path) -> None:
    config = isolated_home / "config" / "config.toml"
    config.write_text(config.read_text().replace("[openai]\n", f'[openai]\napi_key = "{SECRET}"\n'))
    job = original_job(server.base_url)
    code, out, err = run("migrate", "export", job.id, "--out", str(tmp_path / "k"), "--json")
    assert code == ExitCode.OK, err
    for path in (tmp_path / "k").rglob("*"):
        assert SECRET not in path.read_text(errors="replace"), path
    assert SECRET not in out + err


def test_compare_before_retrain_and_unknown_folder(server: ThreadServer, tmp_path: Path) -> None:
    job = original_job(server.base_url)
    code, _, err = run("migrate", "export", job.id, "--out", str(tmp_path / "x"))
    assert code == ExitCode.OK, err
    code, out, _ = run("migrate", "compare", str(tmp_path / "x"), "--json")
    assert code == ExitCode.USAGE and "retrain" in json.loads(out)["error"]["hint"]
    code, out, _ = run("migrate", "compare", "ftjob-nowhere", "--json")
    assert code == ExitCode.USAGE and "No export folder" in json.loads(out)["error"]["title"]
    code, out, _ = run("migrate", "retrain", str(tmp_path / "x"), "--to", "azure", "--json")
    assert code == ExitCode.USAGE
    code, out, _ = run("migrate", "retrain", "ftjob-other", "--from", str(tmp_path / "x"), "--to", "local", "--json")
    assert code == ExitCode.USAGE and f"holds the export of {job.id}" in json.loads(out)["error"]["title"]


def test_a_deleted_file_is_listed_as_missing_and_retrain_says_why(server: ThreadServer, tmp_path: Path) -> None:
    job = original_job(server.base_url)
    openai_client(server.base_url).files.delete(job.training_file)
    code, out, err = run("migrate", "export", job.id, "--out", str(tmp_path / "d"), "--json")
    assert code == ExitCode.OK, err
    manifest = json.loads(out)["manifest"]
    [missing] = manifest["missing"]
    assert missing["kind"] == "training" and missing["source"] == job.training_file and "not found" in missing["reason"]
    assert not (tmp_path / "d" / "training.jsonl").exists() and (tmp_path / "d" / "golden.jsonl").is_file()
    code, out, _ = run("migrate", "retrain", str(tmp_path / "d"), "--to", "local", "--yes", "--json")
    assert code == ExitCode.BAD_INPUT and "no training file" in json.loads(out)["error"]["title"]
