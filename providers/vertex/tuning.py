"""Vertex supervised tuning jobs (Gemini and open models) through google-genai's `client.tunings`.

Why google-genai for both: as installed (google-genai 2.34, google-cloud-aiplatform 2.7), genai's
`CreateTuningJobConfig` carries every open-model field Vertex takes (`tuning_mode`, `learning_rate`,
`batch_size`, `output_uri`, `custom_base_model`), while aiplatform's `vertexai.tuning.sft` warns on use that it
is deprecated since 2025-06-24 and due for removal on 2026-06-24. One SDK for all tuning also means one
retry policy and one error translation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from providers import errors
from providers.base import Checkpoint, JobEvent, JobState, ProviderJob, TuningSpec
from providers.states import vertex_status
from providers.vertex import open_models
from providers.vertex.config import VertexConfig
from providers.vertex.labels import vertex_labels

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
CANCELLED_CODE = 1
"""google.rpc.Code CANCELLED: what Vertex puts in `error.code` of a job the user cancelled."""


def genai_client(config: VertexConfig) -> genai.Client:
    from google import genai  # deferred: ~300 ms measured here (types come with it)
    from google.genai import types

    options = types.HttpOptions(
        base_url=config.genai_base_url,
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


def _adapter_size(spec: TuningSpec) -> str | None:
    if spec.adapter_size is None:
        return None
    if spec.adapter_size not in _ADAPTER_SIZES:
        raise errors.InvalidRequestError(
            f"Vertex has no adapter size {spec.adapter_size}.",
            f"Choose one of {', '.join(map(str, _ADAPTER_SIZES))}.",
            provider="vertex",
        )
    return _ADAPTER_SIZES[spec.adapter_size]


def create_http_options(config: VertexConfig) -> types.HttpOptions:
    """Per-call options for the create POST. SDK retries are off: google-genai would resend a create that timed
    out or got a 5xx (`attempts = max_retries + 1`) although Vertex may already have made the job; tunedeck's
    own reconcile-then-retry (by client key) decides instead, so a slow answer never bills a second job."""
    from google.genai import types

    extra = {"serviceAccount": config.service_account} if config.service_account else None
    # CreateTuningJobConfig has no field for the service account in this SDK; the REST body does.
    return types.HttpOptions(extra_body=extra, retry_options=types.HttpRetryOptions(attempts=1))


def tune_kwargs(
    config: VertexConfig, spec: TuningSpec, open_model_overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Arguments for `client.tunings.tune(...)` built from the provider-neutral spec."""
    from google.genai import types  # deferred: loaded with the client

    tuning: dict[str, Any] = {"labels": vertex_labels(spec), "http_options": create_http_options(config)}
    if isinstance(spec.n_epochs, int):
        tuning["epoch_count"] = spec.n_epochs
    if spec.validation_file:
        tuning["validation_dataset"] = types.TuningValidationDataset(gcs_uri=spec.validation_file)
    if spec.suffix:
        tuning["tuned_model_display_name"] = spec.suffix
    adapter_size = _adapter_size(spec)
    if open_models.looks_open(spec.base_model):
        tuning.update(_open_model_fields(config, spec, adapter_size, open_model_overrides))
    else:
        if isinstance(spec.batch_size, int):
            # Vertex documents batch_size for open models only; refuse rather than drop it silently.
            raise errors.InvalidRequestError(
                f"Vertex does not take a batch size for {spec.base_model} (only open models have one).",
                "Leave the batch size at auto for Gemini tuning.",
                provider="vertex",
            )
        if spec.tuning_mode and spec.tuning_mode.lower() != "lora":
            raise errors.InvalidRequestError(
                f"Gemini tuning on Vertex is parameter-efficient only; {spec.tuning_mode!r} is not offered.",
                "Drop the tuning mode, or tune an open model for full fine-tuning.",
                provider="vertex",
            )
        if isinstance(spec.learning_rate_multiplier, int | float):
            tuning["learning_rate_multiplier"] = float(spec.learning_rate_multiplier)
        if adapter_size:
            tuning["adapter_size"] = adapter_size
    return {
        "base_model": spec.base_model,
        "training_dataset": types.TuningDataset(gcs_uri=spec.training_file),
        "config": types.CreateTuningJobConfig(**tuning),
    }


