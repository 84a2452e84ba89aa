"""Numbered schema migrations for the store, applied in order and tracked in `PRAGMA user_version`."""

from __future__ import annotations

import sqlite3

# Append only: a released migration is never edited, because user databases already ran it.
# Each entry brings the schema from version i to i + 1 (index 0 → version 1).
MIGRATIONS: tuple[str, ...] = (
    # 1: Pulumi stack outputs, needed first by `tunedeck infra`.
    """
    CREATE TABLE stack_outputs (
        stack TEXT PRIMARY KEY,
        outputs_json TEXT NOT NULL,
        saved_at TEXT NOT NULL
    );
    """,
    # 2: datasets, jobs (with state history and events), models, endpoints and teardowns.
    """
    CREATE TABLE datasets (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        provider TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        provider_file_id TEXT NOT NULL,
        uploaded_at TEXT NOT NULL,
        UNIQUE (provider, sha256)
    );
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        client_key TEXT NOT NULL UNIQUE,
        provider TEXT NOT NULL,
        base_model TEXT NOT NULL,
        spec_json TEXT NOT NULL,
        submission TEXT NOT NULL,
        provider_job_id TEXT,
        state TEXT NOT NULL,
        raw_state TEXT NOT NULL DEFAULT '',
        state_detail TEXT NOT NULL DEFAULT '',
        unknown_since TEXT,
        fine_tuned_model TEXT,
        error TEXT,
        estimated_tokens INTEGER,
        estimated_cost_usd REAL,
        billed_tokens INTEGER,
        actual_cost_usd REAL,
        last_event_id TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE UNIQUE INDEX jobs_provider_job ON jobs (provider, provider_job_id) WHERE provider_job_id IS NOT NULL;
    CREATE TABLE job_states (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL REFERENCES jobs (id),
        state TEXT NOT NULL,
        raw_state TEXT NOT NULL,
        detail TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX job_states_job ON job_states (job_id, id);
    CREATE TABLE job_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL REFERENCES jobs (id),
        event_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        level TEXT NOT NULL,
        message TEXT NOT NULL,
        metrics_json TEXT,
        UNIQUE (job_id, event_id)
    );
    CREATE TABLE models (
        name TEXT NOT NULL,
        provider TEXT NOT NULL,
        base_model TEXT NOT NULL,
        job_id TEXT REFERENCES jobs (id),
        created_at TEXT NOT NULL,
        PRIMARY KEY (provider, name)
    );
    CREATE TABLE endpoints (
        provider TEXT NOT NULL,
        id TEXT NOT NULL,
        display_name TEXT NOT NULL,
        model TEXT NOT NULL,
        hourly_rate_usd REAL,
        machine_type TEXT NOT NULL DEFAULT '',
        labels_json TEXT NOT NULL DEFAULT '{}',
        created_at TEXT,
        last_used_at TEXT,
        first_seen_at TEXT NOT NULL,
        idle_teardown_s REAL,
        torn_down_at TEXT,
        PRIMARY KEY (provider, id)
    );
    CREATE TABLE teardowns (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        provider TEXT NOT NULL,
        endpoint_id TEXT NOT NULL,
        outcome TEXT NOT NULL,
        reason TEXT NOT NULL,
        error TEXT,
        accrued_cost_usd REAL,
        at TEXT NOT NULL
    );
    """,
    # 3: deployments (`endpoints deploy`): written before the first remote call, and every resource it creates
    # is appended as soon as the provider reports it, so a deployment that fails half-way stays findable.
    """
    CREATE TABLE deployments (
        id TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        base_model TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        endpoint_id TEXT,
        deployed_model_id TEXT,
        serving_model TEXT,
        machine_type TEXT NOT NULL DEFAULT '',
        accelerator_type TEXT NOT NULL DEFAULT '',
        accelerator_count INTEGER NOT NULL DEFAULT 0,
        min_replicas INTEGER NOT NULL DEFAULT 1,
        max_replicas INTEGER NOT NULL DEFAULT 1,
        hourly_rate_usd REAL,
        resources_json TEXT NOT NULL DEFAULT '[]',
        error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX deployments_model ON deployments (provider, model);
    """,
    # 4: evaluation runs, their held-out items, one answer per (model, item, repeat), and judge verdicts.
    """
    CREATE TABLE eval_runs (
        id TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        spec_json TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE INDEX eval_runs_fingerprint ON eval_runs (fingerprint, created_at);
    CREATE TABLE eval_items (
        run_id TEXT NOT NULL REFERENCES eval_runs (id),
        item INTEGER NOT NULL,
        line INTEGER NOT NULL,
        prompt_hash TEXT NOT NULL,
        messages_json TEXT NOT NULL,
        reference TEXT NOT NULL,
        PRIMARY KEY (run_id, item)
    );
    CREATE TABLE eval_samples (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES eval_runs (id),
        model TEXT NOT NULL,
        item INTEGER NOT NULL,
        repeat INTEGER NOT NULL,
        prompt_hash TEXT NOT NULL,
        cache_key TEXT NOT NULL,
        output TEXT,
        error TEXT,
        latency_s REAL,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        cost_usd REAL,
        cached_from INTEGER,
        scores_json TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        UNIQUE (run_id, model, item, repeat)
    );
    CREATE INDEX eval_samples_cache ON eval_samples (cache_key, id) WHERE error IS NULL;
    CREATE TABLE eval_judgements (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES eval_runs (id),
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        item INTEGER NOT NULL,
        repeat INTEGER NOT NULL,
        cache_key TEXT NOT NULL,
        verdict_json TEXT,
        error TEXT,
        latency_s REAL,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        cost_usd REAL,
        created_at TEXT NOT NULL,
        UNIQUE (run_id, kind, subject, item, repeat)
    );
    CREATE INDEX eval_judgements_cache ON eval_judgements (cache_key, id) WHERE error IS NULL;
    """,
    # 5: which of two or three answers to the same prompt a person preferred (the playground's marks), for the
    # evaluation reports. `preferred` is the index into candidates_json; NULL is a tie.
    """
    CREATE TABLE preferences (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        prompt TEXT NOT NULL,
        source TEXT,
        candidates_json TEXT NOT NULL,
        preferred INTEGER,
        at TEXT NOT NULL
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the database up to `target`; each step and its version bump commit together or not at all."""
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        from tunedeck.errors import UsageError

        raise UsageError(
            f"The store was written by a newer tunedeck (schema {current}, this one knows {SCHEMA_VERSION}).",
            "Upgrade tunedeck; it never downgrades a database.",
        )
    for version in range(current, target):
        # executescript would COMMIT implicitly, so run statements one by one inside our own transaction.
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return schema_version(conn)


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]
