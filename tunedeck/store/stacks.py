"""Pulumi stack outputs, saved after each `up` so other commands need not ask Pulumi again."""

from __future__ import annotations

from typing import Any

import orjson

from tunedeck.store.db import Database
from tunedeck.store.records import StackOutputs, stored_time, to_iso, utcnow

SAVED_AT_KEY = "saved_at"


class StackStore:
    db: Database

    def save_stack_outputs(self, stack: str, outputs: dict[str, Any]) -> None:
        """Replace the outputs recorded for `stack` (JSON-serialisable values; secrets must not be passed)."""
        payload = orjson.dumps(outputs, default=str).decode()
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO stack_outputs (stack, outputs_json, saved_at) VALUES (?, ?, ?)"
                " ON CONFLICT (stack) DO UPDATE SET outputs_json = excluded.outputs_json, saved_at = excluded.saved_at",
                (stack, payload, to_iso(utcnow())),
            )

    def get_stack_outputs(self, stack: str) -> dict[str, Any] | None:
        """The saved outputs plus a `saved_at` key (ISO-8601 UTC string); None when the stack was never saved."""
        record = self.get_stack_record(stack)
        if record is None:
            return None
        return {**record.outputs, SAVED_AT_KEY: record.saved_at.isoformat()}

    def get_stack_record(self, stack: str) -> StackOutputs | None:
        row = self.db.query_one("SELECT * FROM stack_outputs WHERE stack = ?", (stack,))
        if row is None:
            return None
        outputs = orjson.loads(row["outputs_json"])
        return StackOutputs(stack=row["stack"], outputs=outputs, saved_at=stored_time(row["saved_at"]))

    def forget_stack_outputs(self, stack: str) -> None:
        """Called after `destroy`: the outputs no longer describe anything that exists."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM stack_outputs WHERE stack = ?", (stack,))
