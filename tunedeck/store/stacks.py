"""Pulumi stack outputs, saved after each `up` so other commands (and machines without Pulumi) need not ask again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from tunedeck.store.db import Database
from tunedeck.store.records import stored_time, to_iso, utcnow


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

    def load_stack_outputs(self, stack: str) -> tuple[dict[str, Any], datetime] | None:
        """The saved outputs and when they were saved; None when the stack was never saved."""
        row = self.db.query_one("SELECT * FROM stack_outputs WHERE stack = ?", (stack,))
        if row is None:
            return None
        return orjson.loads(row["outputs_json"]), stored_time(row["saved_at"])

    def forget_stack_outputs(self, stack: str) -> None:
        """Called after `destroy`: the outputs no longer describe anything that exists."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM stack_outputs WHERE stack = ?", (stack,))
