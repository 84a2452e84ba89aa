"""The local backend's metadata store: one SQLite file (WAL) of files, jobs, events, checkpoints and models.

One connection shared by the server's threads behind a lock: the server is the only writer (workers send
their events over a pipe), so a lock is simpler and safer than a connection per thread. A file that is
damaged, a directory, unopenable or locked by another process fails the open with one TunedeckError that
`tunedeck serve` prints before it starts serving.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from tunedeck.errors import TunedeckError
from tunedeck.exitcodes import ExitCode
from tunedeck.util.sqlite import connect, explained, immediate_transaction

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    filename TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    path TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    created_at INTEGER NOT NULL,
    model TEXT NOT NULL,
    training_file TEXT NOT NULL,
    validation_file TEXT,
    suffix TEXT,
    seed INTEGER NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    hyperparameters TEXT NOT NULL DEFAULT '{}',
    options TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    error TEXT,
    fine_tuned_model TEXT,
    finished_at INTEGER,
    trained_tokens INTEGER,
    estimated_finish INTEGER,
    worker_pid INTEGER
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    job_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL,
    type TEXT NOT NULL,
    data TEXT
);
CREATE INDEX IF NOT EXISTS events_job ON events (job_id, seq);
CREATE TABLE IF NOT EXISTS checkpoints (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    job_id TEXT NOT NULL,
    model_id TEXT UNIQUE NOT NULL,
    step INTEGER NOT NULL,
    path TEXT NOT NULL,
    metrics TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS models (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    job_id TEXT NOT NULL,
    adapter_path TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
"""

# Columns stored as JSON text, decoded on the way out.
_JSON_COLUMNS = {"metadata", "hyperparameters", "options", "error", "data", "metrics"}


_RECREATE = (
    "the local backend then starts empty, forgetting its uploaded files, jobs and tuned models (their files "
    "stay in the data dir)."
)


class SchemaTooNewError(TunedeckError):
    """The data dir was written by a newer tunedeck; refusing to touch it beats corrupting it."""

    exit_code = ExitCode.USAGE


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(12)}"


def now() -> int:
    return int(time.time())


class Database:
    """Thread-safe access to the backend's SQLite file. Rows come back as plain dicts."""

    def __init__(self, path: Path, *, busy_timeout_s: float = 30) -> None:
        self.path = path
        self._lock = threading.RLock()
        with explained(path, what="the local backend's database", recreate=_RECREATE):
            self._conn = connect(path, timeout_s=busy_timeout_s, synchronous="NORMAL")
            try:
                self._migrate()
            except BaseException:
                self._conn.close()
                raise

    def _migrate(self) -> None:
        with self._lock:
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise SchemaTooNewError(
                    f"{self.path} has schema version {version}; this tunedeck knows {SCHEMA_VERSION}.",
                    "Upgrade tunedeck; it never downgrades the local backend's database.",
                )
            if version < SCHEMA_VERSION:
                # One script in one transaction: a crash mid-migration leaves the old schema intact.
                self._conn.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}PRAGMA user_version={SCHEMA_VERSION};COMMIT;")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate_transaction(self._conn, self._lock)

    # --- generic helpers -------------------------------------------------------------------------------
    def insert(self, table: str, row: dict[str, Any]) -> None:
        values = {key: _encode(key, value) for key, value in row.items()}
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self._lock:
            self._conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(values.values()))

    def update(self, table: str, row_id: str, **changes: Any) -> None:
        if not changes:
            return
        sets = ", ".join(f"{key} = ?" for key in changes)
        params = [_encode(key, value) for key, value in changes.items()]
        with self._lock:
            self._conn.execute(f"UPDATE {table} SET {sets} WHERE id = ?", [*params, row_id])

    def get(self, table: str, row_id: str) -> dict[str, Any] | None:
        rows = self.query(f"SELECT * FROM {table} WHERE id = ?", [row_id])
        return rows[0] if rows else None

    def delete(self, table: str, row_id: str) -> bool:
        with self._lock:
            return self._conn.execute(f"DELETE FROM {table} WHERE id = ?", [row_id]).rowcount > 0

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(sql, list(params)).fetchall()
        return [_decode(row) for row in rows]

    def page(
        self,
        table: str,
        *,
        after: str | None,
        limit: int,
        where: str = "1",
        params: Sequence[Any] = (),
        ascending: bool = False,
    ) -> tuple[list[dict[str, Any]], bool]:
        """One page in insertion order (newest first unless `ascending`), after the row with id `after`.

        Returns `(rows, has_more)`; an unknown `after` yields an empty page, as a cursor past the end would.
        """
        op, order = (">", "ASC") if ascending else ("<", "DESC")
        clause, args = where, list(params)
        if after is not None:
            clause += f" AND seq {op} COALESCE((SELECT seq FROM {table} WHERE id = ?), {'1e18' if ascending else '-1'})"
            args.append(after)
        rows = self.query(f"SELECT * FROM {table} WHERE {clause} ORDER BY seq {order} LIMIT ?", [*args, limit + 1])
        return rows[:limit], len(rows) > limit


def _encode(column: str, value: Any) -> Any:
    if column in _JSON_COLUMNS and value is not None:
        return json.dumps(value, separators=(",", ":"))
    return value


def _decode(row: sqlite3.Row) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in row.keys():  # noqa: SIM118 - sqlite3.Row is not a mapping
        value = row[key]
        out[key] = json.loads(value) if key in _JSON_COLUMNS and isinstance(value, str) else value
    return out
