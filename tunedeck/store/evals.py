"""Evaluation runs in the store: each run's held-out items, one answer per (model, item, repeat), judge verdicts.

Answers are written as they arrive, so an interrupted run continues where it stopped; an answer without an
error is also the cache for any later run that sends the same model the same messages with the same parameters.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from tunedeck.store.db import Database
from tunedeck.store.records import from_iso, stored_time, to_iso, utcnow


def new_eval_run_id() -> str:
    return f"ev-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class EvalRunRecord:
    id: str
    fingerprint: str
    """Hash of what the answers depend on (models, prompts, parameters): an unfinished run with the same one resumes."""
    spec: dict[str, Any]
    status: str
    """`running` (or killed while running), `interrupted`, `finished`."""
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None


@dataclass(frozen=True)
class EvalItemRecord:
    item: int
    """0-based position in the run."""
    line: int
    """1-based position among the data file's conversations."""
    prompt_hash: str
    messages: list[dict[str, str]]
    """The held-out prompt: system, history and the question, as `{"role", "content"}`."""
    reference: str


@dataclass(frozen=True)
class EvalSample:
    """One answer (or the error instead of one) and its scores; `id` and `created_at` are set once stored."""

    model: str
    """The model's label in its run."""
    item: int
    repeat: int
    prompt_hash: str
    cache_key: str
    output: str | None = None
    error: str | None = None
    latency_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    cached_from: int | None = None
    """The id of the stored answer this one was copied from (a cache hit): no model was asked."""
    scores: dict[str, float] = field(default_factory=dict)
    id: int | None = None
    run_id: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class Judgement:
    """A judge model's verdict on one answer (`rubric`) or on two answers to one item (`pairwise`)."""

    kind: str
    subject: str
    """The model's label (rubric) or `A|B` (pairwise)."""
    item: int
    repeat: int
    cache_key: str
    verdict: dict[str, Any] | None = None
    error: str | None = None
    latency_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    id: int | None = None
    run_id: str = ""
    created_at: datetime | None = None


