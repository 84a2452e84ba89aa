"""Preference marks: for one prompt, the answers of two or three models and which one a person found better
(the playground records them; the evaluation reports read them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson

from tunedeck.store.db import Database
from tunedeck.store.records import stored_time, to_iso, utcnow


@dataclass(frozen=True)
class Candidate:
    provider: str
    model: str
    reply: str


@dataclass(frozen=True)
class Preference:
    id: int
    prompt: str
    candidates: tuple[Candidate, ...]
    preferred: int | None
    """Index into `candidates`; None: a tie."""
    source: str | None
    """Where the prompt came from (a validation file and line), when it was replayed."""
    at: datetime

    @property
    def winner(self) -> Candidate | None:
        return None if self.preferred is None else self.candidates[self.preferred]


class PreferenceStore:
    db: Database

    def record_preference(
        self, prompt: str, candidates: list[Candidate], preferred: int | None, source: str | None = None
    ) -> Preference:
        payload = orjson.dumps([c.__dict__ for c in candidates]).decode()
        at = utcnow()
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO preferences (prompt, source, candidates_json, preferred, at) VALUES (?, ?, ?, ?, ?)",
                (prompt, source, payload, preferred, to_iso(at)),
            )
            row_id = int(cursor.lastrowid or 0)
        return Preference(row_id, prompt, tuple(candidates), preferred, source, at)

    def list_preferences(self, limit: int | None = None) -> list[Preference]:
        """Newest first."""
        sql = "SELECT * FROM preferences ORDER BY id DESC" + (" LIMIT ?" if limit else "")
        rows = self.db.query(sql, (limit,) if limit else ())
        return [
            Preference(
                int(row["id"]),
                row["prompt"],
                tuple(Candidate(**c) for c in orjson.loads(row["candidates_json"])),
                row["preferred"],
                row["source"],
                stored_time(row["at"]),
            )
            for row in rows
        ]
