"""A damaged, misplaced or locked database is one sentence with the documented exit code (issue 14, item 5):
tunedeck's store through the CLI (human and `--json`), and the local backend's database at `tunedeck serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.data.helpers import run_cli
from tunedeck.errors import TunedeckError
from tunedeck.store import Store
from tunedeck.store.db import Database


def _fresh(path: Path) -> bytes:
    Store.open_path(path).close()
    return path.read_bytes()


def _damage(path: Path, how: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if how == "garbage":
        path.write_bytes(os.urandom(4096))
    elif how == "text":
        path.write_text("this is not a database\n")
    elif how == "truncated":
        path.write_bytes(_fresh(path)[:3000])  # the header survives, the pages it promises do not
    elif how == "header-only":
        path.write_bytes(_fresh(path)[:60])
    elif how == "directory":
        path.mkdir()
    elif how == "under-a-file":
        path.parent.rename(path.parent.with_name("moved"))
        path.parent.write_text("a file where the data dir should be")


DAMAGE = ["garbage", "text", "truncated", "header-only", "directory"]


@pytest.mark.parametrize("how", DAMAGE)
def test_a_damaged_store_is_one_sentence_with_exit_2(tmp_path: Path, how: str) -> None:
    path = tmp_path / "tunedeck.db"
    _damage(path, how)
    with pytest.raises(TunedeckError) as caught:
        Store.open_path(path).list_jobs()
    error = caught.value
    assert error.exit_code == 2
    assert str(path) in error.title
    assert ("damaged" in error.title) or ("is a directory" in error.title)
    assert "move it aside" in error.hint.lower() and str(path) in error.hint


@pytest.mark.parametrize("how", [*DAMAGE, "under-a-file"])
@pytest.mark.parametrize("command", [("jobs", "list"), ("endpoints", "list"), ("jobs", "show", "td-x")])
def test_cli_commands_on_a_damaged_store(isolated_home: Path, how: str, command: tuple[str, ...]) -> None:
    _damage(isolated_home / "data" / "tunedeck.db", how)
    code, out, err = run_cli(*command, "--json")
    assert code == 2, err
    error = json.loads(out)["error"]
    assert error["code"] == 2 and "tunedeck.db" in error["title"]
    assert "Traceback" not in err and "sqlite3" not in err
    code, out, err = run_cli(*command)
    assert code == 2 and out == "" and "tunedeck.db" in err and "Traceback" not in err


@pytest.fixture
def exclusive_holder(tmp_path: Path) -> Iterator[Path]:
    """Another process holding tunedeck.db with an exclusive lock until the test ends."""
    path = tmp_path / "tunedeck.db"
    _fresh(path)
    script = textwrap.dedent(
        f"""
        import sqlite3, sys
        conn = sqlite3.connect({str(path)!r}, isolation_level=None)
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("CREATE TABLE held (x)")
        print("held", flush=True)
        sys.stdin.read()
        """
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield path
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_a_store_locked_by_another_process_says_wait(exclusive_holder: Path) -> None:
    with pytest.raises(TunedeckError) as caught:
        Database(exclusive_holder, busy_timeout_ms=200)
    assert caught.value.exit_code == 3
    assert "locked by another process" in caught.value.title and str(exclusive_holder) in caught.value.title
    assert "wait" in caught.value.hint.lower()


def test_cli_on_a_locked_store(exclusive_holder: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tunedeck.store.db as db_module

    monkeypatch.setenv("TUNEDECK_DATA_DIR", str(exclusive_holder.parent))
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 200)  # the real 10 s wait is what users get
    code, out, err = run_cli("jobs", "list", "--json")
    assert code == 3 and "locked" in json.loads(out)["error"]["title"]
    assert "Traceback" not in err


def test_a_healthy_store_still_opens_after_all_that(tmp_path: Path) -> None:
    path = tmp_path / "tunedeck.db"
    _fresh(path)
    with Store.open_path(path) as store:
        assert store.list_jobs() == []


# -- the local backend's own database ------------------------------------------------------------------


@pytest.mark.parametrize("how", ["garbage", "truncated", "directory"])
def test_local_backend_database_damage_is_a_tunedeck_error(tmp_path: Path, how: str) -> None:
    from localbackend.db import Database as BackendDatabase

    path = tmp_path / "backend.sqlite3"
    if how == "truncated":
        BackendDatabase(path).close()
        path.write_bytes(path.read_bytes()[:100])
    elif how == "garbage":
        path.write_bytes(os.urandom(2048))
    else:
        path.mkdir()
    with pytest.raises(TunedeckError) as caught:
        BackendDatabase(path).query("SELECT * FROM jobs")
    assert caught.value.exit_code == 2 and str(path) in caught.value.title
    assert "local backend" in caught.value.title


@pytest.mark.parametrize("how", ["garbage", "directory"])
def test_serve_prints_the_sentence_not_a_uvicorn_traceback(tmp_path: Path, how: str) -> None:
    data_dir = tmp_path / "backend"
    data_dir.mkdir()
    db = data_dir / "backend.sqlite3"
    if how == "garbage":
        db.write_bytes(os.urandom(2048))
    else:
        db.mkdir()
    env = {**os.environ, "TUNEDECK_HOME": str(tmp_path / "home")}
    run = subprocess.run(
        [sys.executable, "-m", "tunedeck", "serve", "--port", "0", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert run.returncode == 2, run.stderr
    flat = " ".join(run.stderr.split())
    assert "local backend's database" in flat and "backend.sqlite3" in flat
    assert "Traceback" not in run.stderr and "uvicorn" not in run.stderr.lower()
    assert not (data_dir / "server.json").exists()
