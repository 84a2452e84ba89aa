"""The store opens in WAL mode at the data dir, migrates, and keeps Pulumi stack outputs."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tunedeck.settings import load_settings
from tunedeck.store import Store
from tunedeck.store.migrations import SCHEMA_VERSION


def test_open_creates_db_in_data_dir_with_wal_and_latest_schema(isolated_home: Path) -> None:
    settings = load_settings()
    with Store.open(settings) as store:
        assert store.path == settings.data_dir / "tunedeck.db"
        assert store.db.pragma("journal_mode") == "wal"
        assert store.db.pragma("user_version") == SCHEMA_VERSION
    assert (settings.data_dir / "tunedeck.db").is_file()


def test_stack_outputs_round_trip_and_replace() -> None:
    store = Store.open(load_settings())
    assert store.load_stack_outputs("dev") is None
    before = datetime.now(UTC)
    store.save_stack_outputs("dev", {"bucket": "gs://b", "nested": {"n": 1}})
    got = store.load_stack_outputs("dev")
    assert got is not None
    outputs, saved_at = got
    assert outputs == {"bucket": "gs://b", "nested": {"n": 1}}
    assert saved_at >= before
    store.save_stack_outputs("dev", {"bucket": "gs://c"})
    assert store.load_stack_outputs("dev") is not None
    assert store.load_stack_outputs("dev")[0] == {"bucket": "gs://c"}  # type: ignore[index]
    assert store.load_stack_outputs("prod") is None
    store.forget_stack_outputs("dev")
    assert store.load_stack_outputs("dev") is None


def test_stack_outputs_visible_to_a_second_connection() -> None:
    settings = load_settings()
    Store.open(settings).save_stack_outputs("dev", {"sa": "x@y"})
    other = Store.open(settings)
    got = other.load_stack_outputs("dev")
    assert got is not None and got[0]["sa"] == "x@y"


def test_refuses_a_database_from_a_newer_tunedeck(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    from tunedeck.errors import UsageError

    with pytest.raises(UsageError, match="newer tunedeck"):
        Store.open_path(path)
