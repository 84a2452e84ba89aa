"""The SQLite connection: WAL mode, migrations on open, one lock so the monitor thread and the UI can share it.

A store file that is damaged, a directory, unopenable or locked by another process is reported as one
TunedeckError (what is wrong, where the file is, what to do), at open or at any later statement.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tunedeck.store.migrations import migrate
from tunedeck.util.sqlite import connect, explained, immediate_transaction

DB_NAME = "tunedeck.db"
# Another tunedeck process (a CLI `watch` beside the TUI) may hold the write lock briefly.
BUSY_TIMEOUT_MS = 10_000
_RECREATE = (
    "tunedeck then starts an empty store, forgetting the jobs and endpoints it recorded (the remote ones keep "
    "running: see them in the provider's console)."
)


class Database:
    """Owns one connection. Writes go through `transaction()`; reads through `query()`/`query_one()`."""

    def __init__(self, path: Path, *, busy_timeout_ms: int | None = None) -> None:
        self.path = path
        self._lock = threading.RLock()
        timeout_s = (BUSY_TIMEOUT_MS if busy_timeout_ms is None else busy_timeout_ms) / 1000
        with self._explained():
            # FULL: a committed submission intent must survive a power cut too, or a retry could pay twice.
            # Writes are few (intents, state changes, event batches), so the fsync per commit costs little.
            self._conn = connect(path, timeout_s=timeout_s, synchronous="FULL")
            try:
                with self._lock:
                    migrate(self._conn)
            except BaseException:
                self._conn.close()
                raise

    def _explained(self) -> contextlib.AbstractContextManager[None]:
        return explained(self.path, what="the tunedeck store", recreate=_RECREATE)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._explained(), immediate_transaction(self._conn, self._lock) as conn:
            yield conn

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._explained(), self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Row | None:
        with self._explained(), self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
            return row

    def pragma(self, name: str) -> Any:
        with self._explained(), self._lock:
            return self._conn.execute(f"PRAGMA {name}").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
