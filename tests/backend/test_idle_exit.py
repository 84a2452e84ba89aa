"""An autostarted local backend stops itself after `[local] idle_exit` with no job, loaded model or request
(issue 14, item 11); one started by hand with `tunedeck serve` keeps running.

The rules run against the app on an in-thread server with the fake trainer and a stand-in engine; the whole path
(`--idle-exit` → SIGINT to itself → graceful shutdown → server.json removed) against real `tunedeck serve`
processes, started by hand and by the local provider's autostart.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from localbackend.basemodel import BASE_MODEL_ID
from localbackend.server.state import ServerConfig
from providers import errors
from providers.local import LocalConfig, LocalProvider
from providers.local_server import healthy, stop_started_servers
from providers.registry import local_config
from tests.backend.fake_engine import EchoEngine
from tests.backend.test_server_support import (
    ServeProcess,
    ThreadServer,
    jsonl,
    openai_client,
    process_alive,
    raw,
    wait_until,
)
from tests.conftest import MODEL_CACHE
from tunedeck.settings import load_settings

GOOD = [[{"role": "user", "content": f"Q{i}?"}, {"role": "assistant", "content": f"A{i}."}] for i in range(4)]
IDLE_S = 1.5


def _server(tmp_path: Path, engine: EchoEngine | None = None, idle_exit_s: float | None = IDLE_S) -> ThreadServer:
    config = ServerConfig(
        data_dir=tmp_path / "idle", cache_dir=MODEL_CACHE, idle_exit_s=idle_exit_s,
        train_fn="tests.backend.test_server_support:fake_train",
    )  # fmt: skip
    return ThreadServer(config, engine=engine or EchoEngine())


def test_an_idle_server_stops_itself_and_health_probes_do_not_keep_it_up(tmp_path: Path) -> None:
    srv = _server(tmp_path)
    try:
        raw(srv.base_url, "GET", "/v1/models")
        last_request = time.monotonic()
        while not srv.exited_idle.is_set() and time.monotonic() - last_request < 15:
            with contextlib.suppress(httpx.TransportError):  # refused once it has stopped
                raw(srv.base_url, "GET", "/health")
            time.sleep(0.2)
        assert srv.exited_idle.is_set()  # probing every 0.2 s did not count as activity
        assert time.monotonic() - last_request >= IDLE_S
    finally:
        srv.stop()


def test_a_running_job_keeps_it_up_until_the_job_is_done(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_STEP_S", "0.5")  # 6 steps: ~3 s of training, twice the idle time
    srv = _server(tmp_path, idle_exit_s=None)  # first the slow parts: importing openai, the first upload
    try:
        file_id = openai_client(srv.base_url).files.create(file=("t.jsonl", jsonl(GOOD)), purpose="fine-tune").id
    finally:
        srv.stop()
    srv = _server(tmp_path)
    try:
        job = openai_client(srv.base_url).fine_tuning.jobs.create(model=BASE_MODEL_ID, training_file=file_id)
        # Nothing asks the server anything now: only the job keeps it up.
        assert not srv.exited_idle.wait(IDLE_S + 1.0)
        assert srv.exited_idle.wait(60)
    finally:
        srv.stop()
    srv = _server(tmp_path, idle_exit_s=None)  # the same data dir, to read what the job did
    try:
        done = openai_client(srv.base_url).fine_tuning.jobs.retrieve(job.id)
        assert done.status == "succeeded"  # it stopped after the job, not in the middle of it
    finally:
        srv.stop()


def test_an_open_stream_and_a_loaded_model_keep_it_up(tmp_path: Path) -> None:
    engine = EchoEngine(delay_s=0.4)
    srv = _server(tmp_path, engine)
    try:
        body = {"model": BASE_MODEL_ID, "messages": [{"role": "user", "content": "one two three four five six seven"}],
                "stream": True}  # fmt: skip
        chunks: list[str] = []

        def read_stream() -> None:
            with httpx.stream("POST", srv.base_url + "/chat/completions", json=body, timeout=60) as response:
                chunks.extend(response.iter_lines())

        reader = threading.Thread(target=read_stream)
        reader.start()
        reader.join(30)
        assert "data: [DONE]" in chunks and not srv.exited_idle.is_set()  # 2.8 s of streaming, idle time 1.5 s
        assert engine.loaded()  # the reply left the model loaded ...
        assert srv.exited_idle.wait(IDLE_S + 5)
        assert not engine.loaded()  # ... and the idle exit unloaded it first
    finally:
        srv.stop()


def test_serve_with_idle_exit_stops_and_serve_without_it_keeps_running(tmp_path: Path) -> None:
    autostarted = ServeProcess(tmp_path / "auto", tmp_path / "home", "--idle-exit", "1")
    by_hand = ServeProcess(tmp_path / "manual", tmp_path / "home")
    try:
        wait_until(lambda: autostarted.proc.poll() is not None, 30, "the idle server to exit")
        assert not (tmp_path / "auto" / "server.json").exists()  # removed by the graceful shutdown
        assert "--idle-exit" in autostarted.log() and "Traceback" not in autostarted.log()
        time.sleep(1.0)
        assert by_hand.proc.poll() is None and raw(by_hand.base_url, "GET", "/health").status_code == 200
    finally:
        autostarted.stop()
        by_hand.stop()


def test_the_local_provider_starts_servers_that_exit_when_idle(tmp_path: Path) -> None:
    data_dir = tmp_path / "local-backend"
    provider = LocalProvider(LocalConfig(data_dir=data_dir, cache_dir=MODEL_CACHE, stop_at_exit=False, idle_exit_s=1.0))
    try:
        assert provider.list_jobs() == []
        info = json.loads((data_dir / "server.json").read_text())
        command = Path(f"/proc/{info['pid']}/cmdline").read_bytes().split(b"\0")
        assert command[command.index(b"--idle-exit") + 1] == b"1"
        assert b"--max-jobs" not in command  # unset in [local]: the backend applies its own core-based default
        wait_until(lambda: not process_alive(info["pid"]), 30, "the autostarted server to exit")
        assert not (data_dir / "server.json").exists() and not healthy(info["base_url"])
    finally:
        provider.close()
        stop_started_servers()


def test_idle_exit_and_max_concurrent_jobs_come_from_config(tmp_path: Path) -> None:
    settings = load_settings()
    assert local_config(settings).idle_exit_s == 600 and local_config(settings).max_concurrent_jobs is None
    assert local_config(settings, idle_exit="10m").idle_exit_s == 600
    assert local_config(settings, idle_exit=90).idle_exit_s == 90
    assert local_config(settings, idle_exit=0).idle_exit_s is None
    assert local_config(settings, max_concurrent_jobs=2).max_concurrent_jobs == 2
    for key, value in (("idle_exit", "soon"), ("max_concurrent_jobs", 0), ("max_concurrent_jobs", "2")):
        with pytest.raises(errors.ConfigurationError) as caught:
            local_config(settings, **{key: value})
        assert key in caught.value.title
