"""The server's HTTP contract through the official SDKs: files, jobs (fake trainer), errors, pagination, auth.

A real uvicorn server on 127.0.0.1 with the real job runner and worker processes; only the training function
is a fast fake here (the real trainer runs end to end in test_server_e2e.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from localbackend.server.state import ServerConfig
from tests.backend.test_server_support import (
    ServeProcess,
    ThreadServer,
    anthropic_client,
    jsonl,
    openai_client,
    raw,
    server_env,
    wait_until,
)
from tests.conftest import MODEL_CACHE, REPO_ROOT

GOOD = [
    [{"role": "user", "content": f"Question {i}?"}, {"role": "assistant", "content": f"Answer {i}."}] for i in range(6)
]
UPLOAD_LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    data_dir = tmp_path_factory.mktemp("api-server")
    config = ServerConfig(
        data_dir=data_dir, cache_dir=MODEL_CACHE, max_upload_bytes=UPLOAD_LIMIT, max_body_bytes=UPLOAD_LIMIT,
        train_fn="tests.backend.test_server_support:fake_train",
    )  # fmt: skip
    srv = ThreadServer(config)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(server: ThreadServer) -> Any:
    return openai_client(server.base_url)


@pytest.fixture(scope="module")
def training_file(client: Any) -> str:
    return str(client.files.create(file=("train.jsonl", jsonl(GOOD)), purpose="fine-tune").id)


def wait_for_status(client: Any, job_id: str, statuses: set[str], timeout: float = 60) -> Any:
    return wait_until(
        lambda: (j := client.fine_tuning.jobs.retrieve(job_id)).status in statuses and j, timeout, statuses
    )


# --- files ---------------------------------------------------------------------------------------------------------
def test_file_upload_retrieve_download_delete(client: Any) -> None:
    data = jsonl(GOOD)
    created = client.files.create(file=("mine.jsonl", data), purpose="fine-tune")
    assert created.id.startswith("file-") and created.bytes == len(data) and created.filename == "mine.jsonl"
    assert created.purpose == "fine-tune" and created.status == "processed"
    assert client.files.retrieve(created.id).bytes == len(data)
    assert client.files.content(created.id).read() == data
    assert created.id in [f.id for f in client.files.list()]
    assert client.files.delete(created.id).deleted is True
    with pytest.raises(openai.NotFoundError) as err:
        client.files.retrieve(created.id)
    assert "No such File object" in err.value.message


def test_file_list_paginates_with_after_limit_has_more(client: Any) -> None:
    ids = [client.files.create(file=(f"p{i}.jsonl", jsonl(GOOD)), purpose="fine-tune").id for i in range(3)]
    first = client.files.list(limit=2)
    assert [f.id for f in first.data] == ids[::-1][:2] and first.has_more is True
    second = client.files.list(limit=2, after=first.data[-1].id)
    assert second.data[0].id == ids[0]
    ascending = client.files.list(limit=3, order="asc", after=ids[0])
    assert [f.id for f in ascending.data][:2] == ids[1:] and ascending.has_more is False


def test_invalid_file_is_rejected_with_line_numbered_reasons(client: Any) -> None:
    lines = [
        json.dumps({"messages": GOOD[0]}),
        "{not json",
        json.dumps({"messages": [{"role": "user", "content": "hi"}]}),
    ]
    with pytest.raises(openai.BadRequestError) as err:
        client.files.create(file=("bad.jsonl", "\n".join(lines).encode()), purpose="fine-tune")
    assert err.value.param == "file" and err.value.code == "invalid_file_format"
    assert "line 2" in err.value.message and "line 3" in err.value.message
    assert not any(f.filename == "bad.jsonl" for f in client.files.list())


def test_wrong_purpose_is_rejected(client: Any) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.files.create(file=("x.jsonl", jsonl(GOOD)), purpose="assistants")
    assert err.value.param == "purpose"


def test_oversized_upload_and_body_get_413(client: Any, server: ThreadServer) -> None:
    with pytest.raises(openai.APIStatusError) as err:
        client.files.create(file=("big.jsonl", jsonl(GOOD * 2000)), purpose="fine-tune")
    assert err.value.status_code == 413 and err.value.code == "request_too_large"
    huge = {"model": "smollm2-135m-instruct", "messages": [{"role": "user", "content": "x" * UPLOAD_LIMIT}]}
    response = raw(server.base_url, "POST", "/v1/chat/completions", json=huge)
    assert response.status_code == 413 and response.json()["error"]["type"] == "invalid_request_error"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while the body streams in
        for _ in range(UPLOAD_LIMIT // 1024 + 8):
            yield b"x" * 1024

    response = raw(server.base_url, "POST", "/v1/chat/completions", content=chunks(),
                   headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 413 and "limit" in response.json()["error"]["message"]


# --- error JSON ----------------------------------------------------------------------------------------------------
def test_malformed_json_gets_openai_and_anthropic_400s(server: ThreadServer) -> None:
    bad = {"content": b"{oops", "headers": {"content-type": "application/json"}}
    for path in ("/v1/chat/completions", "/v1/fine_tuning/jobs"):
        response = raw(server.base_url, "POST", path, **bad)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"} and "JSON" in error["message"]
    response = raw(server.base_url, "POST", "/v1/messages", **bad)
    assert response.status_code == 400
    assert response.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": response.json()["error"]["message"]},
    }


def test_unknown_model_and_route(client: Any, server: ThreadServer) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gpt-nope", messages=[{"role": "user", "content": "hi"}])
    assert err.value.code == "model_not_found" and err.value.param == "model"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("ft:smollm2-135m-instruct:local::ftjob-missing")
    import anthropic

    with pytest.raises(anthropic.NotFoundError) as aerr:
        anthropic_client(server.base_url).messages.create(
            model="claude-nope", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
        )
    assert aerr.value.body["error"]["type"] == "not_found_error"
    response = raw(server.base_url, "GET", "/v1/nothing-here")
    assert response.status_code == 404 and "Unknown request URL" in response.json()["error"]["message"]


def test_bad_chat_parameters(client: Any) -> None:
    messages = [{"role": "user", "content": "hi"}]
    for kwargs, param in (({"n": 2}, "n"), ({"temperature": 3}, "temperature"), ({"max_tokens": 10**6}, "max_tokens")):
        with pytest.raises(openai.BadRequestError) as err:
            client.chat.completions.create(model="smollm2-135m-instruct", messages=messages, **kwargs)
        assert err.value.param == param, err.value.message


def test_job_creation_errors(client: Any, training_file: str) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"training_file": "file-missing"}, "training_file"),
        ({"model": "gpt-4o-mini"}, "model"),
        ({"hyperparameters": {"n_epochs": 1, "warmup": 3}}, "hyperparameters.warmup"),
        ({"method": {"type": "supervised", "supervised": {"hyperparameters": {"bogus": 1}}}},
         "method.supervised.hyperparameters.bogus"),
        ({"method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 0}}}},
         "method.supervised.hyperparameters.n_epochs.int"),
        ({"method": {"type": "dpo"}}, "method.type"),
        ({"suffix": "has:colon"}, "suffix"),
    ]  # fmt: skip
    for override, param in cases:
        body = {"model": "smollm2-135m-instruct", "training_file": training_file, **override}
        with pytest.raises(openai.BadRequestError) as err:
            client.fine_tuning.jobs.create(**body)
        assert (err.value.param or "").startswith(param.split(".int")[0]), (override, err.value.param)
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.retrieve("ftjob-missing")


# --- jobs with the fake trainer ----------------------------------------------------------------------------------
def test_job_runs_in_a_worker_to_success(client: Any, training_file: str) -> None:
    job = client.fine_tuning.jobs.create(
        model="smollm2-135m-instruct", training_file=training_file, suffix="fake", seed=5,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 1, "lora_rank": 4}}},
    )  # fmt: skip
    assert job.status in {"validating_files", "queued", "running"} and job.seed == 5
    done = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"})
    assert done.status == "succeeded", done.error
    assert done.fine_tuned_model == f"ft:smollm2-135m-instruct:local:fake:{job.id}"
    assert done.trained_tokens == 60 and done.finished_at and done.error is None
    assert done.method.supervised.hyperparameters.model_extra["lora_rank"] == 4
    events = list(client.fine_tuning.jobs.list_events(job.id, limit=100))
    metrics = [e.data for e in reversed(events) if e.type == "metrics"]
    assert [m["step"] for m in metrics] == [1, 2, 3, 4, 5, 6]
    assert metrics[-1]["train_loss"] < metrics[0]["train_loss"]
    messages = [e.message for e in events]
    assert "Fine-tuning job started" in messages and "The job has successfully completed" in messages
    page = client.fine_tuning.jobs.list_events(job.id, limit=3)
    assert len(page.data) == 3 and page.has_more
    rest = client.fine_tuning.jobs.list_events(job.id, limit=100, after=page.data[-1].id)
    assert {e.id for e in page.data}.isdisjoint({e.id for e in rest.data}) and len(page.data) + len(rest.data) == len(
        events
    )
    ckpts = client.fine_tuning.jobs.checkpoints.list(job.id).data
    assert ckpts[0].fine_tuned_model_checkpoint == f"{done.fine_tuned_model}:ckpt-step-6" and ckpts[0].step_number == 6
    assert done.fine_tuned_model in [m.id for m in client.models.list()]
    assert client.models.retrieve(ckpts[0].fine_tuned_model_checkpoint).id == ckpts[0].fine_tuned_model_checkpoint
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.cancel(job.id)  # already finished
    assert client.models.delete(done.fine_tuned_model).deleted is True
    assert done.fine_tuned_model not in [m.id for m in client.models.list()]
    with pytest.raises(openai.PermissionDeniedError):
        client.models.delete("smollm2-135m-instruct")


def test_queue_runs_one_job_at_a_time_and_cancels(
    client: Any, training_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_STEP_S", "0.5")  # the spawned workers inherit it
    monkeypatch.setenv("FAKE_STEPS", "40")
    first = client.fine_tuning.jobs.create(model="smollm2-135m-instruct", training_file=training_file)
    second = client.fine_tuning.jobs.create(model="smollm2-135m-instruct", training_file=training_file)
    wait_until(
        lambda: any(e.type == "metrics" for e in client.fine_tuning.jobs.list_events(first.id).data), 60, "metrics"
    )
    assert client.fine_tuning.jobs.retrieve(first.id).status == "running"
    assert client.fine_tuning.jobs.retrieve(second.id).status == "queued"
    assert client.fine_tuning.jobs.cancel(second.id).status == "cancelled"
    started = time.monotonic()
    cancelled = client.fine_tuning.jobs.cancel(first.id)
    final = wait_for_status(client, first.id, {"cancelled", "failed", "succeeded"}, timeout=30)
    assert final.status == "cancelled" and time.monotonic() - started < 15, cancelled.status
    assert "Fine-tuning job cancelled" in [e.message for e in client.fine_tuning.jobs.list_events(first.id)]


def test_worker_crash_and_training_error_fail_the_job_not_the_server(client: Any, training_file: str) -> None:
    crashed = client.fine_tuning.jobs.create(model="smollm2-135m-instruct", training_file=training_file, seed=666)
    raised = client.fine_tuning.jobs.create(model="smollm2-135m-instruct", training_file=training_file, seed=777)
    crash = wait_for_status(client, crashed.id, {"failed", "succeeded", "cancelled"})
    assert crash.status == "failed" and crash.error.code == "worker_crashed" and "SIGKILL" in crash.error.message
    error = wait_for_status(client, raised.id, {"failed", "succeeded", "cancelled"})
    assert error.status == "failed" and "fake trainer exploded" in error.error.message
    assert client.models.list().data  # the server still answers


def test_jobs_list_pagination_and_metadata_filter(client: Any, training_file: str) -> None:
    tag = f"run-{time.monotonic_ns()}"
    ids = []
    for i in range(3):
        job = client.fine_tuning.jobs.create(
            model="smollm2-135m-instruct",
            training_file=training_file,
            metadata={"batch": tag, "i": str(i)},
            hyperparameters={"n_epochs": i + 1},  # the older top-level form
        )
        assert job.hyperparameters.n_epochs == i + 1 and job.method.type == "supervised"
        ids.append(job.id)
        client.fine_tuning.jobs.cancel(job.id)
    page = client.fine_tuning.jobs.list(limit=2, metadata={"batch": tag})
    assert [j.id for j in page.data] == [ids[2], ids[1]] and page.has_more
    rest = client.fine_tuning.jobs.list(limit=2, after=page.data[-1].id, metadata={"batch": tag})
    assert [j.id for j in rest.data] == [ids[0]] and not rest.has_more
    only = client.fine_tuning.jobs.list(metadata={"batch": tag, "i": "1"})
    assert [j.id for j in only.data] == [ids[1]] and only.data[0].metadata == {"batch": tag, "i": "1"}
    assert client.fine_tuning.jobs.list(metadata={"batch": "nope"}).data == []


# --- auth and binding ------------------------------------------------------------------------------------------------
def test_api_key_is_required_when_set(tmp_path: Path) -> None:
    config = ServerConfig(data_dir=tmp_path / "auth", cache_dir=MODEL_CACHE, api_key="s3cret-key")
    srv = ThreadServer(config)
    try:
        with pytest.raises(openai.AuthenticationError) as err:
            openai_client(srv.base_url, api_key="wrong").models.list()
        assert "s3cret" not in err.value.message and "wrong" not in err.value.message
        response = raw(srv.base_url, "GET", "/v1/models")
        assert response.status_code == 401 and response.json()["error"]["type"] == "authentication_error"
        assert openai_client(srv.base_url, api_key="s3cret-key").models.list().data[0].id == "smollm2-135m-instruct"
        import anthropic

        with pytest.raises(anthropic.AuthenticationError):
            anthropic_client(srv.base_url, api_key="wrong").messages.create(
                model="smollm2-135m-instruct", max_tokens=1, messages=[{"role": "user", "content": "hi"}]
            )
        assert raw(srv.base_url, "GET", "/health").json() == {"status": "ok"}
    finally:
        srv.stop()


def test_serve_refuses_a_public_host_without_a_key(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tunedeck", "serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60, env=server_env(tmp_path / "home"), cwd=REPO_ROOT,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "without an API key" in result.stderr and not (tmp_path / "server.json").exists()


def test_health_is_plain_json(server: ThreadServer) -> None:
    assert httpx.get(server.base_url.removesuffix("/v1") + "/health").json() == {"status": "ok"}


def test_restart_resumes_the_running_job_from_its_checkpoint_and_requeues_the_queued_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_STEP_S", "0.3")
    monkeypatch.setenv("FAKE_STEPS", "100")
    config = ServerConfig(
        data_dir=tmp_path / "restart", cache_dir=MODEL_CACHE, train_fn="tests.backend.test_server_support:fake_train"
    )
    srv = ThreadServer(config)
    try:
        client = openai_client(srv.base_url)
        file_id = client.files.create(file=("t.jsonl", jsonl(GOOD)), purpose="fine-tune").id
        running = client.fine_tuning.jobs.create(model="smollm2-135m-instruct", training_file=file_id)
        queued = client.fine_tuning.jobs.create(model="smollm2-135m-instruct", training_file=file_id)
        wait_until(lambda: client.fine_tuning.jobs.checkpoints.list(running.id).data, 60, "first checkpoint")
        assert client.fine_tuning.jobs.retrieve(queued.id).status == "queued"
    finally:
        srv.stop()
    monkeypatch.setenv("FAKE_STEP_S", "0.02")
    monkeypatch.setenv("FAKE_STEPS", "5")
    srv = ThreadServer(config)
    try:
        client = openai_client(srv.base_url)
        for job_id in (running.id, queued.id):
            done = wait_for_status(client, job_id, {"succeeded", "failed", "cancelled"})
            assert done.status == "succeeded", done.error
        messages = [e.message for e in client.fine_tuning.jobs.list_events(running.id, limit=200)]
        assert any("will resume after step 2" in m for m in messages) and "Resumed at step 3" in messages
        steps = [
            e.data["step"] for e in client.fine_tuning.jobs.list_events(running.id, limit=200) if e.type == "metrics"
        ]
        assert steps[0] == 5 and 3 in steps  # newest first: the resumed run went on from step 3
        assert client.files.retrieve(file_id).filename == "t.jsonl"
    finally:
        srv.stop()


def test_one_server_per_data_dir_and_server_json(tmp_path: Path) -> None:
    first = ServeProcess(tmp_path / "shared", tmp_path / "home")
    try:
        info = json.loads((tmp_path / "shared" / "server.json").read_text())
        assert info["host"] == "127.0.0.1" and info["port"] > 0 and info["base_url"] == first.base_url
        assert "listening on " + first.base_url in first.log()
        second = subprocess.run(
            [sys.executable, "-m", "tunedeck", "serve", "--port", "0", "--data-dir", str(tmp_path / "shared")],
            capture_output=True, text=True, timeout=60, env=server_env(tmp_path / "home"), cwd=REPO_ROOT,
        )  # fmt: skip
        assert second.returncode == 3 and "already using" in second.stderr
        assert raw(first.base_url, "GET", "/health").json() == {"status": "ok"}
    finally:
        assert first.stop() is not None
    assert not (tmp_path / "shared" / "server.json").exists()


def test_serve_help_and_the_app_module_do_not_import_torch() -> None:
    code = (
        "import sys, json, localbackend.server.app\n"
        "from typer.testing import CliRunner\n"
        "from tunedeck.cli.main import app\n"
        "result = CliRunner().invoke(app, ['serve', '--help'])\n"
        "heavy = [m for m in ('torch', 'transformers', 'peft', 'openai', 'anthropic') if m in sys.modules]\n"
        "print(json.dumps([result.exit_code, '--idle-unload' in result.output, heavy]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [0, True, []], out.stderr
