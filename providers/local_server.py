"""Find or start the embedded local backend (`tunedeck serve`), and stop it at exit only if we started it."""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from providers import errors

SERVER_JSON = "server.json"
_HEALTH_TIMEOUT_S = 2.0


@dataclass
class ServerHandle:
    base_url: str
    """Ends in /v1, as server.json writes it."""
    process: subprocess.Popen[bytes] | None = None
    """Set only when this process started the server (and so must stop it)."""
    log_path: Path | None = None
    api_key: SecretStr | None = None

    @property
    def started_here(self) -> bool:
        return self.process is not None

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # SIGINT is what the server shuts down gracefully on (removing server.json); measured here, SIGTERM
        # killed it outright and left a stale server.json behind.
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


_lock = threading.Lock()
_started: dict[Path, ServerHandle] = {}


def healthy(base_url: str) -> bool:
    root = base_url.removesuffix("/").removesuffix("/v1")
    try:
        with urllib.request.urlopen(f"{root}/health", timeout=_HEALTH_TIMEOUT_S) as response:
            return bool(response.status == 200 and json.loads(response.read()).get("status") == "ok")
    except (OSError, ValueError, urllib.error.URLError):
        return False


def discover(data_dir: Path) -> str | None:
    """The base URL of a live server for `data_dir`, from its server.json, if it answers /health."""
    try:
        info = json.loads((data_dir / SERVER_JSON).read_text(encoding="utf-8"))
        base_url = str(info["base_url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return base_url if healthy(base_url) else None


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start(
    data_dir: Path,
    cache_dir: Path,
    api_key: SecretStr | None,
    timeout_s: float,
    *,
    idle_exit_s: float | None = None,
    max_jobs: int | None = None,
) -> ServerHandle:
    """Start `python -m tunedeck serve --port 0` for `data_dir` and wait for server.json and /health.

    `idle_exit_s` makes the server stop itself once it has had no job, loaded model or request that long, so
    one left running for a job goes away after it; `max_jobs` is how many jobs it trains at once."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "serve.log"
    env = dict(os.environ)
    env["TUNEDECK_CACHE_DIR"] = str(cache_dir)
    if api_key is not None:
        env["TUNEDECK_LOCAL_API_KEY"] = api_key.get_secret_value()  # the environment, never argv (ps shows argv)
    command = [sys.executable, "-m", "tunedeck", "serve", "--port", "0", "--data-dir", str(data_dir)]
    if idle_exit_s is not None:
        command += ["--idle-exit", f"{idle_exit_s:g}"]
    if max_jobs is not None:
        command += ["--max-jobs", str(max_jobs)]
    with log_path.open("ab") as log:
        # A new session: Ctrl-C in the terminal must not kill the server mid-write; we stop it ourselves.
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    handle = ServerHandle(base_url="", process=process, log_path=log_path, api_key=api_key)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            # Lost a race with another tunedeck starting the same server: use theirs.
            if other := discover(data_dir):
                return ServerHandle(base_url=other)
            raise errors.UnavailableError(
                f"The local backend exited during start-up (exit code {process.returncode}).",
                f"Its log ({log_path}) ends with:\n{_log_tail(log_path)}",
                provider="local",
            )
        try:
            info = json.loads((data_dir / SERVER_JSON).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
        if info.get("pid") == process.pid and healthy(str(info.get("base_url", ""))):
            handle.base_url = str(info["base_url"])
            return handle
        time.sleep(0.1)
    handle.stop()
    raise errors.UnavailableError(
        f"The local backend did not become ready within {timeout_s:.0f} s.",
        f"Start it by hand with `tunedeck serve --data-dir {data_dir}` to see why; its log ({log_path}) ends with:\n"
        f"{_log_tail(log_path)}",
        provider="local",
    )


def ensure_server(
    data_dir: Path,
    cache_dir: Path,
    api_key: SecretStr | None,
    *,
    autostart: bool = True,
    timeout_s: float = 60.0,
    stop_at_exit: bool = True,
    idle_exit_s: float | None = None,
    max_jobs: int | None = None,
) -> ServerHandle:
    """Reuse a running server for `data_dir`, else start one, stopped when this process exits unless
    `stop_at_exit` is False (then it outlives us and keeps training, until `idle_exit_s` without work)."""
    data_dir = data_dir.expanduser().resolve()
    with _lock:
        mine = _started.get(data_dir)
        if mine is not None and mine.process is not None and mine.process.poll() is None and healthy(mine.base_url):
            return mine
        if base_url := discover(data_dir):
            return ServerHandle(base_url=base_url)
        if not autostart:
            raise errors.UnavailableError(
                f"No local backend is running for {data_dir}.",
                f"Start one with `tunedeck serve --data-dir {data_dir}`, or set `autostart = true` under [local].",
                provider="local",
            )
        handle = start(data_dir, cache_dir, api_key, timeout_s, idle_exit_s=idle_exit_s, max_jobs=max_jobs)
        if handle.started_here:
            if stop_at_exit:
                _started[data_dir] = handle
            else:
                handle = ServerHandle(base_url=handle.base_url)  # detached: nobody here will stop it
        return handle


_ACTIVE_JOB_STATES = {"validating_files", "queued", "running"}


def active_jobs(base_url: str, api_key: SecretStr | None = None) -> list[str]:
    """Ids of the server's jobs that are still training or waiting to; [] when it cannot be asked."""
    request = urllib.request.Request(f"{base_url.rstrip('/')}/fine_tuning/jobs?limit=100")
    if api_key is not None:
        request.add_header("Authorization", f"Bearer {api_key.get_secret_value()}")
    try:
        with urllib.request.urlopen(request, timeout=_HEALTH_TIMEOUT_S) as response:
            jobs = json.loads(response.read()).get("data", [])
    except (OSError, ValueError, AttributeError, urllib.error.URLError):
        return []
    return [str(job.get("id")) for job in jobs if isinstance(job, dict) and job.get("status") in _ACTIVE_JOB_STATES]


def stop_started_servers() -> None:
    """Stop every server this process started (never one it merely found running).

    A server still training a job is left running: stopping it would fail a job the user is paying
    attention to (e.g. `jobs submit` without `--watch`). It says so on stderr, with how to stop it."""
    with _lock:
        handles = list(_started.values())
        _started.clear()
    for handle in handles:
        busy = active_jobs(handle.base_url, handle.api_key) if handle.base_url else []
        if busy and handle.process is not None:
            print(
                f"tunedeck: left the local backend running (pid {handle.process.pid}, {handle.base_url}) "
                f"for {len(busy)} unfinished job(s): {', '.join(busy)}. Stop it later with "
                f"`kill -INT {handle.process.pid}`.",
                file=sys.stderr,
            )
            continue
        handle.stop()


atexit.register(stop_started_servers)