def _open_model_fields(
    config: VertexConfig, spec: TuningSpec, adapter_size: str | None, overrides: Mapping[str, Any] | None
) -> dict[str, Any]:
    model = open_models.find(spec.base_model, overrides)
    if config.region not in open_models.tuning_regions():
        raise errors.InvalidRequestError(
            f"Vertex tunes open models only in {', '.join(open_models.tuning_regions())} (not {config.region}).",
            'Set region = "global" (Vertex picks a region with capacity) or a listed region under [vertex].',
            provider="vertex",
        )
    if not config.bucket:
        raise errors.ConfigurationError(
            "Open-model tuning writes its checkpoints to your bucket, and none is configured.",
            "Set `bucket` under [vertex] in config.toml, or create one with `tunedeck infra up`.",
            provider="vertex",
        )
    mode = open_models.choose_mode(model, spec.tuning_mode, spec.adapter_size)
    fields: dict[str, Any] = {"tuning_mode": model.api_mode(mode), "output_uri": output_uri(config, spec)}
    rate = open_models.learning_rate(model, mode, spec.learning_rate_multiplier)
    if rate is not None:
        fields["learning_rate"] = rate
    if isinstance(spec.batch_size, int):
        fields["batch_size"] = spec.batch_size
    if adapter_size:
        fields["adapter_size"] = adapter_size
    return fields


def output_uri(config: VertexConfig, spec: TuningSpec) -> str:
    # One folder per client key: a retried create writes to the same place, and teardown-free cleanup is a prefix.
    folder = spec.client_key or spec.suffix or "untitled"
    return f"gs://{config.bucket}/{config.output_prefix.strip('/')}/{folder}"


def _enum(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


def was_cancelled(job: types.TuningJob) -> bool:
    return _enum(job.state) == "JOB_STATE_CANCELLED" or (job.error is not None and job.error.code == CANCELLED_CODE)


def artifact_uri(job: types.TuningJob) -> str | None:
    """Where an open-model job's final weights are (None for Gemini jobs, which Vertex serves itself)."""
    return f"{job.output_uri.rstrip('/')}/{open_models.ARTIFACT_SUFFIX}" if job.output_uri else None


def to_job(job: types.TuningJob) -> ProviderJob:
    tuned = job.tuned_model
    error = None
    # A cancelled job carries error.code 1 (CANCELLED): that is the user's decision, not a failure to report.
    if job.error is not None and (job.error.message or job.error.code) and not was_cancelled(job):
        error = job.error.message or f"error code {job.error.code}"
    stats = job.tuning_data_stats
    trained = None
    if stats is not None and stats.supervised_tuning_data_stats is not None:
        trained = stats.supervised_tuning_data_stats.total_billable_token_count
    status = vertex_status(_enum(job.state), _enum(job.tuning_job_state) or None)
    model = (tuned.endpoint or tuned.model) if tuned else None
    if model is None and status.state is JobState.SUCCEEDED:
        model = artifact_uri(job)  # an open model with no registry entry: its weights are what deploy takes
    return ProviderJob(
        id=job.name or "",
        provider="vertex",
        base_model=job.base_model or "",
        status=status,
        created_at=job.create_time,
        finished_at=job.end_time,
        # A tuned Gemini model is served from its endpoint; chat and teardown both want that resource name.
        fine_tuned_model=model,
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


def _data_metrics(job: types.TuningJob) -> dict[str, float]:
    stats = job.tuning_data_stats.supervised_tuning_data_stats if job.tuning_data_stats else None
    if stats is None:
        return {}
    values = {
        "examples": stats.tuning_dataset_example_count,
        "steps": stats.tuning_step_count,
        "billable_tokens": stats.total_billable_token_count,
    }
    return {k: float(v) for k, v in values.items() if v is not None}


def events(job: types.TuningJob) -> list[JobEvent]:
    """Vertex has no event feed for tuning jobs; these are the milestones (and dataset figures) its job records."""
    name = job.name or ""
    out = []
    if job.create_time:
        out.append(JobEvent(f"{name}#created", job.create_time, "info", f"Created tuning job for {job.base_model}"))
    if job.start_time:
        out.append(JobEvent(f"{name}#started", job.start_time, "info", "Tuning started"))
        if metrics := _data_metrics(job):
            out.append(JobEvent(f"{name}#dataset", job.start_time, "info", "Dataset processed", metrics))
    if job.end_time:
        state = _enum(job.state)
        failed = job.error is not None and bool(job.error.message) and not was_cancelled(job)
        if was_cancelled(job):
            message = "Cancelled"
        else:
            message = f"Finished: {state}" + (f" ({job.error.message})" if failed and job.error else "")
        out.append(JobEvent(f"{name}#ended", job.end_time, "error" if failed else "info", message))
    return out
