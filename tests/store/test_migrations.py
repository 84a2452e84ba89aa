"""An older store is migrated in place on open, keeping its data; a failing step changes nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tunedeck.store import Store
from tunedeck.store.migrations import MIGRATIONS, SCHEMA_VERSION, migrate, schema_version


def _tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def _make_v1_db(path: Path) -> None:
    """A database as tunedeck wrote it at schema version 1 (stack outputs only)."""
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=1)
    conn.execute(
        "INSERT INTO stack_outputs (stack, outputs_json, saved_at) VALUES (?, ?, ?)",
        ("dev", '{"bucket": "gs://old"}', "2026-01-01T00:00:00+00:00"),
    )
    conn.close()


def test_version_1_database_is_migrated_to_latest_and_keeps_data(tmp_path: Path) -> None:
    assert SCHEMA_VERSION >= 2
    path = tmp_path / "tunedeck.db"
    _make_v1_db(path)
    assert "jobs" not in _tables(path)

    with Store.open_path(path) as store:
        assert store.db.pragma("user_version") == SCHEMA_VERSION
        got = store.load_stack_outputs("dev")
        assert got is not None
        assert got[0] == {"bucket": "gs://old"} and got[1].isoformat() == "2026-01-01T00:00:00+00:00"
    assert {"jobs", "job_states", "job_events", "datasets", "models", "endpoints", "teardowns"} <= _tables(path)


def test_reopening_a_current_database_runs_no_migration(tmp_path: Path) -> None:
    path = tmp_path / "tunedeck.db"
    Store.open_path(path).close()
    # A second open would fail with "table already exists" if it re-ran any step.
    with Store.open_path(path) as store:
        assert store.db.pragma("user_version") == SCHEMA_VERSION


def test_failing_migration_step_rolls_back_whole_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tunedeck.db"
    _make_v1_db(path)
    broken = (*MIGRATIONS[:1], MIGRATIONS[1] + "; CREATE TABLE jobs (x INTEGER)")
    monkeypatch.setattr("tunedeck.store.migrations.MIGRATIONS", broken)
    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="already exists"):
        migrate(conn, target=2)
    assert schema_version(conn) == 1
    conn.close()
    assert "datasets" not in _tables(path)
