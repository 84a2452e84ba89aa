"""Gemini supervised tuning jobs through google-genai (`client.tunings`), never the deprecated `vertexai.tuning.sft`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers import errors
from providers.base import Checkpoint, JobEvent, ProviderJob, TuningSpec, resource_labels
from providers.states import vertex_status
from providers.vertex.config import VertexConfig

if TYPE_CHECKING:
    from google import genai
    from google.genai import types

# Vertex's adapter sizes are an enum; tunedeck speaks ranks.
_ADAPTER_SIZES = {
    1: "ADAPTER_SIZE_ONE",
    2: "ADAPTER_SIZE_TWO",
    4: "ADAPTER_SIZE_FOUR",
    8: "ADAPTER_SIZE_EIGHT",
    16: "ADAPTER_SIZE_SIXTEEN",
    32: "ADAPTER_SIZE_THIRTY_TWO",
}


def genai_client(config: VertexConfig) -> genai.Client:
    from google import genai  # deferred: ~300 ms measured here (types come with it)
    from google.genai import types

    options = types.HttpOptions(
        base_url=config.api_endpoint,
        timeout=int(config.timeout_s * 1000),
        retry_options=types.HttpRetryOptions(attempts=config.max_retries + 1),
    )
    return genai.Client(
        vertexai=True,
        project=config.project,
        location=config.region,
        credentials=config.credentials,
        http_options=options,
    )


def vertex_labels(spec: TuningSpec) -> dict[str, str]:
    # Vertex label keys and values: lowercase letters, digits, '-' and '_', at most 63 characters.
    def clean(text: str) -> str:
        return "".join(c if c.isalnum() or c in "-_" else "-" for c in text.lower())[:63]

    return {clean(k): clean(v) for k, v in resource_labels(spec).items()}


def tune_kwargs(config: VertexConfig, spec: TuningSpec) -> dict[str, Any]:
    """Arguments for `client.tunings.tune(...)` built from the provider-neutral spec."""
    from google.genai import types  # deferred: loaded with the client

    tuning: dict[str, Any] = {"labels": vertex_labels(spec)}
    if isinstance(spec.n_epochs, int):
        tuning["epoch_count"] = spec.n_epochs
    if isinstance(spec.learning_rate_multiplier, int | float):
        tuning["learning_rate_multiplier"] = float(spec.learning_rate_multiplier)
    if spec.adapter_size is not None:
        if spec.adapter_size not in _ADAPTER_SIZES:
            raise errors.InvalidRequestError(
                f"Vertex has no adapter size {spec.adapter_size}.",
                f"Choose one of {', '.join(map(str, _ADAPTER_SIZES))}.",
                provider="vertex",
            )
        tuning["adapter_size"] = _ADAPTER_SIZES[spec.adapter_size]
    if spec.validation_file:
        tuning["validation_dataset"] = types.TuningValidationDataset(gcs_uri=spec.validation_file)
    if spec.suffix:
        tuning["tuned_model_display_name"] = spec.suffix
    if config.service_account:
        # CreateTuningJobConfig has no field for it in this SDK; the REST body does (TuningJob.serviceAccount).
        tuning["http_options"] = types.HttpOptions(extra_body={"serviceAccount": config.service_account})
    return {
        "base_model": spec.base_model,
        "training_dataset": types.TuningDataset(gcs_uri=spec.training_file),
        "config": types.CreateTuningJobConfig(**tuning),
    }


def _enum(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


def to_job(job: types.TuningJob) -> ProviderJob:
    tuned = job.tuned_model
    error = None
    if job.error is not None and (job.error.message or job.error.code):
        error = job.error.message or f"error code {job.error.code}"
    stats = job.tuning_data_stats
    trained = None
    if stats is not None and stats.supervised_tuning_data_stats is not None:
        trained = stats.supervised_tuning_data_stats.total_billable_token_count
    return ProviderJob(
        id=job.name or "",
        provider="vertex",
        base_model=job.base_model or "",
        status=vertex_status(_enum(job.state), _enum(job.tuning_job_state) or None),
        created_at=job.create_time,
        finished_at=job.end_time,
        # The tuned model is served from the endpoint; chat and teardown both want that resource name.
        fine_tuned_model=(tuned.endpoint or tuned.model) if tuned else None,
        trained_tokens=int(trained) if trained is not None else None,
        labels=dict(job.labels or {}),
        error=error,
        raw=job.model_dump(mode="json", by_alias=True, exclude_none=True),
    )


def checkpoints(job: types.TuningJob) -> list[Checkpoint]:
    tuned = job.tuned_model
    found = [
        Checkpoint(
            id=c.checkpoint_id or "",
            model=c.endpoint or (tuned.model if tuned else "") or "",
            step=int(c.step or 0),
            metrics={"epoch": float(c.epoch)} if c.epoch is not None else {},
        )
        for c in (tuned.checkpoints or [] if tuned else [])
    ]
    return sorted(found, key=lambda c: c.step)


def events(job: types.TuningJob) -> list[JobEvent]:
    """Vertex has no event feed for tuning jobs; these are the milestones its job resource records."""
    name = job.name or ""
    out = []
    if job.create_time:
        out.append(JobEvent(f"{name}#created", job.create_time, "info", f"Created tuning job for {job.base_model}"))
    if job.start_time:
        out.append(JobEvent(f"{name}#started", job.start_time, "info", "Tuning started"))
    if job.end_time:
        state = _enum(job.state)
        level = "error" if job.error is not None and job.error.message else "info"
        message = f"Finished: {state}" + (f" ({job.error.message})" if level == "error" and job.error else "")
        out.append(JobEvent(f"{name}#ended", job.end_time, level, message))
    return out
