"""`migrate retrain`: the exported data in the target's format, a comparable job planned through `ws.jobs` (so the
estimate is shown and confirmed before anything bills), and, once submitted, the job remembered in the manifest
for `migrate compare`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from providers.base import TuningSpec
from tunedeck.errors import TunedeckError, UsageError
from tunedeck.migration import folder as fs
from tunedeck.migration.mapping import DEFAULT_BASE_MODELS, TARGETS, MappedHyperparameters, map_hyperparameters
from tunedeck.migration.mapping import source_hyperparameters as hyperparameters_of

if TYPE_CHECKING:
    from tunedeck.data.convert import ConvertResult
    from tunedeck.jobs.submit import SubmissionPlan
    from tunedeck.store import JobRecord
    from tunedeck.workspace import Workspace

SUFFIX = "migrated"


@dataclass
class RetrainRequest:
    folder: Path
    target: str
    base_model: str | None = None
    job: str | None = None
    """The job the user named beside `--from`: checked against the folder's, so a wrong folder is caught."""
    n_epochs: int | None = None
    batch_size: int | None = None
    learning_rate_multiplier: float | None = None


@dataclass
class RetrainPlan:
    folder: Path
    manifest: fs.Manifest
    target: str
    mapped: MappedHyperparameters
    submission: SubmissionPlan
    conversions: list[ConvertResult] = field(default_factory=list)

    def conversion_notes(self) -> list[str]:
        """What the target's format could not hold, one sentence per kind (never silently dropped)."""
        notes = []
        for result in self.conversions:
            name = Path(result.input_path).name
            notes += [f"{name}: {n.message} ({n.count}×)" for n in result.notes]
            if result.n_skipped:
                notes.append(f"{name}: {result.n_skipped} of {result.n_read} example(s) could not be converted")
        return notes

    def as_dict(self) -> dict[str, Any]:
        spec = self.submission.spec
        return {
            "folder": str(self.folder),
            "source_job": self.manifest.job_id,
            "target": self.target,
            "base_model": spec.base_model,
            "hyperparameters": self.mapped.as_dict(),
            "conversion_notes": self.conversion_notes(),
            "estimated_usd": self.submission.estimate.estimated_usd if self.submission.estimate else None,
            "cost_note": self.submission.cost_note,
            "ok": self.submission.ok,
        }


def plan_retrain(ws: Workspace, request: RetrainRequest) -> RetrainPlan:
    if request.target not in TARGETS:
        raise UsageError(f"Cannot retrain on {request.target!r}.", f"Choose --to {' or '.join(TARGETS)}.")
    folder = request.folder
    manifest = fs.read_manifest(folder)
    if request.job is not None and manifest.job_id not in (request.job, _provider_job_id(ws, request.job)):
        raise UsageError(
            f"{folder} holds the export of {manifest.job_id}, not of {request.job}.",
            f"Pass the folder `migrate export {request.job}` wrote, or drop --from.",
        )
    training = fs.path_of(folder, manifest, "training")
    if training is None:
        why = next((m.reason for m in manifest.missing if m.kind == "training"), "it is not in the folder")
        raise TunedeckError(
            f"The export in {folder} has no training file ({why}).",
            "Retraining needs the data: export again while the provider still serves the file, or put it there.",
        )
    validation = fs.path_of(folder, manifest, "validation")
    work = folder / f"retrain-{request.target}"
    conversions = [_convert(training, work, request.target)]
    if validation is not None:
        conversions.append(_convert(validation, work, request.target))
    source = (
        hyperparameters_of(orjson.loads((folder / "job.json").read_bytes())) if (folder / "job.json").is_file() else {}
    )
    overrides = {
        "n_epochs": request.n_epochs,
        "batch_size": request.batch_size,
        "learning_rate_multiplier": request.learning_rate_multiplier,
    }
    mapped = map_hyperparameters(source, request.target, overrides)
    base = request.base_model or DEFAULT_BASE_MODELS[request.target]
    train_path = Path(conversions[0].output_path)
    valid_path = Path(conversions[1].output_path) if len(conversions) > 1 else None
    spec = TuningSpec(
        base_model=base, training_file=str(train_path), suffix=SUFFIX, n_epochs=mapped.n_epochs,
        batch_size=mapped.batch_size, learning_rate_multiplier=mapped.learning_rate_multiplier,
        client_key=_client_key(manifest.job_id, request.target, base, mapped, train_path),
    )  # fmt: skip
    submission = ws.jobs.plan(request.target, spec, train_path, valid_path)
    return RetrainPlan(folder, manifest, request.target, mapped, submission, conversions)


def _provider_job_id(ws: Workspace, ref: str) -> str | None:
    known = ws.store.find_job(ref)
    return known.provider_job_id if known is not None else None


def _convert(path: Path, work: Path, target: str) -> ConvertResult:
    from tunedeck.data.convert import convert_file
    from tunedeck.data.rules import rules_for

    native = rules_for(target).native_format
    return convert_file(path, work / f"{path.stem}.{native.value}.jsonl", native, overwrite=True)


def _client_key(job_id: str, target: str, base: str, mapped: MappedHyperparameters, data: Path) -> str:
    """The same retrain asked twice (a retry after a crash, a second `--yes`) finds the first job, never a second
    paid one; changing the data, model or hyperparameters makes a new key."""
    parts = [job_id, target, base, str(mapped.as_dict()), fs.sha256_of(data)]
    return "migrate-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def submit_retrain(ws: Workspace, plan: RetrainPlan) -> JobRecord:
    job = ws.jobs.submit(plan.submission)
    plan.manifest.retrain = {
        "target": plan.target,
        "job": job.id,
        "provider_job_id": job.provider_job_id,
        "base_model": job.base_model,
        "hyperparameters": plan.mapped.as_dict(),
        "conversion_notes": plan.conversion_notes(),
        "submitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    fs.write_manifest(plan.folder, plan.manifest)
    return job
