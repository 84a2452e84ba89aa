"""`migrate list`: the user's fine-tuning jobs and fine-tuned models on one provider, each with what a migration
needs to know — base model, creation date, the model's `shutdown_date` where the API gives it — and the days left
before OpenAI stops taking new jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from tunedeck.migration.deadline import LAST_DAY_FOR_NEW_JOBS, days_left

if TYPE_CHECKING:
    from providers.base import ModelInfo, Provider, ProviderJob

JOBS_LIMIT = 100


@dataclass(frozen=True)
class FineTune:
    job_id: str
    """The provider's job id; empty for a model whose job is no longer listed."""
    state: str
    base_model: str
    model: str | None
    created_at: datetime | None
    shutdown_date: str | None = None
    tunedeck_job: str | None = None
    """The tunedeck id when tunedeck submitted it."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "state": self.state,
            "base_model": self.base_model,
            "model": self.model,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "shutdown_date": self.shutdown_date,
            "tunedeck_job": self.tunedeck_job,
        }


@dataclass(frozen=True)
class FineTuneList:
    provider: str
    rows: list[FineTune]
    last_day_for_new_jobs: date = LAST_DAY_FOR_NEW_JOBS
    days_left: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "last_day_for_new_jobs": self.last_day_for_new_jobs.isoformat(),
            "days_left": self.days_left,
            "fine_tunes": [row.as_dict() for row in self.rows],
            "notes": list(self.notes),
        }


def list_fine_tunes(provider: Provider, known: dict[str, str] | None = None, on: date | None = None) -> FineTuneList:
    """Jobs (newest first) joined with the provider's fine-tuned models; `known` maps provider job ids to
    tunedeck ids. A fine-tuned model whose job is not among the listed jobs still gets a row."""
    jobs: list[ProviderJob] = provider.list_jobs(limit=JOBS_LIMIT)
    # Checkpoints (`ft:…:ckpt-step-N`) belong to their job's row, not rows of their own.
    models: list[ModelInfo] = [m for m in provider.list_models() if m.fine_tuned and ":ckpt-step-" not in m.id]
    shutdown = {m.id: m.shutdown_date for m in models}
    rows = [
        FineTune(
            job_id=job.id,
            state=job.status.state.value,
            base_model=job.base_model,
            model=job.fine_tuned_model,
            created_at=job.created_at,
            shutdown_date=shutdown.get(job.fine_tuned_model or ""),
            tunedeck_job=(known or {}).get(job.id),
        )
        for job in jobs
    ]
    listed = {row.model for row in rows}
    for model in models:
        if model.id not in listed:
            rows.append(
                FineTune(
                    job_id=model.job_id,
                    state="succeeded",
                    base_model=model.base_model or _base_of(model.id),
                    model=model.id,
                    created_at=model.created_at,
                    shutdown_date=model.shutdown_date,
                )
            )
    notes = []
    if len(jobs) == JOBS_LIMIT:
        notes.append(f"Only the newest {JOBS_LIMIT} jobs are listed; older models are listed without their job.")
    return FineTuneList(provider.name, rows, days_left=days_left(on), notes=notes)


def _base_of(model: str) -> str:
    """`ft:BASE:org:suffix:id` → BASE (what OpenAI's fine-tuned model names start with)."""
    parts = model.split(":")
    return parts[1] if len(parts) > 1 and parts[0] == "ft" else ""
