"""Jobs in the store: the submission intent, state history, events and metrics, and billed cost."""

from __future__ import annotations

import dataclasses
import secrets
import sqlite3
from collections.abc import Iterable
from typing import Any

import orjson

from providers.base import JobEvent, JobState, JobStatus, ProviderJob, TuningSpec
from providers.states import advance
from tunedeck.store.db import Database
from tunedeck.store.records import (
    EventRecord,
    JobRecord,
    ModelRecord,
    StateChange,
    Submission,
    from_iso,
    stored_time,
    to_iso,
    utcnow,
)


def new_job_id() -> str:
    return f"td-{secrets.token_hex(4)}"


def spec_to_dict(spec: TuningSpec) -> dict[str, Any]:
    return dataclasses.asdict(spec)


def spec_from_dict(data: dict[str, Any]) -> TuningSpec:
    fields = {f.name for f in dataclasses.fields(TuningSpec)}
    return TuningSpec(**{k: v for k, v in data.items() if k in fields})


class JobStore:
    db: Database

    # -- submission -------------------------------------------------------------------------------------

    def create_job_intent(
        self,
        provider: str,
        spec: TuningSpec,
        *,
        estimated_tokens: int | None = None,
        estimated_cost_usd: float | None = None,
    ) -> JobRecord:
        """Record that we are about to create a paid job; committed before the remote call is made."""
        if not spec.client_key:
            raise ValueError("spec.client_key must be set before recording an intent")
        now = to_iso(utcnow())
        job_id = new_job_id()
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO jobs (id, client_key, provider, base_model, spec_json, submission, state,"
                " estimated_tokens, estimated_cost_usd, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_id,
                    spec.client_key,
                    provider,
                    spec.base_model,
                    orjson.dumps(spec_to_dict(spec)).decode(),
                    Submission.INTENT.value,
                    JobState.VALIDATING.value,
                    estimated_tokens,
                    estimated_cost_usd,
                    now,
                    now,
                ),
            )
        return self.require_job(job_id)

    def mark_submitted(self, job_id: str, remote: ProviderJob) -> JobRecord:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET submission = ?, provider_job_id = ?, updated_at = ? WHERE id = ?",
                (Submission.SUBMITTED.value, remote.id, to_iso(utcnow()), job_id),
            )
            self._apply_status(conn, job_id, remote)
        return self.require_job(job_id)

    def mark_not_submitted(self, job_id: str, detail: str) -> JobRecord:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET submission = ?, state_detail = ?, updated_at = ? WHERE id = ? AND submission = ?",
                (Submission.NOT_SUBMITTED.value, detail, to_iso(utcnow()), job_id, Submission.INTENT.value),
            )
        return self.require_job(job_id)

    def reopen_intent(self, job_id: str) -> JobRecord:
        """A not-submitted job is about to be retried with the same client key."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET submission = ?, updated_at = ? WHERE id = ? AND submission = ?",
                (Submission.INTENT.value, to_iso(utcnow()), job_id, Submission.NOT_SUBMITTED.value),
            )
        return self.require_job(job_id)

    def edit_unsubmitted(self, job_id: str, spec: TuningSpec, estimated_cost_usd: float | None) -> JobRecord:
        """Change what a not-submitted job will ask for (`jobs retry --model`). Only such a job: no remote job
        carries its client key, so the key's promise (never a second job) still holds after the edit."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET spec_json = ?, base_model = ?, estimated_cost_usd = ?, updated_at = ?"
                " WHERE id = ? AND submission = ?",
                (
                    orjson.dumps(spec_to_dict(spec)).decode(),
                    spec.base_model,
                    estimated_cost_usd,
                    to_iso(utcnow()),
                    job_id,
                    Submission.NOT_SUBMITTED.value,
                ),
            )
        return self.require_job(job_id)

    # -- state ------------------------------------------------------------------------------------------

    def record_status(self, job_id: str, remote: ProviderJob) -> bool:
        """Store what the provider said; True when the state changed (a row is added to the history)."""
        with self.db.transaction() as conn:
            return self._apply_status(conn, job_id, remote)

    def mark_unknown(self, job_id: str, detail: str) -> bool:
        """The provider could not be asked: the job is 'unknown since' the first failed poll, never failed."""
        now = to_iso(utcnow())
        with self.db.transaction() as conn:
            row = conn.execute("SELECT state, unknown_since FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None or row["state"] == JobState.UNKNOWN.value:
                conn.execute("UPDATE jobs SET state_detail = ? WHERE id = ?", (detail, job_id))
                return False
            conn.execute(
                "UPDATE jobs SET state = ?, state_detail = ?, unknown_since = ?, updated_at = ? WHERE id = ?",
                (JobState.UNKNOWN.value, detail, now, now, job_id),
            )
            conn.execute(
                "INSERT INTO job_states (job_id, state, raw_state, detail, at) VALUES (?, ?, '', ?, ?)",
                (job_id, JobState.UNKNOWN.value, detail, now),
            )
            return True

    def _apply_status(self, conn: sqlite3.Connection, job_id: str, remote: ProviderJob) -> bool:
        now = to_iso(utcnow())
        row = conn.execute("SELECT state, raw_state, state_detail FROM jobs WHERE id = ?", (job_id,)).fetchone()
        # The state machine: a finished job stays finished whatever a stale read says (a poll racing a cancel),
        # and a raw state we do not know keeps the last known neutral state beside it.
        previous = JobStatus(JobState(row["state"]), row["raw_state"], row["state_detail"]) if row else None
        status = advance(previous, remote.status)
        changed = row is None or (row["state"], row["raw_state"]) != (status.state.value, status.raw_state)
        finished_at = to_iso(remote.finished_at) or (now if status.state.finished else None)
        conn.execute(
            "UPDATE jobs SET state = ?, raw_state = ?, state_detail = ?, unknown_since = NULL,"
            " fine_tuned_model = COALESCE(?, fine_tuned_model), error = COALESCE(?, error),"
            " billed_tokens = COALESCE(?, billed_tokens), finished_at = COALESCE(finished_at, ?), updated_at = ?"
            " WHERE id = ?",
            (
                status.state.value,
                status.raw_state,
                status.detail,
                remote.fine_tuned_model,
                remote.error,
                remote.trained_tokens,
                finished_at,
                now,
                job_id,
            ),
        )
        if changed:
            conn.execute(
                "INSERT INTO job_states (job_id, state, raw_state, detail, at) VALUES (?, ?, ?, ?, ?)",
                (job_id, status.state.value, status.raw_state, status.detail, now),
            )
        return changed

    def set_actual_cost(self, job_id: str, billed_tokens: int | None, cost_usd: float | None) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET billed_tokens = COALESCE(?, billed_tokens), actual_cost_usd = ? WHERE id = ?",
                (billed_tokens, cost_usd, job_id),
            )

    def state_history(self, job_id: str) -> list[StateChange]:
        rows = self.db.query("SELECT * FROM job_states WHERE job_id = ? ORDER BY id", (job_id,))
        return [StateChange(JobState(r["state"]), r["raw_state"], r["detail"], stored_time(r["at"])) for r in rows]

    # -- events -----------------------------------------------------------------------------------------

    def add_events(self, job_id: str, events: Iterable[JobEvent]) -> list[EventRecord]:
        """Insert events not seen before and return just those (the poll overlap is deduplicated here)."""
        fresh: list[EventRecord] = []
        with self.db.transaction() as conn:
            for event in events:
                metrics = orjson.dumps(dict(event.metrics)).decode() if event.metrics is not None else None
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO job_events (job_id, event_id, created_at, level, message, metrics_json)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (job_id, event.id, to_iso(event.created_at), event.level, event.message, metrics),
                )
                if cursor.rowcount:
                    fresh.append(
                        EventRecord(
                            job_id, event.id, event.created_at, event.level, event.message, event.metrics,
                            seq=int(cursor.lastrowid or 0),
                        )
                    )  # fmt: skip
            if fresh:
                newest = max(fresh, key=lambda e: e.created_at)
                conn.execute("UPDATE jobs SET last_event_id = ? WHERE id = ?", (newest.event_id, job_id))
        return fresh

    def list_events(self, job_id: str, *, after_seq: int = 0) -> list[EventRecord]:
        """A job's events in the order they happened; `after_seq` gives only those recorded after it."""
        rows = self.db.query(
            "SELECT * FROM job_events WHERE job_id = ? AND id > ? ORDER BY created_at, id", (job_id, after_seq)
        )
        return [_event(r) for r in rows]

    def events_after(self, after_seq: int) -> list[EventRecord]:
        """Every event recorded (by any process) after `after_seq`, in recording order: what watchers follow."""
        rows = self.db.query("SELECT * FROM job_events WHERE id > ? ORDER BY id", (after_seq,))
        return [_event(r) for r in rows]

    def last_event_seq(self) -> int:
        row = self.db.query_one("SELECT COALESCE(MAX(id), 0) AS seq FROM job_events")
        return int(row["seq"]) if row else 0

    def forget_job(self, job_id: str) -> None:
        """Remove a submission that never reached a provider (with its history); refuses any other job."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT submission FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None or row["submission"] != Submission.NOT_SUBMITTED.value:
                raise ValueError(f"job {job_id} is not a 'not-submitted' job")
            conn.execute("DELETE FROM job_events WHERE job_id = ?", (job_id,))
            conn.execute("DELETE FROM job_states WHERE job_id = ?", (job_id,))
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    # -- lookups ----------------------------------------------------------------------------------------

    def get_job(self, job_id: str) -> JobRecord | None:
        row = self.db.query_one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return _job(row) if row else None

    def require_job(self, job_id: str) -> JobRecord:
        job = self.get_job(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    def get_job_by_client_key(self, client_key: str) -> JobRecord | None:
        row = self.db.query_one("SELECT * FROM jobs WHERE client_key = ?", (client_key,))
        return _job(row) if row else None

    def find_job(self, ref: str) -> JobRecord | None:
        """A job by tunedeck id, provider job id or client key: whatever the user pasted."""
        row = self.db.query_one(
            "SELECT * FROM jobs WHERE id = ? OR provider_job_id = ? OR client_key = ? ORDER BY created_at DESC",
            (ref, ref, ref),
        )
        return _job(row) if row else None

    def list_jobs(
        self, *, unfinished_only: bool = False, provider: str | None = None, limit: int | None = None
    ) -> list[JobRecord]:
        sql = "SELECT * FROM jobs WHERE 1 = 1"
        params: list[Any] = []
        if provider:
            sql += " AND provider = ?"
            params.append(provider)
        if unfinished_only:
            finished = [s.value for s in JobState if s.finished]
            sql += f" AND state NOT IN ({', '.join('?' * len(finished))}) AND submission != ?"
            params += [*finished, Submission.NOT_SUBMITTED.value]
        sql += " ORDER BY created_at DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_job(r) for r in self.db.query(sql, tuple(params))]

    # -- models -----------------------------------------------------------------------------------------

    def record_model(self, name: str, provider: str, base_model: str, job_id: str | None) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO models (name, provider, base_model, job_id, created_at) VALUES (?, ?, ?, ?, ?)",
                (name, provider, base_model, job_id, to_iso(utcnow())),
            )

    def list_models(self, provider: str | None = None) -> list[ModelRecord]:
        rows = self.db.query(
            "SELECT * FROM models WHERE ? IS NULL OR provider = ? ORDER BY created_at DESC", (provider, provider)
        )
        return [
            ModelRecord(r["name"], r["provider"], r["base_model"], r["job_id"], stored_time(r["created_at"]))
            for r in rows
        ]


def _job(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        id=row["id"],
        client_key=row["client_key"],
        provider=row["provider"],
        base_model=row["base_model"],
        spec=orjson.loads(row["spec_json"]),
        submission=Submission(row["submission"]),
        state=JobState(row["state"]),
        created_at=stored_time(row["created_at"]),
        updated_at=stored_time(row["updated_at"]),
        provider_job_id=row["provider_job_id"],
        raw_state=row["raw_state"],
        state_detail=row["state_detail"],
        unknown_since=from_iso(row["unknown_since"]),
        fine_tuned_model=row["fine_tuned_model"],
        error=row["error"],
        estimated_tokens=row["estimated_tokens"],
        estimated_cost_usd=row["estimated_cost_usd"],
        billed_tokens=row["billed_tokens"],
        actual_cost_usd=row["actual_cost_usd"],
        last_event_id=row["last_event_id"],
        finished_at=from_iso(row["finished_at"]),
    )


def _event(row: sqlite3.Row) -> EventRecord:
    return EventRecord(
        job_id=row["job_id"],
        event_id=row["event_id"],
        created_at=stored_time(row["created_at"]),
        level=row["level"],
        message=row["message"],
        metrics=orjson.loads(row["metrics_json"]) if row["metrics_json"] else None,
        seq=int(row["id"]),
    )
