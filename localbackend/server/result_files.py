"""A finished job's result file, as OpenAI serves it: `step_metrics.csv` with one row per training step.

OpenAI lists it in the job's `result_files` and serves it through the Files API (purpose `fine-tune-results`),
with the columns step, train_loss, train_accuracy, valid_loss, valid_mean_token_accuracy. The local backend
writes it the first time someone asks for it, from the metrics events it already keeps: the id is derived from
the job's, so a job's answer needs no extra row, and a file nobody downloads is never written. Columns the local
trainer does not measure at a step (validation without a validation file) are left empty, as OpenAI leaves them.
"""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localbackend.db import now

if TYPE_CHECKING:
    from localbackend.server.state import Services

RESULT_PREFIX = "file-results-"
JOB_PREFIX = "ftjob-"
FILENAME = "step_metrics.csv"
PURPOSE = "fine-tune-results"
COLUMNS = ("step", "train_loss", "train_accuracy", "valid_loss", "valid_mean_token_accuracy")
# OpenAI's column name → the local trainer's metric of the same meaning.
_SOURCES = {"train_accuracy": "train_mean_token_accuracy"}


def result_file_ids(job: dict[str, Any]) -> list[str]:
    """What a job's `result_files` lists: one metrics file once it has succeeded, as on OpenAI."""
    if job["status"] != "succeeded":
        return []
    return [RESULT_PREFIX + str(job["id"]).removeprefix(JOB_PREFIX)]


def metrics_csv(rows: list[dict[str, Any]]) -> str:
    """The CSV of the metrics events' data, one row per step in step order (a resumed job's repeated step: the
    last one wins)."""
    by_step: dict[int, dict[str, Any]] = {}
    for data in rows:
        if isinstance(data.get("step"), int | float):
            by_step[int(data["step"])] = data
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for step in sorted(by_step):
        data = by_step[step]
        writer.writerow([step, *(_cell(data.get(_SOURCES.get(c, c))) for c in COLUMNS[1:])])
    return out.getvalue()


def _cell(value: Any) -> str:
    return "" if value is None or isinstance(value, bool) or not isinstance(value, int | float) else f"{value:.6g}"


def materialise(svc: Services, file_id: str) -> dict[str, Any] | None:
    """The files row of a result file, written on first request; None when `file_id` names no succeeded job's."""
    if not file_id.startswith(RESULT_PREFIX):
        return None
    job = svc.db.get("jobs", JOB_PREFIX + file_id.removeprefix(RESULT_PREFIX))
    if job is None or job["status"] != "succeeded":
        return None
    events = svc.db.query("SELECT data FROM events WHERE job_id = ? AND type = 'metrics' ORDER BY seq", [job["id"]])
    content = metrics_csv([e["data"] or {} for e in events]).encode()
    target = svc.config.files_dir / f"{file_id}.csv"
    _write_atomically(target, content)
    row = {
        "id": file_id,
        "filename": FILENAME,
        "bytes": len(content),
        "purpose": PURPOSE,
        "path": str(target),
        "created_at": job["finished_at"] or now(),
    }
    try:
        svc.db.insert("files", row)
    except sqlite3.IntegrityError:  # two first requests at once: the other one recorded the same file
        return svc.db.get("files", file_id)
    return row


def _write_atomically(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