class EvalStore:
    db: Database

    # -- runs -------------------------------------------------------------------------------------------

    def create_eval_run(self, fingerprint: str, spec: dict[str, Any], items: list[EvalItemRecord]) -> EvalRunRecord:
        """The run and its items in one transaction: a run never exists without the items it is about."""
        run_id, now = new_eval_run_id(), to_iso(utcnow())
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO eval_runs (id, fingerprint, spec_json, status, created_at, updated_at)"
                " VALUES (?, ?, ?, 'running', ?, ?)",
                (run_id, fingerprint, _dumps(spec), now, now),
            )
            conn.executemany(
                "INSERT INTO eval_items (run_id, item, line, prompt_hash, messages_json, reference)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(run_id, i.item, i.line, i.prompt_hash, _dumps(i.messages), i.reference) for i in items],
            )
        run = self.get_eval_run(run_id)
        assert run is not None
        return run

    def get_eval_run(self, run_id: str) -> EvalRunRecord | None:
        row = self.db.query_one("SELECT * FROM eval_runs WHERE id = ?", (run_id,))
        return _run(row) if row else None

    def list_eval_runs(self, limit: int | None = None) -> list[EvalRunRecord]:
        sql = "SELECT * FROM eval_runs ORDER BY created_at DESC, rowid DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_run(r) for r in self.db.query(sql)]

    def unfinished_eval_run(self, fingerprint: str) -> EvalRunRecord | None:
        """The newest run with this fingerprint that never finished (interrupted or killed)."""
        row = self.db.query_one(
            "SELECT * FROM eval_runs WHERE fingerprint = ? AND status != 'finished'"
            " ORDER BY created_at DESC, rowid DESC LIMIT 1",
            (fingerprint,),
        )
        return _run(row) if row else None

    def set_eval_run_status(self, run_id: str, status: str) -> None:
        now = to_iso(utcnow())
        finished = now if status == "finished" else None
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE eval_runs SET status = ?, updated_at = ?, finished_at = ? WHERE id = ?",
                (status, now, finished, run_id),
            )

    def update_eval_run_spec(self, run_id: str, spec: dict[str, Any]) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE eval_runs SET spec_json = ?, updated_at = ? WHERE id = ?",
                (_dumps(spec), to_iso(utcnow()), run_id),
            )

    def eval_items(self, run_id: str) -> list[EvalItemRecord]:
        rows = self.db.query("SELECT * FROM eval_items WHERE run_id = ? ORDER BY item", (run_id,))
        return [
            EvalItemRecord(r["item"], r["line"], r["prompt_hash"], orjson.loads(r["messages_json"]), r["reference"])
            for r in rows
        ]

    # -- answers ----------------------------------------------------------------------------------------

    def record_eval_sample(self, run_id: str, sample: EvalSample) -> EvalSample:
        """Insert, or replace the run's earlier answer for the same (model, item, repeat), e.g. a retried error."""
        values = (
            run_id, sample.model, sample.item, sample.repeat, sample.prompt_hash, sample.cache_key, sample.output,
            sample.error, sample.latency_s, sample.prompt_tokens, sample.completion_tokens, sample.cost_usd,
            sample.cached_from, _dumps(sample.scores), to_iso(utcnow()),
        )  # fmt: skip
        with self.db.transaction() as conn:
            row = conn.execute(
                "INSERT INTO eval_samples (run_id, model, item, repeat, prompt_hash, cache_key, output, error,"
                " latency_s, prompt_tokens, completion_tokens, cost_usd, cached_from, scores_json, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (run_id, model, item, repeat) DO UPDATE SET prompt_hash = excluded.prompt_hash,"
                " cache_key = excluded.cache_key, output = excluded.output, error = excluded.error,"
                " latency_s = excluded.latency_s, prompt_tokens = excluded.prompt_tokens,"
                " completion_tokens = excluded.completion_tokens, cost_usd = excluded.cost_usd,"
                " cached_from = excluded.cached_from, scores_json = excluded.scores_json,"
                " created_at = excluded.created_at RETURNING *",
                values,
            ).fetchone()
        return _sample(row)

    def eval_samples(self, run_id: str) -> list[EvalSample]:
        rows = self.db.query("SELECT * FROM eval_samples WHERE run_id = ? ORDER BY item, model, repeat", (run_id,))
        return [_sample(r) for r in rows]

    def cached_eval_sample(self, cache_key: str) -> EvalSample | None:
        """The newest answer (never an error) to exactly this request, from any run."""
        row = self.db.query_one(
            "SELECT * FROM eval_samples WHERE cache_key = ? AND error IS NULL ORDER BY id DESC LIMIT 1", (cache_key,)
        )
        return _sample(row) if row else None

    def update_eval_scores(self, scores: dict[int, dict[str, float]]) -> None:
        """Replace the stored scores of these samples (by id): a rescore asks no model."""
        with self.db.transaction() as conn:
            conn.executemany(
                "UPDATE eval_samples SET scores_json = ? WHERE id = ?",
                [(_dumps(values), sample_id) for sample_id, values in scores.items()],
            )

    # -- judges -----------------------------------------------------------------------------------------

    def record_judgement(self, run_id: str, judgement: Judgement) -> Judgement:
        j = judgement
        values = (
            run_id, j.kind, j.subject, j.item, j.repeat, j.cache_key,
            None if j.verdict is None else _dumps(j.verdict), j.error, j.latency_s, j.prompt_tokens,
            j.completion_tokens, j.cost_usd, to_iso(utcnow()),
        )  # fmt: skip
        with self.db.transaction() as conn:
            row = conn.execute(
                "INSERT INTO eval_judgements (run_id, kind, subject, item, repeat, cache_key, verdict_json, error,"
                " latency_s, prompt_tokens, completion_tokens, cost_usd, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (run_id, kind, subject, item, repeat) DO UPDATE SET cache_key = excluded.cache_key,"
                " verdict_json = excluded.verdict_json, error = excluded.error, latency_s = excluded.latency_s,"
                " prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens,"
                " cost_usd = excluded.cost_usd, created_at = excluded.created_at RETURNING *",
                values,
            ).fetchone()
        return _judgement(row)

    def judgements(self, run_id: str, kind: str | None = None) -> list[Judgement]:
        rows = self.db.query(
            "SELECT * FROM eval_judgements WHERE run_id = ? AND (? IS NULL OR kind = ?) ORDER BY item, subject, repeat",
            (run_id, kind, kind),
        )
        return [_judgement(r) for r in rows]

    def cached_judgement(self, kind: str, cache_key: str) -> Judgement | None:
        row = self.db.query_one(
            "SELECT * FROM eval_judgements WHERE cache_key = ? AND kind = ? AND error IS NULL ORDER BY id DESC LIMIT 1",
            (cache_key, kind),
        )
        return _judgement(row) if row else None


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _run(row: sqlite3.Row) -> EvalRunRecord:
    return EvalRunRecord(
        id=row["id"],
        fingerprint=row["fingerprint"],
        spec=orjson.loads(row["spec_json"]),
        status=row["status"],
        created_at=stored_time(row["created_at"]),
        updated_at=stored_time(row["updated_at"]),
        finished_at=from_iso(row["finished_at"]),
    )


def _sample(row: sqlite3.Row) -> EvalSample:
    return EvalSample(
        model=row["model"],
        item=row["item"],
        repeat=row["repeat"],
        prompt_hash=row["prompt_hash"],
        cache_key=row["cache_key"],
        output=row["output"],
        error=row["error"],
        latency_s=row["latency_s"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        cost_usd=row["cost_usd"],
        cached_from=row["cached_from"],
        scores=orjson.loads(row["scores_json"]),
        id=row["id"],
        run_id=row["run_id"],
        created_at=stored_time(row["created_at"]),
    )


def _judgement(row: sqlite3.Row) -> Judgement:
    return Judgement(
        kind=row["kind"],
        subject=row["subject"],
        item=row["item"],
        repeat=row["repeat"],
        cache_key=row["cache_key"],
        verdict=orjson.loads(row["verdict_json"]) if row["verdict_json"] else None,
        error=row["error"],
        latency_s=row["latency_s"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        cost_usd=row["cost_usd"],
        id=row["id"],
        run_id=row["run_id"],
        created_at=stored_time(row["created_at"]),
    )
