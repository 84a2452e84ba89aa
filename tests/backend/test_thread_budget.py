"""Training workers and generation share the CPU cores instead of each taking all of them (issue 14, item 12).

The budget's arithmetic is tested alone; then a real server with real worker processes runs a trainer that
imports torch and reports its thread pool every step, while a chat stream comes and goes beside it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from localbackend.basemodel import BASE_MODEL_ID
from localbackend.device import ThreadBudget, available_cores, default_max_concurrent_jobs
from localbackend.server.state import ServerConfig
from tests.backend.fake_engine import EchoEngine
from tests.backend.test_server_support import ThreadServer, jsonl, openai_client, wait_until
from tests.conftest import MODEL_CACHE

GOOD = [[{"role": "user", "content": f"Q{i}?"}, {"role": "assistant", "content": f"A{i}."}] for i in range(4)]


def test_shares_never_exceed_the_cores_and_follow_consumers() -> None:
    seen: dict[str, list[int]] = {}
    budget = ThreadBudget(cores=4)

    def recorder(name: str) -> Callable[[int], None]:
        return lambda share: seen.setdefault(name, []).append(share)

    assert budget.join("job-a", recorder("job-a")) == 4
    assert budget.join("generation", recorder("generation")) == 2
    assert budget.shares() == {"job-a": 2, "generation": 2}
    budget.join("job-b", recorder("job-b"))
    assert sorted(budget.shares().values()) == [1, 1, 2] and sum(budget.shares().values()) == 4
    budget.leave("generation")
    budget.leave("job-b")
    assert budget.shares() == {"job-a": 4}
    assert seen["job-a"][0] == 4 and seen["job-a"][-1] == 4 and 2 in seen["job-a"]
    for cores in range(1, 17):
        many = ThreadBudget(cores=cores)
        for index in range(cores):
            many.join(str(index), lambda share: None)
            assert sum(many.shares().values()) == cores  # all cores used, none twice


def test_default_concurrency_is_one_job_below_eight_cores() -> None:
    assert [default_max_concurrent_jobs(c) for c in (1, 2, 4, 7, 8, 12, 16, 64)] == [1, 1, 1, 1, 2, 3, 4, 4]
    assert default_max_concurrent_jobs() == default_max_concurrent_jobs(available_cores())


def threads_train(request: Any, emit: Any, should_stop: Any) -> dict[str, Any]:
    """Trains nothing: reports the worker's torch thread pool and OpenMP wait policy at each 'step'."""
    import torch

    steps = int(os.environ.get("THREAD_STEPS", "40"))
    for step in range(1, steps + 1):
        if should_stop():
            from localbackend.trainer import TrainingCancelled

            raise TrainingCancelled()
        a = torch.ones(64, 64)
        (a @ a).sum()  # a parallel region, so the pool really is the size reported
        emit({"type": "metrics", "step": step, "total_steps": steps, "trained_tokens": step,
              "threads": torch.get_num_threads(), "omp_wait": os.environ.get("OMP_WAIT_POLICY")})  # fmt: skip
        time.sleep(0.1)
    final = Path(request.output_dir) / "final"
    final.mkdir(parents=True, exist_ok=True)
    return {"adapter_path": str(final), "trained_tokens": steps, "steps": steps, "hyperparameters": {}}


def test_a_job_gives_up_half_its_threads_while_a_chat_streams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THREAD_STEPS", "150")
    config = ServerConfig(data_dir=tmp_path / "threads", cache_dir=MODEL_CACHE, cpu_threads=4, max_jobs=8,
                          train_fn="tests.backend.test_thread_budget:threads_train")  # fmt: skip
    srv = ThreadServer(config, engine=EchoEngine(delay_s=0.3))
    client = openai_client(srv.base_url)
    try:
        assert srv.server.config.app.state.services.runner.max_jobs == 4  # never more jobs than cores (4 here)
        file_id = client.files.create(file=("t.jsonl", jsonl(GOOD)), purpose="fine-tune").id
        job = client.fine_tuning.jobs.create(model=BASE_MODEL_ID, training_file=file_id)

        def reports() -> list[dict[str, Any]]:
            events = client.fine_tuning.jobs.list_events(job.id, limit=1000).data
            return [e.data for e in reversed(events) if e.type == "metrics"]

        alone = wait_until(lambda: [r for r in reports() if r["threads"] == 4], 90, "the job to train on 4 threads")
        assert alone[0]["omp_wait"] == "PASSIVE"
        body = {"model": BASE_MODEL_ID, "messages": [{"role": "user", "content": " ".join(["word"] * 12)}],
                "stream": True}  # fmt: skip
        streamed: list[str] = []

        def stream_chat() -> None:  # 12 words, 0.3 s each: a chat of about 4 s beside the job
            with httpx.stream("POST", srv.base_url + "/chat/completions", json=body, timeout=60) as response:
                streamed.extend(response.iter_lines())

        chat = threading.Thread(target=stream_chat)
        services = srv.server.config.app.state.services
        before = len(reports())
        chat.start()
        wait_until(lambda: services.budget.shares() == {job.id: 2, "generation": 2}, 10, "the chat's share")
        shared = wait_until(lambda: [r for r in reports()[before:] if r["threads"] == 2], 30, "2 threads beside chat")
        chat.join(60)
        assert "data: [DONE]" in streamed and shared
        after_chat = len(reports())
        wait_until(lambda: [r for r in reports()[after_chat:] if r["threads"] == 4], 30, "4 threads again")
        assert services.budget.shares() == {job.id: 4}
        client.fine_tuning.jobs.cancel(job.id)
    finally:
        srv.stop()
