"""The local provider finds or starts `tunedeck serve` for real (a subprocess), and stops only what it started."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from providers import errors
from providers.local import LocalConfig, LocalProvider
from providers.local_server import healthy, stop_started_servers
from providers.registry import get_provider
from tests.conftest import MODEL_CACHE
from tests.providers.stub_http import Reply, stub_server
from tunedeck.settings import load_settings


@pytest.fixture(autouse=True)
def _stop_servers() -> object:
    yield
    stop_started_servers()


def _provider(data_dir: Path, **extra: object) -> LocalProvider:
    return LocalProvider(LocalConfig(data_dir=data_dir, cache_dir=MODEL_CACHE, **extra))  # type: ignore[arg-type]


def test_starts_once_reuses_and_stops_at_exit_what_it_started(tmp_path: Path) -> None:
    data_dir = tmp_path / "local-backend"
    first = _provider(data_dir)
    assert first.list_jobs() == []
    assert first.server is not None and first.server.started_here
    info = json.loads((data_dir / "server.json").read_text())
    assert first.server.process is not None and info["pid"] == first.server.process.pid
    assert healthy(info["base_url"])

    second = _provider(data_dir)  # another adapter in this process: same server, no second process
    second.list_jobs()
    assert second.server is not None and second.server.base_url == first.server.base_url
    second.close()  # one adapter closing never stops a server others use
    assert healthy(info["base_url"])

    stop_started_servers()  # what atexit runs
    assert not (data_dir / "server.json").exists()  # graceful shutdown removed it
    assert not healthy(info["base_url"])


def test_a_server_found_running_is_reused_and_left_running(tmp_path: Path) -> None:
    data_dir = tmp_path / "local-backend"
    detached = _provider(data_dir, stop_at_exit=False)  # e.g. started by another tunedeck process
    detached.list_jobs()
    info = json.loads((data_dir / "server.json").read_text())
    try:
        assert detached.server is not None and not detached.server.started_here
        guest = _provider(data_dir)
        guest.list_jobs()
        assert guest.server is not None and not guest.server.started_here
        assert guest.server.base_url == info["base_url"]
        stop_started_servers()
        assert healthy(info["base_url"])  # nobody here started it, so nobody here stopped it
    finally:
        os.kill(info["pid"], signal.SIGINT)
        deadline = time.monotonic() + 15
        while healthy(info["base_url"]) and time.monotonic() < deadline:
            time.sleep(0.1)


def test_no_server_and_no_autostart_says_how_to_start_one(tmp_path: Path) -> None:
    with pytest.raises(errors.UnavailableError) as caught:
        _provider(tmp_path / "lb", autostart=False).list_jobs()
    assert "tunedeck serve --data-dir" in caught.value.hint


def test_a_server_that_cannot_start_reports_its_log(tmp_path: Path) -> None:
    data_dir = tmp_path / "lb"
    data_dir.mkdir()
    with open(data_dir / "server.lock", "w") as lock:  # another owner of this data dir, but no server.json
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(errors.UnavailableError) as caught:
            _provider(data_dir).list_jobs()
    assert "exited during start-up" in caught.value.title
    assert "already using" in caught.value.hint


def test_start_timeout_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(errors.UnavailableError, match="did not become ready within"):
        _provider(tmp_path / "lb", start_timeout_s=0.05).list_jobs()


def test_local_never_receives_the_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai")
    with stub_server(Reply(200, {"object": "list", "data": [], "has_more": False})) as stub:
        get_provider("local", load_settings(), base_url=stub.url + "/v1").list_jobs()
        monkeypatch.setenv("TUNEDECK_LOCAL_API_KEY", "local-secret")
        get_provider("local", load_settings(), base_url=stub.url + "/v1").list_jobs()
    seen = [r.headers.get("authorization") for r in stub.requests]
    assert seen == ["Bearer tunedeck-no-key", "Bearer local-secret"]
    assert all("sk-real-openai" not in v for r in stub.requests for v in r.headers.values())


def test_registry_builds_local_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    provider = get_provider("local", settings)
    assert isinstance(provider, LocalProvider)
    assert provider.local.data_dir == settings.data_dir / "local-backend"
    assert provider.local.cache_dir == settings.cache_dir
    monkeypatch.setenv("TUNEDECK_LOCAL_API_KEY", "k")
    assert get_provider("local", load_settings()).local.api_key == SecretStr("k")  # type: ignore[attr-defined]
    assert os.environ["TUNEDECK_LOCAL_API_KEY"] == "k"


@pytest.mark.parametrize(("status", "left_running"), [("running", True), ("succeeded", False)])
def test_exit_leaves_a_started_server_running_only_while_a_job_trains(
    status: str, left_running: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess
    import sys

    from providers import local_server

    jobs = {"object": "list", "data": [{"id": "ftjob-1", "status": status}], "has_more": False}
    with stub_server() as stub:
        stub.replies["GET /v1/fine_tuning/jobs"] = Reply(body=jobs)
        # A stand-in process: what matters is whether exit handling signals it, not what it serves.
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            handle = local_server.ServerHandle(base_url=f"{stub.url}/v1", process=process)
            local_server._started[Path("/tmp/stand-in")] = handle
            stop_started_servers()
            time.sleep(0.2)
            assert (process.poll() is None) is left_running
            assert ("ftjob-1" in capsys.readouterr().err) is left_running
        finally:
            process.kill()
            process.wait()
