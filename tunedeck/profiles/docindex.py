"""An SQLite FTS5 (BM25) index of a profile's docs folder, kept in the user's data dir and refreshed incrementally.

A file is re-chunked only when its size or mtime changed *and* its content hash differs, so `touch`
costs a stat and a hash, never a re-index. Changing the glob or chunking settings rebuilds from scratch.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from tunedeck.errors import UnavailableError, UsageError
from tunedeck.profiles.chunking import chunk_text
from tunedeck.profiles.schema import Chunking, Retrieval
from tunedeck.profiles.text import match_query
from tunedeck.settings import Settings

SCHEMA_VERSION = 1
# Heading matches count double: a section titled "Connecting to the VPN" is about exactly that.
_RANK = "bm25(chunks, 0.0, 2.0, 1.0, 0.0)"


@dataclass(frozen=True)
class DocHit:
    path: str
    """Relative to the docs folder, with `/` separators."""
    heading: str
    text: str
    score: float
    """BM25 relevance, higher is better (SQLite's bm25() negated)."""


@dataclass(frozen=True)
class IndexStats:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def index_path(settings: Settings, docs_dir: Path) -> Path:
    """One database per docs folder (by absolute path), so two profiles sharing docs share the index."""
    resolved = docs_dir.resolve()
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:12]
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", resolved.name)[:40] or "docs"
    return settings.data_dir / "profiles" / "index" / f"{slug}-{digest}.sqlite"


class DocIndex:
    def __init__(self, docs_dir: Path, db_path: Path, *, glob: str = "**/*.md", chunking: Chunking | None = None):
        self.docs_dir = docs_dir
        self.db_path = db_path
        self.glob = glob
        self.chunking = chunking or Chunking()
        db_path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE around each refresh.
        # A session outlives the thread that opened it (the TUI asks from a new worker each time), so the
        # connection may move between threads; its users take turns (one question at a time per session).
        self._db = sqlite3.connect(db_path, isolation_level=None, timeout=30, check_same_thread=False)
        self._ensure_schema()

    @classmethod
    def for_retrieval(cls, retrieval: Retrieval, settings: Settings) -> DocIndex:
        return cls(
            retrieval.docs, index_path(settings, retrieval.docs), glob=retrieval.glob, chunking=retrieval.chunking
        )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> DocIndex:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _fingerprint(self) -> str:
        return json.dumps({"schema": SCHEMA_VERSION, "glob": self.glob, "chunking": self.chunking.model_dump()})

    def _ensure_schema(self) -> None:
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = db.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
            if row is None or row[0] != self._fingerprint():
                db.execute("DROP TABLE IF EXISTS files")
                db.execute("DROP TABLE IF EXISTS chunks")
            db.execute(
                "CREATE TABLE IF NOT EXISTS files("
                "path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL)"
            )
            db.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS chunks USING fts5("
                "path UNINDEXED, heading, body, ordinal UNINDEXED, tokenize = 'porter unicode61')"
            )
            db.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (self._fingerprint(),))
            db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if "fts5" in str(exc).lower():
                raise UnavailableError(
                    "This Python's SQLite has no FTS5 full-text search.", "Use a Python built with SQLite ≥ 3.9 + FTS5."
                ) from exc
            raise

    def _current_files(self) -> dict[str, Path]:
        if not self.docs_dir.is_dir():
            raise UsageError(
                f"The retrieval docs folder {self.docs_dir} does not exist.",
                "Fix `retrieval.docs` in the profile (relative paths start at the profile's folder).",
            )
        found = {}
        for path in sorted(self.docs_dir.glob(self.glob)):
            if path.is_file() and not any(part.startswith(".") for part in path.relative_to(self.docs_dir).parts):
                found[path.relative_to(self.docs_dir).as_posix()] = path
        return found

    def refresh(self) -> IndexStats:
        """Bring the index in line with the folder; cheap when nothing changed (one stat per file)."""
        current = self._current_files()
        db = self._db
        added = updated = removed = unchanged = 0
        db.execute("BEGIN IMMEDIATE")
        try:
            known = {row[0]: row[1:] for row in db.execute("SELECT path, mtime_ns, size, sha256 FROM files")}
            for rel in set(known) - set(current):
                db.execute("DELETE FROM chunks WHERE path = ?", (rel,))
                db.execute("DELETE FROM files WHERE path = ?", (rel,))
                removed += 1
            for rel, path in current.items():
                stat = path.stat()
                previous = known.get(rel)
                if previous is not None and (previous[0], previous[1]) == (stat.st_mtime_ns, stat.st_size):
                    unchanged += 1
                    continue
                data = path.read_bytes()
                digest = hashlib.sha256(data).hexdigest()
                if previous is None or previous[2] != digest:
                    db.execute("DELETE FROM chunks WHERE path = ?", (rel,))
                    for chunk in chunk_text(data.decode("utf-8", errors="replace"), self.chunking):
                        db.execute(
                            "INSERT INTO chunks(path, heading, body, ordinal) VALUES (?, ?, ?, ?)",
                            (rel, chunk.heading, chunk.text, chunk.ordinal),
                        )
                    if previous is None:
                        added += 1
                    else:
                        updated += 1
                else:
                    unchanged += 1
                db.execute(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", (rel, stat.st_mtime_ns, stat.st_size, digest)
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        (chunks,) = db.execute("SELECT count(*) FROM chunks").fetchone()
        return IndexStats(added, updated, removed, unchanged, chunks)

    def search(self, question: str, top_k: int = 3) -> list[DocHit]:
        query = match_query(question)
        if query is None:
            return []
        rows = self._db.execute(
            f"SELECT path, heading, body, {_RANK} AS rank FROM chunks WHERE chunks MATCH ? ORDER BY rank LIMIT ?",
            (query, top_k),
        ).fetchall()
        return [DocHit(path, heading, body, -rank) for path, heading, body, rank in rows]
