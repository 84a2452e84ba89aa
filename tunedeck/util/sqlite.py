"""The SQLite conventions both databases share (tunedeck's store and the local backend's): WAL, explicit
IMMEDIATE write transactions, one connection shared by threads behind a lock, and one sentence (not a
traceback) for a database file that is damaged, locked by another process or cannot be opened."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from tunedeck.errors import TunedeckError
from tunedeck.exitcodes import ExitCode


def connect(path: Path, *, timeout_s: float, synchronous: str) -> sqlite3.Connection:
    """A connection in WAL mode with foreign keys on; isolation_level=None so callers issue BEGIN themselves."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=timeout_s)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


@contextlib.contextmanager
def immediate_transaction(conn: sqlite3.Connection, lock: threading.RLock) -> Iterator[sqlite3.Connection]:
    """A write transaction taken with IMMEDIATE so two processes never deadlock upgrading a read lock."""
    with lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


# SQLite's primary result codes that mean "this file cannot be used", as opposed to a bug in a statement.
_DAMAGED = {"SQLITE_NOTADB", "SQLITE_CORRUPT"}
_BUSY = {"SQLITE_BUSY", "SQLITE_LOCKED"}
_UNUSABLE = {"SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_PERM", "SQLITE_AUTH"}


def _primary(exc: sqlite3.Error) -> str:
    name = getattr(exc, "sqlite_errorname", "") or ""
    # Extended names carry a suffix (SQLITE_IOERR_SHORT_READ, SQLITE_BUSY_SNAPSHOT): keep the primary part.
    for known in _DAMAGED | _BUSY | _UNUSABLE:
        if name == known or name.startswith(known + "_"):
            return known
    return name


def is_unusable(exc: BaseException) -> bool:
    """True for the failures of the file itself (damaged, locked, unopenable), not of one statement."""
    if isinstance(exc, OSError):
        return True
    return isinstance(exc, sqlite3.Error) and _primary(exc) in _DAMAGED | _BUSY | _UNUSABLE


def unusable_database(path: Path, exc: BaseException, *, what: str, recreate: str) -> TunedeckError:
    """A sentence for a database that cannot be used: what is wrong, where the file is, and what to do.

    `what` names the database ("the tunedeck store"); `recreate` says what moving it aside costs.
    """
    what = what[:1].upper() + what[1:]
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        return TunedeckError(
            f"{what} cannot be created at {path}: {blocking} is a file, not a directory.",
            f"Move {blocking} aside, or point tunedeck elsewhere (TUNEDECK_DATA_DIR, TUNEDECK_HOME).",
            exit_code=ExitCode.USAGE,
        )
    if path.is_dir():
        return TunedeckError(
            f"{what} at {path} is a directory, not a database file.",
            f"Move it aside (mv {path} {path}.moved) and run the command again; {recreate}",
            exit_code=ExitCode.USAGE,
        )
    name = _primary(exc) if isinstance(exc, sqlite3.Error) else ""
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    if name in _DAMAGED:
        return TunedeckError(
            f"{what} at {path} is damaged ({detail}).",
            f"Restore it from a backup, or move it aside (mv {path} {path}.broken) and run the command again; "
            f"{recreate}",
            exit_code=ExitCode.USAGE,
        )
    if name in _BUSY:
        return TunedeckError(
            f"{what} at {path} is locked by another process ({detail}).",
            "Wait for the other tunedeck command (or whatever program holds the file) to finish, then retry.",
            exit_code=ExitCode.UNAVAILABLE,
        )
    return TunedeckError(
        f"{what} at {path} cannot be used: {detail}.",
        "Check that the file and its directory exist, are yours and are writable, and that the disk has room.",
        exit_code=ExitCode.USAGE,
    )


@contextlib.contextmanager
def explained(path: Path, *, what: str, recreate: str) -> Iterator[None]:
    """Turn a damaged, locked or unopenable database into `unusable_database`'s TunedeckError; others pass."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        if not is_unusable(exc):
            raise
        raise unusable_database(path, exc, what=what, recreate=recreate) from exc
