"""Model ids of the local backend and the adapters behind them.

`smollm2-135m-instruct` is the base model (no adapter); `ft:smollm2-135m-instruct:local:SUFFIX:JOBID` a
fine-tuned model (the job's final adapter); `...:ckpt-step-N` one of its checkpoints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from localbackend.basemodel import BASE_MODEL_ID
from localbackend.db import Database

OWNER = "local"
# Letters, digits, dot, dash, underscore: a colon would make the model id ambiguous. Use it with fullmatch: `$`
# alone also matches before a trailing newline, which let "abc\n" into a model id.
SUFFIX_PATTERN = re.compile(r"[A-Za-z0-9._-]{0,64}")
_CKPT = re.compile(r":ckpt-step-(\d+)$")


class UnknownModelError(LookupError):
    """No model with that id exists (or it was deleted)."""


@dataclass(frozen=True)
class ResolvedModel:
    id: str
    adapter: Path | None
    """None for the base model."""
    created_at: int
    job_id: str | None = None
    checkpoint: bool = False


def fine_tuned_model_id(suffix: str | None, job_id: str) -> str:
    return f"ft:{BASE_MODEL_ID}:{OWNER}:{suffix or ''}:{job_id}"


def checkpoint_model_id(fine_tuned_id: str, step: int) -> str:
    return f"{fine_tuned_id}:ckpt-step-{step}"


class ModelRegistry:
    """Resolves model ids to adapter directories using the backend's database."""

    def __init__(self, db: Database, started_at: int) -> None:
        self.db = db
        self.started_at = started_at

    def resolve(self, model_id: str) -> ResolvedModel:
        if model_id == BASE_MODEL_ID:
            return ResolvedModel(BASE_MODEL_ID, None, self.started_at)
        if _CKPT.search(model_id):
            rows = self.db.query("SELECT * FROM checkpoints WHERE model_id = ?", [model_id])
            if rows and Path(rows[0]["path"]).is_dir():
                row = rows[0]
                return ResolvedModel(model_id, Path(row["path"]), row["created_at"], row["job_id"], checkpoint=True)
        else:
            found = self.db.get("models", model_id)
            if found and Path(found["adapter_path"]).is_dir():
                return ResolvedModel(model_id, Path(found["adapter_path"]), found["created_at"], found["job_id"])
        raise UnknownModelError(model_id)

    def fine_tuned(self) -> list[ResolvedModel]:
        rows = self.db.query("SELECT * FROM models ORDER BY seq")
        return [ResolvedModel(r["id"], Path(r["adapter_path"]), r["created_at"], r["job_id"]) for r in rows]

    def id_for_adapter(self, adapter: Path | None) -> str | None:
        """The model id served by an adapter directory (what the engine reports as loaded)."""
        if adapter is None:
            return BASE_MODEL_ID
        path = str(Path(adapter).resolve())
        rows = self.db.query("SELECT id FROM models WHERE adapter_path = ?", [path])
        if rows:
            return str(rows[0]["id"])
        rows = self.db.query("SELECT model_id FROM checkpoints WHERE path = ?", [path])
        return str(rows[0]["model_id"]) if rows else None

    def register_fine_tuned(self, model_id: str, job_id: str, adapter: Path, created_at: int) -> None:
        row = {"id": model_id, "job_id": job_id, "adapter_path": str(adapter.resolve()), "created_at": created_at}
        self.db.insert("models", row)

    def forget(self, model_id: str) -> bool:
        return self.db.delete("models", model_id)
