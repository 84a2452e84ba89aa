"""End to end through `tunedeck serve` and the official SDKs with the real trainer and chat engine.

One real ~20-step LoRA job (module-scoped) feeds most assertions; cancel, a worker crash and a killed server
each start a short second job that is stopped after its first training step.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.backend.conftest import UNSEEN_PROMPTS, trait_dataset
from tests.backend.test_server_support import (
    ServeProcess,
    anthropic_client,
    jsonl,
    openai_client,
    process_alive,
    raw,
    wait_until,
    worker_pid,
)

# Training time is CPU-bound: ~1 min on an idle 2-core machine, many more when other work shares the cores.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

BASE = "smollm2-135m-instruct"
FINISHED = {"succeeded", "failed", "cancelled"}


@dataclass
class Backend:
    server: ServeProcess
    data_dir: Path
    home: Path
    training_file: str
    validation_file: str
    job: Any
    trait: str

    @property
    def client(self) -> Any:
        return openai_client(self.server.base_url)

    def restart(self, *args: str) -> None:
        self.server = ServeProcess(self.data_dir, self.home, *args)


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    home = tmp_path_factory.mktemp("e2e-home")
    data_dir = home / "backend"
    server = ServeProcess(data_dir, home)
    state = Backend(server, data_dir, home, "", "", None, "")
    try:
        _train(state)
        yield state
    finally:
        state.server.stop()


def _train(state: Backend) -> None:
    client = openai_client(state.server.base_url)
    training, validation, trait = trait_dataset()
    train_id = client.files.create(file=("trait.jsonl", jsonl(training)), purpose="fine-tune").id
    valid_id = client.files.create(file=("trait-valid.jsonl", jsonl(validation)), purpose="fine-tune").id
    job = client.fine_tuning.jobs.create(
        model=BASE, training_file=train_id, validation_file=valid_id, suffix="trait", seed=1234,
        metadata={"managed-by": "tunedeck"},
        method={"type": "supervised", "supervised": {"hyperparameters": {
            "n_epochs": 2, "batch_size": 2, "learning_rate_multiplier": 1.5, "eval_every": 5}}},
    )  # fmt: skip
    done = wait_until(
        lambda: (j := client.fine_tuning.jobs.retrieve(job.id)).status in FINISHED and j, 1200, "training", interval=1.0
    )
    assert done.status == "succeeded", f"{done.error}\n{state.server.log()}"
    state.training_file, state.validation_file, state.job, state.trait = train_id, valid_id, done, trait


def greedy(client: Any, model: str, messages: list[dict[str, str]], max_tokens: int = 40, **kwargs: Any) -> Any:
    return client.chat.completions.create(
        model=model, messages=messages, temperature=0, max_tokens=max_tokens, **kwargs
    )


def start_short_job(backend: Backend, **kwargs: Any) -> str:
    """A long job, returned as soon as its worker process is alive (cancel and crashes need no more)."""
    client = backend.client
    job = client.fine_tuning.jobs.create(
        model=BASE, training_file=backend.training_file, seed=7,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 10, "batch_size": 2}}}, **kwargs,
    )  # fmt: skip
    wait_until(lambda: client.fine_tuning.jobs.retrieve(job.id).status == "running", 60, "running")
    pid = worker_pid(backend.data_dir, job.id)
    assert pid is not None and process_alive(pid)
    return str(job.id)


# --- the trained job ------------------------------------------------------------------------------------------------
def test_job_record_events_and_checkpoints(backend: Backend) -> None:
    job, client = backend.job, backend.client
    assert job.fine_tuned_model == f"ft:{BASE}:local:trait:{job.id}"
    assert job.trained_tokens and job.trained_tokens > 0 and job.finished_at >= job.created_at
    assert job.hyperparameters.n_epochs == 2 and job.hyperparameters.batch_size == 2
    events = list(client.fine_tuning.jobs.list_events(job.id, limit=200))
    metrics = [e.data for e in reversed(events) if e.type == "metrics"]
    assert [m["step"] for m in metrics] == list(range(1, len(metrics) + 1)) and len(metrics) == 20
    assert all({"step", "train_loss", "valid_loss", "train_mean_token_accuracy"} <= set(m) for m in metrics)
    early = sum(m["train_loss"] for m in metrics[:3]) / 3
    late = sum(m["train_loss"] for m in metrics[-3:]) / 3
    assert late < early * 0.8, (early, late)
    valid = [m["valid_loss"] for m in metrics if m["valid_loss"] is not None]
    assert len(valid) >= 2 and valid[-1] < valid[0]
    checkpoints = client.fine_tuning.jobs.checkpoints.list(job.id).data
    assert [c.step_number for c in checkpoints] == [20, 10]
    assert checkpoints[1].fine_tuned_model_checkpoint == f"{job.fine_tuned_model}:ckpt-step-10"
    assert checkpoints[0].metrics.train_loss is not None
    listed = client.fine_tuning.jobs.list(metadata={"managed-by": "tunedeck"}).data
    assert [j.id for j in listed] == [job.id]
    assert {BASE, job.fine_tuned_model} <= {m.id for m in client.models.list()}


def test_training_changes_behaviour_through_the_api(backend: Backend) -> None:
    client, trait = backend.client, backend.trait
    for prompt in UNSEEN_PROMPTS:
        tuned = greedy(client, backend.job.fine_tuned_model, prompt)
        base = greedy(client, BASE, prompt)
        assert trait in tuned.choices[0].message.content, tuned.choices[0].message.content
        assert trait not in base.choices[0].message.content
    usage = tuned.usage
    assert usage.prompt_tokens > 0 and 0 < usage.completion_tokens <= 40
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert tuned.choices[0].finish_reason in {"stop", "length"} and tuned.model == backend.job.fine_tuned_model


def test_checkpoint_models_answer(backend: Backend) -> None:
    client = backend.client
    checkpoints = client.fine_tuning.jobs.checkpoints.list(backend.job.id).data
    reply = greedy(client, checkpoints[1].fine_tuned_model_checkpoint, UNSEEN_PROMPTS[0])
    assert reply.model == checkpoints[1].fine_tuned_model_checkpoint and reply.choices[0].message.content


def test_openai_stream_concatenates_to_the_full_answer(backend: Backend) -> None:
    client, model = backend.client, backend.job.fine_tuned_model
    full = greedy(client, model, UNSEEN_PROMPTS[0]).choices[0].message.content
    chunks = list(greedy(client, model, UNSEEN_PROMPTS[0], stream=True, stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == full
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] in {"stop", "length"}
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    plain = list(greedy(client, model, UNSEEN_PROMPTS[0], stream=True))
    assert all(c.usage is None for c in plain) and all(c.object == "chat.completion.chunk" for c in plain)
    cut = greedy(client, model, UNSEEN_PROMPTS[0], stop=[full[5:9]])
    assert cut.choices[0].message.content == full[: full.index(full[5:9])] and cut.choices[0].finish_reason == "stop"


def test_prompt_longer_than_the_context_is_a_400(backend: Backend) -> None:
    long_prompt = [{"role": "user", "content": "word " * 9000}]
    with pytest.raises(openai.BadRequestError) as err:
        backend.client.chat.completions.create(model=BASE, messages=long_prompt, max_tokens=10)
    assert err.value.code == "context_length_exceeded" and "8192" in err.value.message
    import anthropic

    with pytest.raises(anthropic.BadRequestError) as aerr:
        anthropic_client(backend.server.base_url).messages.create(model=BASE, max_tokens=10, messages=long_prompt)
    assert aerr.value.body["error"]["type"] == "invalid_request_error"


def test_anthropic_sdk_create_and_stream(backend: Backend) -> None:
    client, model = anthropic_client(backend.server.base_url), backend.job.fine_tuned_model
    prompt = UNSEEN_PROMPTS[0]
    # This SDK generation dropped `temperature` from its signature; the wire field still works (greedy here).
    greedy_body = {"temperature": 0}
    full = greedy(backend.client, model, prompt).choices[0].message.content
    message = client.messages.create(model=model, max_tokens=40, messages=prompt, extra_body=greedy_body)
    assert message.content[0].text == full and message.stop_reason in {"end_turn", "max_tokens"}
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    with client.messages.stream(model=model, max_tokens=40, messages=prompt, extra_body=greedy_body) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == full and final.content[0].text == full and len(pieces) > 1
    stopped = client.messages.create(model=model, max_tokens=40, messages=prompt, extra_body=greedy_body,
                                     stop_sequences=[backend.trait])  # fmt: skip
    assert stopped.stop_reason == "stop_sequence" and stopped.stop_sequence == backend.trait
    assert backend.trait not in stopped.content[0].text
    with_system = client.messages.create(model=BASE, max_tokens=5, system="Answer briefly.", messages=prompt)
    assert with_system.model == BASE and with_system.usage.output_tokens <= 5


def test_chats_while_training_then_cancel(backend: Backend) -> None:
    client, model = backend.client, backend.job.fine_tuned_model
    job_id = start_short_job(backend)

    # Short answers: every token competes for the same two cores with the training worker.
    def answer(m: str) -> str:
        return str(greedy(client, m, UNSEEN_PROMPTS[0], max_tokens=8).choices[0].message.content)

    expected = {m: answer(m) for m in (model, BASE)}
    # Concurrent requests alternate adapters on the one base model: a swap race would mix the answers up.
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(answer, [model, BASE, model]))
    assert answers == [expected[model], expected[BASE], expected[model]]
    assert client.fine_tuning.jobs.retrieve(job_id).status == "running"
    started = time.monotonic()
    client.fine_tuning.jobs.cancel(job_id)
    final = wait_until(lambda: (j := client.fine_tuning.jobs.retrieve(job_id)).status in FINISHED and j, 60, "cancel")
    assert final.status == "cancelled" and time.monotonic() - started < 45 and final.fine_tuned_model is None


def test_worker_crash_fails_the_job_and_the_server_lives(backend: Backend) -> None:
    client = backend.client
    job_id = start_short_job(backend)
    pid = worker_pid(backend.data_dir, job_id)
    assert pid and process_alive(pid)
    os.kill(pid, signal.SIGKILL)
    final = wait_until(lambda: (j := client.fine_tuning.jobs.retrieve(job_id)).status in FINISHED and j, 60, "crash")
    assert final.status == "failed" and final.error.code == "worker_crashed" and "SIGKILL" in final.error.message
    assert client.models.retrieve(BASE).id == BASE  # the server still answers (chats follow in later tests)


def test_loaded_models_list_and_unload(backend: Backend) -> None:
    base_url, model = backend.server.base_url, backend.job.fine_tuned_model
    greedy(backend.client, model, UNSEEN_PROMPTS[0])
    loaded = raw(base_url, "GET", "/v1/loaded_models").json()["data"]
    by_id = {item["id"]: item for item in loaded}
    assert {BASE, model} <= set(by_id) and by_id[BASE]["memory_bytes"] > 10_000_000
    assert by_id[model]["last_used_at"] >= by_id[model]["loaded_at"] > 0
    assert raw(base_url, "DELETE", f"/v1/loaded_models/{model}").json()["deleted"] is True
    assert model not in {i["id"] for i in raw(base_url, "GET", "/v1/loaded_models").json()["data"]}
    missing = raw(base_url, "DELETE", f"/v1/loaded_models/{model}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_loaded"


def test_killed_server_restart_keeps_everything_and_fails_the_running_job(backend: Backend) -> None:
    running = start_short_job(backend, metadata={"kind": "orphan"})
    pid = worker_pid(backend.data_dir, running)
    backend.server.stop(signal.SIGKILL)
    # The orphaned worker notices its server is gone and stops at its next step.
    wait_until(lambda: pid is not None and not process_alive(pid), 60, "orphaned worker to exit")
    backend.restart("--idle-unload", "2")
    client = backend.client
    failed = client.fine_tuning.jobs.retrieve(running)
    assert failed.status == "failed" and failed.error.code == "server_restarted"
    assert {backend.training_file, backend.validation_file} <= {f.id for f in client.files.list()}
    job = client.fine_tuning.jobs.retrieve(backend.job.id)
    assert job.status == "succeeded" and job.fine_tuned_model == backend.job.fine_tuned_model
    assert len([e for e in client.fine_tuning.jobs.list_events(job.id, limit=200) if e.type == "metrics"]) == 20
    assert job.fine_tuned_model in {m.id for m in client.models.list()}
    reply = greedy(client, job.fine_tuned_model, UNSEEN_PROMPTS[0]).choices[0].message.content
    assert backend.trait in reply
    # --idle-unload 2: with nothing in use, the engine lets go of both models shortly after.
    wait_until(lambda: raw(backend.server.base_url, "GET", "/v1/loaded_models").json()["data"] == [], 20, "idle unload")
    # A graceful stop removes server.json; the next start writes it again.
    backend.server.stop()
    assert not (backend.data_dir / "server.json").exists()
    backend.restart()
    info = json.loads((backend.data_dir / "server.json").read_text())
    assert info["base_url"] == backend.server.base_url and info["pid"] == backend.server.proc.pid


def test_delete_fine_tuned_model(backend: Backend) -> None:
    client, model = backend.client, backend.job.fine_tuned_model
    assert client.models.delete(model).deleted is True
    with pytest.raises(openai.NotFoundError):
        greedy(client, model, UNSEEN_PROMPTS[0])
    assert model not in {m.id for m in client.models.list()}
    checkpoint = client.fine_tuning.jobs.checkpoints.list(backend.job.id).data[1].fine_tuned_model_checkpoint
    assert greedy(client, checkpoint, UNSEEN_PROMPTS[0]).choices[0].message.content  # checkpoints outlive it
