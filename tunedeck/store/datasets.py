"""Dataset uploads in the store, deduplicated by (provider, content hash) so the same file is sent once."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from tunedeck.store.db import Database
from tunedeck.store.records import DatasetRecord, stored_time, to_iso, utcnow


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class DatasetStore:
    db: Database

    def find_dataset(self, provider: str, sha256: str) -> DatasetRecord | None:
        row = self.db.query_one("SELECT * FROM datasets WHERE provider = ? AND sha256 = ?", (provider, sha256))
        return _dataset(row) if row else None

    def record_dataset(
        self, provider: str, path: Path, sha256: str, size_bytes: int, provider_file_id: str
    ) -> DatasetRecord:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO datasets (provider, path, sha256, size_bytes, provider_file_id, uploaded_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (provider, sha256) DO UPDATE SET"
                " provider_file_id = excluded.provider_file_id, path = excluded.path,"
                " uploaded_at = excluded.uploaded_at",
                (provider, str(path), sha256, size_bytes, provider_file_id, to_iso(utcnow())),
            )
        found = self.find_dataset(provider, sha256)
        assert found is not None
        return found

    def forget_dataset(self, provider: str, sha256: str) -> None:
        """The provider lost the file (deleted, expired): the next submission uploads it again."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM datasets WHERE provider = ? AND sha256 = ?", (provider, sha256))

    def list_datasets(self) -> list[DatasetRecord]:
        return [_dataset(r) for r in self.db.query("SELECT * FROM datasets ORDER BY uploaded_at DESC")]


def _dataset(row: sqlite3.Row) -> DatasetRecord:
    return DatasetRecord(
        id=row["id"],
        provider=row["provider"],
        path=row["path"],
        sha256=row["sha256"],
        size_bytes=row["size_bytes"],
        provider_file_id=row["provider_file_id"],
        uploaded_at=stored_time(row["uploaded_at"]),
    )
