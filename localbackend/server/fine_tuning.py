"""`/v1/fine_tuning/jobs`: create, list (with metadata filters), retrieve, cancel, events and checkpoints."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request

from localbackend.basemodel import BASE_MODEL_ID
from localbackend.db import new_id, now
from localbackend.jobs import JobFinishedError, JobNotFoundError
from localbackend.registry import SUFFIX_PATTERN
from localbackend.server.edge import EdgeRoute
from localbackend.server.errors import bad_request, not_found
from localbackend.server.fine_tuning_schema import CreateJobRequest, Hyperparameters
from localbackend.server.pagination import check_limit, list_page
from localbackend.server.result_files import result_file_ids
from localbackend.server.state import Services, Svc

router = APIRouter(prefix="/v1/fine_tuning/jobs", tags=["fine-tuning"], route_class=EdgeRoute)

METADATA_KEY_MAX, METADATA_VALUE_MAX = 64, 512


def job_object(row: dict[str, Any]) -> dict[str, Any]:
    hyper = row["hyperparameters"]
    return {
        "object": "fine_tuning.job",
        "id": row["id"],
        "created_at": row["created_at"],
        "model": row["model"],
        "training_file": row["training_file"],
        "validation_file": row["validation_file"],
        "status": row["status"],
        "error": row["error"],
        "fine_tuned_model": row["fine_tuned_model"],
        "finished_at": row["finished_at"],
        "hyperparameters": hyper,
        "organization_id": "local",
        "result_files": result_file_ids(row),
        "seed": row["seed"],
        "trained_tokens": row["trained_tokens"],
        "estimated_finish": row["estimated_finish"],
        "integrations": [],
        "metadata": row["metadata"] or None,
        "method": {"type": "supervised", "supervised": {"hyperparameters": {**hyper, **row["options"]}}},
        "user_provided_suffix": row["suffix"],
    }


def _hyperparameters(body: CreateJobRequest) -> Hyperparameters:
    if body.method is not None:
        if body.method.type != "supervised":
            raise bad_request(
                f"Fine-tuning method {body.method.type!r} is not supported by the local backend; use 'supervised'.",
                param="method.type",
            )
        if body.hyperparameters is not None:
            raise bad_request(
                "Pass hyperparameters in method.supervised.hyperparameters or the deprecated top-level "
                "hyperparameters, not both.",
                param="hyperparameters",
            )
        return body.method.supervised.hyperparameters if body.method.supervised else Hyperparameters()
    return body.hyperparameters or Hyperparameters()


def _check_file(svc: Services, file_id: str | None, param: str) -> None:
    if file_id is None:
        return
    row = svc.db.get("files", file_id)
    if row is None:
        raise bad_request(f"Invalid file ID {file_id!r}: no such file.", param=param, code="invalid_file")
    if row["purpose"] != "fine-tune":
        raise bad_request(f"File {file_id} has purpose {row['purpose']!r}, not 'fine-tune'.", param=param)


def _check_metadata(metadata: dict[str, str]) -> None:
    for key, value in metadata.items():
        if len(key) > METADATA_KEY_MAX or len(value) > METADATA_VALUE_MAX:
            raise bad_request(
                f"Metadata keys are at most {METADATA_KEY_MAX} characters and values {METADATA_VALUE_MAX}.",
                param="metadata",
            )


@router.post("")
async def create_job(body: CreateJobRequest, svc: Svc) -> dict[str, Any]:
    if body.model != BASE_MODEL_ID:
        raise bad_request(
            f"Model {body.model!r} is not available for fine-tuning; the local backend tunes {BASE_MODEL_ID!r}.",
            param="model",
            code="model_not_available",
        )
    if body.suffix and not SUFFIX_PATTERN.fullmatch(body.suffix):
        raise bad_request("The suffix may contain only letters, digits, '.', '-' and '_'.", param="suffix")
    if body.integrations:
        raise bad_request("Integrations are not supported by the local backend.", param="integrations")
    _check_file(svc, body.training_file, "training_file")
    _check_file(svc, body.validation_file, "validation_file")
    _check_metadata(body.metadata or {})
    hyperparameters, options = _hyperparameters(body).split()
    job_id = new_id("ftjob-")
    # One transaction from insert to the answer: if building the answer fails, no job is left behind (the
    # scheduler shares the connection's lock, so it cannot see the row before the commit either).
    with svc.db.transaction():
        svc.db.insert(
            "jobs",
            {
                "id": job_id,
                "created_at": now(),
                "model": body.model,
                "training_file": body.training_file,
                "validation_file": body.validation_file,
                "suffix": body.suffix or None,
                "seed": body.seed if body.seed is not None else secrets.randbelow(2**31),
                "metadata": body.metadata or {},
                "hyperparameters": hyperparameters,
                "options": options,
                "status": "validating_files",
            },
        )
        job = job_object(_get(svc, job_id))
    svc.runner.submit(job_id)
    return job


def _metadata_filters(request: Request) -> list[tuple[str, str]]:
    filters = []
    for name, value in request.query_params.multi_items():
        if name.startswith("metadata[") and name.endswith("]"):
            filters.append((name[len("metadata[") : -1], value))
    return filters


@router.get("")
async def list_jobs(request: Request, svc: Svc, after: str | None = None, limit: int = 20) -> dict[str, Any]:
    check_limit(limit)
    where, params = "1", []
    for key, value in _metadata_filters(request):
        # Keys compared as values, never spliced into a JSON path: quotes, dots and brackets in a key are data.
        where += " AND EXISTS (SELECT 1 FROM json_each(jobs.metadata) AS m WHERE m.key = ? AND m.value = ?)"
        params += [key, value]
    rows, more = svc.db.page("jobs", after=after, limit=limit, where=where, params=params)
    return list_page([job_object(r) for r in rows], more)


def _get(svc: Services, job_id: str) -> dict[str, Any]:
    row = svc.db.get("jobs", job_id)
    if row is None:
        raise not_found(f"Could not find fine-tuning job {job_id!r}.", param="fine_tuning_job_id")
    return row


@router.get("/{job_id}")
async def retrieve_job(job_id: str, svc: Svc) -> dict[str, Any]:
    return job_object(_get(svc, job_id))


@router.post("/{job_id}/cancel")
async def cancel_job(job_id: str, svc: Svc) -> dict[str, Any]:
    from starlette.concurrency import run_in_threadpool

    _get(svc, job_id)
    try:
        row = await run_in_threadpool(svc.runner.cancel, job_id)
    except JobNotFoundError as exc:
        raise not_found(f"Could not find fine-tuning job {job_id!r}.", param="fine_tuning_job_id") from exc
    except JobFinishedError as exc:
        raise bad_request(str(exc), param="fine_tuning_job_id") from exc
    return job_object(row)


@router.get("/{job_id}/events")
async def list_events(job_id: str, svc: Svc, after: str | None = None, limit: int = 20) -> dict[str, Any]:
    _get(svc, job_id)
    check_limit(limit, 1000)
    rows, more = svc.db.page("events", after=after, limit=limit, where="job_id = ?", params=[job_id])
    data = [
        {
            "object": "fine_tuning.job.event",
            "id": r["id"],
            "created_at": r["created_at"],
            "level": r["level"],
            "message": r["message"],
            "type": r["type"],
            "data": r["data"] or {},
        }
        for r in rows
    ]
    return list_page(data, more)


@router.get("/{job_id}/checkpoints")
async def list_checkpoints(job_id: str, svc: Svc, after: str | None = None, limit: int = 10) -> dict[str, Any]:
    _get(svc, job_id)
    check_limit(limit)
    rows, more = svc.db.page("checkpoints", after=after, limit=limit, where="job_id = ?", params=[job_id])
    data = [
        {
            "object": "fine_tuning.job.checkpoint",
            "id": r["id"],
            "created_at": r["created_at"],
            "fine_tuned_model_checkpoint": r["model_id"],
            "fine_tuning_job_id": job_id,
            # Absent metrics are left out (valid_loss without a validation file): the spec types them as numbers.
            "metrics": {key: value for key, value in (r["metrics"] or {}).items() if value is not None},
            "step_number": r["step"],
        }
        for r in rows
    ]
    return list_page(data, more)
