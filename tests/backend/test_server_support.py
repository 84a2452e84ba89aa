"""Helpers for the server tests (no tests here): start `tunedeck serve` for real, or the app on an in-thread uvicorn."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import MODEL_CACHE, REPO_ROOT

SERVE_TIMEOUT_S = 60


def server_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUNEDECK_") and not k.endswith("_API_KEY")}
    env.update(TUNEDECK_HOME=str(home), TUNEDECK_CACHE_DIR=str(MODEL_CACHE), PYTHONPATH=str(REPO_ROOT), **extra)
    return env


class ServeProcess:
    """`python -m tunedeck serve --port 0` as a child process; the address comes from `<data-dir>/server.json`."""

    def __init__(self, data_dir: Path, home: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.log_path = data_dir.parent / f"{data_dir.name}-serve-{time.monotonic_ns()}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / "server.json").unlink(missing_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tunedeck", "serve", "--port", "0", "--data-dir", str(data_dir), *args],
            stdout=self._log, stderr=subprocess.STDOUT, env=env or server_env(home), cwd=REPO_ROOT,
        )  # fmt: skip
        self.base_url = self._wait_ready()

    def _wait_ready(self) -> str:
        deadline = time.monotonic() + SERVE_TIMEOUT_S
        info_path = self.data_dir / "server.json"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tunedeck serve exited with {self.proc.returncode}:\n{self.log()}")
            if info_path.is_file():
                info = json.loads(info_path.read_text())
                if info["pid"] == self.proc.pid:
                    return str(info["base_url"])
            time.sleep(0.1)
        raise TimeoutError(f"tunedeck serve did not start:\n{self.log()}")

    @property
    def root_url(self) -> str:
        return self.base_url.removesuffix("/v1")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode


class ThreadServer:
    """`create_app(config)` on a real uvicorn server in a thread: for tests that inject a fake train function."""

    def __init__(self, config: Any, *, engine: Any = None) -> None:
        import uvicorn

        from localbackend.server.app import create_app

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        port = self.sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self.exited_idle = threading.Event()
        """Set when the app stopped itself for being idle (config.idle_exit_s): here that stops uvicorn."""

        def on_idle_exit() -> None:  # never the default, a SIGINT to this (the test) process
            self.exited_idle.set()
            self.server.should_exit = True

        app = create_app(config, engine=engine, on_idle_exit=on_idle_exit)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started, 30, "uvicorn start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


def openai_client(base_url: str, api_key: str = "unused") -> Any:
    import openai

    return openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=120)


def anthropic_client(base_url: str, api_key: str = "unused") -> Any:
    import anthropic

    # The Anthropic SDK appends /v1/messages to the root URL itself.
    return anthropic.Anthropic(base_url=base_url.removesuffix("/v1"), api_key=api_key, max_retries=0, timeout=120)


def jsonl(conversations: list[list[dict[str, Any]]]) -> bytes:
    return "".join(json.dumps({"messages": c}) + "\n" for c in conversations).encode()


def worker_pid(data_dir: Path, job_id: str) -> int | None:
    """The worker's pid as the server recorded it (read-only peek at its database)."""
    conn = sqlite3.connect(f"file:{data_dir / 'backend.sqlite3'}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT worker_pid FROM jobs WHERE id = ?", [job_id]).fetchone()
    finally:
        conn.close()
    return int(row[0]) if row and row[0] else None


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) still answers kill(0); /proc tells them apart.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def raw(base_url: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, base_url.removesuffix("/v1") + path, timeout=60, **kwargs)


# --- a fake trainer for queue and state-machine tests (the real one is exercised end to end elsewhere) ----------
def fake_train(request: Any, emit: Callable[[dict[str, Any]], None], should_stop: Callable[[], bool]) -> dict[str, Any]:
    """Steps of `FAKE_STEP_S` with a falling loss; a saved 'adapter' dir; honours should_stop like the real one."""
    step_s = float(os.environ.get("FAKE_STEP_S", "0.05"))
    total = int(os.environ.get("FAKE_STEPS", "6"))
    if request.seed == 666:  # a hard crash: no exception, no goodbye
        os.kill(os.getpid(), signal.SIGKILL)
    if request.seed == 777:
        raise RuntimeError("fake trainer exploded")
    first = 1
    if request.resume_from is not None:
        first = json.loads((Path(request.resume_from) / "info.json").read_text())["step"] + 1
        emit({"type": "message", "level": "info", "message": f"Resumed at step {first}"})
    emit({"type": "message", "level": "info", "message": f"Training {total} steps"})
    for step in range(first, total + 1):
        if should_stop():
            from localbackend.trainer import TrainingCancelled

            raise TrainingCancelled()
        time.sleep(step_s)
        emit({"type": "metrics", "step": step, "total_steps": total, "epoch": step / total,
              "train_loss": 2.0 / step, "train_mean_token_accuracy": 0.1 * step, "valid_loss": None,
              "valid_mean_token_accuracy": None, "trained_tokens": 10 * step, "elapsed_s": step * step_s,
              "estimated_remaining_s": (total - step) * step_s})  # fmt: skip
        if step == 2:  # one early "epoch" checkpoint, so an interrupted job has something to resume from
            ckpt = Path(request.output_dir) / "checkpoint-epoch-1"
            ckpt.mkdir(parents=True, exist_ok=True)
            (ckpt / "info.json").write_text(json.dumps({"step": step}))
            emit({"type": "checkpoint", "epoch": 1, "step": step, "path": str(ckpt), "metrics": {"train_loss": 1.0}})
    final = Path(request.output_dir) / "final"
    final.mkdir(parents=True, exist_ok=True)
    if total != 2:
        emit(
            {
                "type": "checkpoint",
                "epoch": 2,
                "step": total,
                "path": str(final),
                "metrics": {"train_loss": 2.0 / total},
            }
        )
    return {"adapter_path": str(final), "trained_tokens": 10 * total, "steps": total, "hyperparameters": {}}
