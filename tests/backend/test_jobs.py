"""JobRunner's state machine without a worker: races between the scheduler and a cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from localbackend.db import Database, now
from localbackend.jobs import JobRunner
from localbackend.registry import ModelRegistry


def _runner(tmp_path: Path) -> JobRunner:
    db = Database(tmp_path / "backend.sqlite3")
    return JobRunner(db, ModelRegistry(db, started_at=now()), tmp_path / "jobs", tmp_path / "cache")


def test_a_cancel_during_validation_wins_and_does_not_break_the_scheduler(tmp_path: Path) -> None:
    runner = _runner(tmp_path)
    data = tmp_path / "train.jsonl"
    data.write_text("{}\n")
    runner.db.insert(
        "files",
        {"id": "file-1", "filename": "t.jsonl", "bytes": 3, "purpose": "fine-tune", "path": str(data), "created_at": 0},
    )
    job = {"id": "ftjob-1", "created_at": 0, "model": "m", "training_file": "file-1", "seed": 1}
    runner.db.insert("jobs", {**job, "status": "validating_files"})
    check_files = runner._missing_file

    def cancelled_meanwhile(row: dict[str, Any]) -> dict[str, Any] | None:
        runner.cancel("ftjob-1")  # lands between the scheduler's read and its status update
        return check_files(row)

    runner._missing_file = cancelled_meanwhile  # type: ignore[method-assign, assignment]
    runner._validate("ftjob-1")  # raised JobFinishedError before, which ended the scheduler thread

    row = runner.db.get("jobs", "ftjob-1")
    assert row is not None and row["status"] == "cancelled"
    messages = [e["message"] for e in runner.db.query("SELECT message FROM events ORDER BY seq")]
    assert "Files validated, moving job to queued state" not in messages
    runner.db.close()


def test_a_job_that_cannot_be_started_fails_alone(tmp_path: Path) -> None:
    runner = _runner(tmp_path)
    runner.db.insert(
        "jobs", {"id": "ftjob-2", "created_at": 0, "model": "m", "training_file": "f", "seed": 1, "status": "queued"}
    )

    def broken_launch(job_id: str) -> None:
        raise OSError("No space left on device")

    runner._guarded("ftjob-2", broken_launch)  # what the scheduler loop does for each queued job

    row = runner.db.get("jobs", "ftjob-2")
    assert row is not None and row["status"] == "failed"
    assert row["error"]["code"] == "server_error" and "No space left on device" in row["error"]["message"]
    runner.db.close()
