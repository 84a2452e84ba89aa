"""Hourly-billed endpoints tunedeck has seen, their idle-teardown policy, and every teardown attempt."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import orjson

from providers.base import Endpoint
from tunedeck.store.db import Database
from tunedeck.store.records import (
    EndpointRecord,
    TeardownOutcome,
    TeardownRecord,
    from_iso,
    stored_time,
    to_iso,
    utcnow,
)


class EndpointStore:
    db: Database

    def upsert_endpoint(self, endpoint: Endpoint) -> EndpointRecord:
        """Record what a provider listed. The idle policy and first-seen time survive; seen again means alive."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO endpoints (provider, id, display_name, model, hourly_rate_usd, machine_type, labels_json,"
                " created_at, last_used_at, first_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (provider, id) DO UPDATE SET display_name = excluded.display_name,"
                " model = excluded.model, hourly_rate_usd = excluded.hourly_rate_usd,"
                " machine_type = excluded.machine_type, labels_json = excluded.labels_json,"
                " created_at = COALESCE(excluded.created_at, endpoints.created_at),"
                " last_used_at = MAX(COALESCE(excluded.last_used_at, ''), COALESCE(endpoints.last_used_at, '')),"
                " torn_down_at = NULL",
                (
                    endpoint.provider,
                    endpoint.id,
                    endpoint.display_name,
                    endpoint.model,
                    endpoint.hourly_rate_usd,
                    endpoint.machine_type,
                    orjson.dumps(endpoint.labels).decode(),
                    to_iso(endpoint.created_at),
                    to_iso(endpoint.last_used_at),
                    to_iso(utcnow()),
                ),
            )
            # MAX over '' leaves '' when neither side knows a last use; keep that as NULL.
            conn.execute("UPDATE endpoints SET last_used_at = NULL WHERE last_used_at = ''")
        found = self.get_endpoint(endpoint.provider, endpoint.id)
        assert found is not None
        return found

    def get_endpoint(self, provider: str, endpoint_id: str) -> EndpointRecord | None:
        row = self.db.query_one("SELECT * FROM endpoints WHERE provider = ? AND id = ?", (provider, endpoint_id))
        return _endpoint(row) if row else None

    def find_endpoints(self, endpoint_id: str) -> list[EndpointRecord]:
        """Endpoints with this id or display name, across providers (the CLI takes either)."""
        rows = self.db.query("SELECT * FROM endpoints WHERE id = ? OR display_name = ?", (endpoint_id, endpoint_id))
        return [_endpoint(r) for r in rows]

    def list_endpoints(self, *, include_torn_down: bool = False, provider: str | None = None) -> list[EndpointRecord]:
        sql = "SELECT * FROM endpoints WHERE (? IS NULL OR provider = ?)"
        if not include_torn_down:
            sql += " AND torn_down_at IS NULL"
        rows = self.db.query(sql + " ORDER BY first_seen_at", (provider, provider))
        return [_endpoint(r) for r in rows]

    def set_idle_teardown(self, provider: str, endpoint_id: str, idle_s: float | None) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE endpoints SET idle_teardown_s = ? WHERE provider = ? AND id = ?",
                (idle_s, provider, endpoint_id),
            )

    def touch_endpoint(self, provider: str, endpoint_id: str, at: datetime | None = None) -> None:
        """Record a use (a chat) so idle teardown does not remove an endpoint someone is talking to."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE endpoints SET last_used_at = ? WHERE provider = ? AND id = ?",
                (to_iso(at or utcnow()), provider, endpoint_id),
            )

    def touch_endpoints_serving(self, provider: str, model: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE endpoints SET last_used_at = ? WHERE provider = ? AND model = ? AND torn_down_at IS NULL",
                (to_iso(utcnow()), provider, model),
            )

    def mark_endpoint_torn_down(self, provider: str, endpoint_id: str, at: datetime | None = None) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE endpoints SET torn_down_at = COALESCE(torn_down_at, ?) WHERE provider = ? AND id = ?",
                (to_iso(at or utcnow()), provider, endpoint_id),
            )

    def record_teardown(
        self,
        provider: str,
        endpoint_id: str,
        outcome: TeardownOutcome,
        reason: str,
        *,
        error: str | None = None,
        accrued_cost_usd: float | None = None,
    ) -> TeardownRecord:
        now = utcnow()
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO teardowns (provider, endpoint_id, outcome, reason, error, accrued_cost_usd, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (provider, endpoint_id, outcome.value, reason, error, accrued_cost_usd, to_iso(now)),
            )
            row_id = cursor.lastrowid
        assert row_id is not None
        return TeardownRecord(row_id, provider, endpoint_id, outcome, reason, now, error, accrued_cost_usd)

    def list_teardowns(self, endpoint_id: str | None = None) -> list[TeardownRecord]:
        rows = self.db.query(
            "SELECT * FROM teardowns WHERE ? IS NULL OR endpoint_id = ? ORDER BY id", (endpoint_id, endpoint_id)
        )
        return [
            TeardownRecord(
                id=r["id"],
                provider=r["provider"],
                endpoint_id=r["endpoint_id"],
                outcome=TeardownOutcome(r["outcome"]),
                reason=r["reason"],
                at=stored_time(r["at"]),
                error=r["error"],
                accrued_cost_usd=r["accrued_cost_usd"],
            )
            for r in rows
        ]


def _endpoint(row: sqlite3.Row) -> EndpointRecord:
    return EndpointRecord(
        provider=row["provider"],
        id=row["id"],
        display_name=row["display_name"],
        model=row["model"],
        hourly_rate_usd=row["hourly_rate_usd"],
        first_seen_at=stored_time(row["first_seen_at"]),
        machine_type=row["machine_type"],
        labels=orjson.loads(row["labels_json"]),
        created_at=from_iso(row["created_at"]),
        last_used_at=from_iso(row["last_used_at"]),
        idle_teardown_s=row["idle_teardown_s"],
        torn_down_at=from_iso(row["torn_down_at"]),
    )
