"""The SQLite connection: WAL mode, migrations on open, one lock so the monitor thread and the UI can share it."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import Any

from tunedeck.store.migrations import migrate
from tunedeck.util.sqlite import connect, immediate_transaction

DB_NAME = "tunedeck.db"
# Another tunedeck process (a CLI `watch` beside the TUI) may hold the write lock briefly.
BUSY_TIMEOUT_MS = 10_000


class Database:
    """Owns one connection. Writes go through `transaction()`; reads through `query()`/`query_one()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # FULL: a committed submission intent must survive a power cut too, or a retry could pay twice.
        # Writes are few (intents, state changes, event batches), so the fsync per commit costs little.
        self._conn = connect(path, timeout_s=BUSY_TIMEOUT_MS / 1000, synchronous="FULL")
        self._lock = threading.RLock()
        with self._lock:
            migrate(self._conn)

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return immediate_transaction(self._conn, self._lock)

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
            return row

    def pragma(self, name: str) -> Any:
        with self._lock:
            return self._conn.execute(f"PRAGMA {name}").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
