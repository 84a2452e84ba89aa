"""`migrate export`: save everything a fine-tuning job left that can be downloaded, plus golden answers of its
model, into one folder (see folder.py for the folder's rules and manifest)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from providers.base import JobState
from providers.errors import ProviderError
from providers.errors import UnavailableError as ProviderUnavailable
from tunedeck.errors import TunedeckError, UsageError
from tunedeck.events import ProgressAdvanced
from tunedeck.migration import folder as fs
from tunedeck.migration.golden import GOLDEN_FILE, record_golden
from tunedeck.migration.mapping import source_hyperparameters
from tunedeck.migration.source import exporter, resolve_source

if TYPE_CHECKING:
    from providers.base import ProviderJob
    from providers.openai_export import OpenAIExport
    from tunedeck.workspace import Workspace

DEFAULT_MAX_TOKENS = 256


@dataclass
class ExportRequest:
    job: str
    provider: str = "openai"
    out: Path | None = None
    heldout: Path | None = None
    limit: int | None = None
    overwrite: bool = False
    max_tokens: int = DEFAULT_MAX_TOKENS


@dataclass
class ExportResult:
    folder: Path
    manifest: fs.Manifest


def default_folder(job_id: str) -> Path:
    return Path.cwd() / f"migrate-{job_id}"


def export_job(ws: Workspace, request: ExportRequest) -> ExportResult:
    """Everything is checked before the folder is touched: the job exists and succeeded, held-out data exists."""
    source = resolve_source(ws, request.job, request.provider)
    reader = exporter(ws, source.provider)
    job = ws.provider(source.provider).get_job(source.job_id)
    model = _require_model(job)
    raw: dict[str, Any] = dict(job.raw)
    validation_id = raw.get("validation_file")
    if request.heldout is None and not validation_id:
        raise UsageError(
            f"No held-out data for golden answers: job {job.id} had no validation file.",
            "Pass --heldout FILE: prompts the model never trained on (any dataset format tunedeck reads).",
        )
    if request.heldout is not None and not request.heldout.is_file():
        raise UsageError(f"The held-out file {request.heldout} does not exist.", "Pass an existing --heldout FILE.")
    if request.heldout is not None:
        from tunedeck.evaluation.items import load_items

        load_items(request.heldout, 1)  # a file with no usable prompt is said now, before the folder is made
    folder = fs.prepare(request.out or default_folder(job.id), overwrite=request.overwrite)
    secrets = reader.secrets()
    manifest = fs.Manifest(
        provider=source.provider, job_id=job.id, fine_tuned_model=model, base_model=job.base_model,
        exported_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )  # fmt: skip
    try:
        _save_records(folder, manifest, raw, secrets)
        _save_events(ws, folder, manifest, source.provider, job.id, secrets)
        _download(ws, reader, folder, manifest, "training", raw.get("training_file"), "training.jsonl")
        if validation_id:
            _download(ws, reader, folder, manifest, "validation", validation_id, "validation.jsonl")
        else:
            manifest.note_missing("validation", "", "the job had no validation file")
        results = list(raw.get("result_files") or [])
        for n, file_id in enumerate(results):
            name = "step_metrics.csv" if len(results) == 1 else f"results-{n + 1}.csv"
            _download(ws, reader, folder, manifest, "results" if n == 0 else f"results-{n + 1}", file_id, name)
        if not results:
            manifest.note_missing("results", "", f"{source.provider} listed no result files for this job")
        heldout = _heldout(folder, manifest, request.heldout)
        _golden(ws, folder, manifest, source.provider, model, heldout, request)
    finally:
        fs.write_manifest(folder, manifest, secrets)  # what was saved stays described, even after a failure
    return ExportResult(folder, manifest)


def _require_model(job: ProviderJob) -> str:
    if job.status.state is not JobState.SUCCEEDED or not job.fine_tuned_model:
        raise TunedeckError(
            f"Job {job.id} is {job.status.state.value}: only a succeeded job has a model to export.",
            "Export a job that succeeded (`tunedeck migrate list` shows each job's state).",
        )
    return job.fine_tuned_model


def _save_records(folder: Path, manifest: fs.Manifest, raw: dict[str, Any], secrets: list[str]) -> None:
    fs.write_json(folder / "job.json", raw, secrets)
    fs.record(manifest, folder, "job", folder / "job.json", str(raw.get("id", "")))
    fs.write_json(folder / "hyperparameters.json", source_hyperparameters(raw), secrets)
    fs.record(manifest, folder, "hyperparameters", folder / "hyperparameters.json")


def _save_events(
    ws: Workspace, folder: Path, manifest: fs.Manifest, provider: str, job_id: str, secrets: list[str]
) -> None:
    """The job's event log (messages and per-step metrics): the loss curve survives even when the provider
    withholds or has deleted the result file."""
    try:
        events = ws.provider(provider).list_events(job_id)
    except ProviderUnavailable:
        raise
    except ProviderError as exc:
        manifest.note_missing("events", job_id, exc.title)
        return
    rows = [
        {"id": e.id, "created_at": e.created_at.isoformat(), "level": e.level, "message": e.message,
         "metrics": dict(e.metrics) if e.metrics else None}
        for e in events
    ]  # fmt: skip
    fs.write_json(folder / "events.json", rows, secrets)
    fs.record(manifest, folder, "events", folder / "events.json", job_id)


def _download(
    ws: Workspace, reader: OpenAIExport, folder: Path, manifest: fs.Manifest, kind: str, file_id: Any, name: str
) -> None:
    if not file_id:
        manifest.note_missing(kind, "", "the job record names no such file")
        return
    task = f"migrate: download {name}"
    try:
        total = reader.file_info(str(file_id)).bytes
        ws.publish(ProgressAdvanced(task, 0, total, "bytes"))
        reader.download(
            str(file_id), folder / name, lambda done: ws.publish(ProgressAdvanced(task, done, total, "bytes"))
        )
    except ProviderUnavailable:
        manifest.note_missing(kind, str(file_id), "the provider could not be reached")
        raise
    except ProviderError as exc:  # deleted, expired, not ours: said in the manifest, the rest still saved
        manifest.note_missing(kind, str(file_id), exc.title)
        return
    fs.record(manifest, folder, kind, folder / name, str(file_id))


def _heldout(folder: Path, manifest: fs.Manifest, given: Path | None) -> Path | None:
    """The held-out file, copied into the folder when given, so the folder is complete on its own."""
    if given is None:
        return fs.path_of(folder, manifest, "validation")
    target = folder / f"heldout{given.suffix or '.jsonl'}"
    if given.resolve() != target.resolve():
        from tunedeck.util.atomic import atomic_writer

        with given.open("rb") as src, atomic_writer(target, "wb", encoding=None) as out:
            shutil.copyfileobj(src, out)
    fs.record(manifest, folder, "heldout", target, str(given))
    return target


def _golden(
    ws: Workspace, folder: Path, manifest: fs.Manifest, provider: str, model: str, heldout: Path | None,
    request: ExportRequest,
) -> None:  # fmt: skip
    if heldout is None:
        manifest.note_missing("golden", model, "the held-out file could not be downloaded")
        return
    from tunedeck.evaluation.items import load_items

    items = load_items(heldout, request.limit)
    try:
        result = record_golden(
            items,
            lambda messages: ws.reply(provider, model, messages, max_tokens=request.max_tokens, temperature=0.0),
            folder / GOLDEN_FILE,
            ws.publish,
        )
    except TunedeckError as exc:  # the model stopped answering: the files above stay saved, the manifest says why
        manifest.note_missing("golden", model, exc.title)
        raise
    manifest.golden = {
        "model": model, "provider": provider, "heldout": heldout.relative_to(folder).as_posix(), "asked": result.asked,
        "answered": result.answered, "failed": result.failed, "failures": result.failures,
        "max_tokens": request.max_tokens, "temperature": 0.0,
    }  # fmt: skip
    if result.answered:
        fs.record(manifest, folder, "golden", folder / GOLDEN_FILE, model)
    else:
        manifest.note_missing("golden", model, f"no held-out item got an answer ({result.failed} failed)")
