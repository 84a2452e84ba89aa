"""The provider Protocol: capabilities as data, provider-neutral jobs, and the shared job state machine."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

# Re-exported: adapters and tests take the ownership labels from here, beside the Protocol that uses them.
from tunedeck.labels import CLIENT_KEY_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE


@dataclass(frozen=True)
class Capabilities:
    fine_tuning: bool
    checkpoints: bool
    hourly_endpoints: bool
    """True when the provider has endpoints billed per node-hour until torn down."""
    chat: bool
    streaming: bool


class JobState(StrEnum):
    """Provider-neutral job states. `UNKNOWN` means we could not ask, never that the job failed."""

    VALIDATING = "validating"
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"

    @property
    def finished(self) -> bool:
        return self in {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED}


@dataclass(frozen=True)
class JobStatus:
    """A job's state as we understand it, with the provider's own raw state kept beside it."""

    state: JobState
    raw_state: str
    detail: str = ""


@dataclass
class TuningSpec:
    """What the user asked for, independent of provider. `client_key` makes submission idempotent."""

    base_model: str
    training_file: str
    """A provider file id (OpenAI/local) or a gs:// URI (Vertex), as returned by `upload_dataset`."""
    validation_file: str | None = None
    suffix: str | None = None
    n_epochs: int | str = "auto"
    batch_size: int | str = "auto"
    learning_rate_multiplier: float | str = "auto"
    seed: int | None = None
    adapter_size: int | None = None
    client_key: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    tuning_mode: str | None = None
    """"lora" or "full" where a provider offers both (Vertex open models); None: the provider's default."""


def resource_labels(spec: TuningSpec) -> dict[str, str]:
    """The labels every resource tunedeck creates carries: ownership, the idempotency key, then the user's own."""
    labels = dict(spec.labels)
    labels[MANAGED_BY_LABEL] = MANAGED_BY_VALUE
    if spec.client_key:
        labels[CLIENT_KEY_LABEL] = spec.client_key
    return labels


@dataclass
class ProviderJob:
    id: str
    provider: str
    base_model: str
    status: JobStatus
    created_at: datetime | None = None
    finished_at: datetime | None = None
    fine_tuned_model: str | None = None
    trained_tokens: int | None = None
    labels: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobEvent:
    """One event of a job: a message, or metrics when `metrics` is set (step, train_loss, valid_loss, …)."""

    id: str
    created_at: datetime
    level: str
    message: str
    metrics: Mapping[str, float] | None = None


@dataclass(frozen=True)
class Checkpoint:
    id: str
    model: str
    step: int
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Endpoint:
    """Something that serves a model and may bill by the hour while it exists."""

    id: str
    provider: str
    display_name: str
    model: str
    hourly_rate_usd: float | None
    """None when billing is per token (nothing to tear down), or unknown."""
    machine_type: str = ""
    replicas: int = 0
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    labels: dict[str, str] = field(default_factory=dict)
    note: str = ""
    """A human sentence on how this endpoint bills and what tearing it down does."""

    @property
    def owned_by_tunedeck(self) -> bool:
        return self.labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE


@dataclass(frozen=True)
class ModelInfo:
    """A model the provider serves; `shutdown_date` (ISO date) is when it stops answering, when known."""

    id: str
    provider: str
    owned_by: str = ""
    created_at: datetime | None = None
    shutdown_date: str | None = None
    fine_tuned: bool = False
    base_model: str = ""
    job_id: str = ""
    """The provider's id of the job that made it, when the provider says."""
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str


@dataclass(frozen=True)
class ChatChunk:
    """A streamed piece of a reply; the last one carries usage and the finish reason."""

    text: str
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@runtime_checkable
class Provider(Protocol):
    """What every adapter offers. Unsupported operations raise `providers.errors.NotSupportedError`."""

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    def upload_dataset(self, path: Path) -> str: ...

    def create_job(self, spec: TuningSpec) -> ProviderJob: ...

    def get_job(self, job_id: str) -> ProviderJob: ...

    def list_jobs(self, limit: int = 50) -> list[ProviderJob]: ...

    def cancel_job(self, job_id: str) -> ProviderJob: ...

    def find_jobs_by_client_key(self, client_key: str) -> list[ProviderJob]:
        """Jobs carrying this `client_key` label: how the store reconciles after a crash mid-submit."""
        ...

    def list_events(self, job_id: str, after: str | None = None) -> list[JobEvent]: ...

    def list_checkpoints(self, job_id: str) -> list[Checkpoint]: ...

    def chat(
        self, model: str, messages: list[ChatMessage], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[ChatChunk]: ...

    def list_models(self) -> list[ModelInfo]: ...

    def delete_model(self, model: str) -> None: ...

    def list_endpoints(self) -> list[Endpoint]: ...

    def teardown_endpoint(self, endpoint_id: str) -> None: ...

    def close(self) -> None:
        """Release connections (the workspace closes every adapter it built)."""
        ...

    def plan_deployment(self, spec: DeploySpec) -> DeploymentPlan:
        """What deploying `spec.model` would create and what it would cost per hour, without creating anything.
        Raises NotSupportedError where nothing needs deploying (models served per token)."""
        ...

    def deploy_model(
        self,
        plan: DeploymentPlan,
        progress: Callable[[str], None] | None = None,
        created: Callable[[CreatedResource], None] | None = None,
    ) -> Deployment:
        """Make the model ready to answer. `created` hears of each billable resource as soon as it exists, so a
        deployment that fails half-way leaves nothing unrecorded."""
        ...


@runtime_checkable
class ClientKeyNormalizer(Protocol):
    """A provider that stores the client key where only some characters fit (Vertex: a label). Submission
    normalises the key with it once, before the key is recorded, so the store, the label and every lookup
    agree on one string."""

    def normalize_client_key(self, client_key: str) -> str: ...


@dataclass(frozen=True)
class DeploySpec:
    """What to serve and on what; every unset field takes the provider's default for the model."""

    model: str
    machine_type: str | None = None
    accelerator_type: str | None = None
    accelerator_count: int | None = None
    min_replicas: int = 1
    max_replicas: int | None = None
    endpoint: str | None = None
    """An existing endpoint of ours to deploy into; None: the stack's endpoint, else a new one."""
    deploy_key: str = ""
    """Names what the deployment creates, so retrying after a crash reuses it instead of creating more."""


@dataclass(frozen=True)
class DeploymentPlan:
    """What a deployment will create and cost, shown before asking."""

    provider: str
    model: str
    deploy_key: str = ""
    base_model: str = ""
    hourly: bool = False
    """True when it bills per node-hour for as long as it stays deployed, used or not."""
    machine_type: str = ""
    accelerator_type: str = ""
    accelerator_count: int = 0
    min_replicas: int = 1
    max_replicas: int = 1
    endpoint: str | None = None
    """The existing endpoint it goes to; None: a new endpoint labelled managed-by=tunedeck."""
    hourly_rate_usd: float | None = None
    """Per hour at `min_replicas`; None when the rate is unknown (see `rate_note`)."""
    rate_note: str = ""
    note: str = ""
    details: Mapping[str, str] = field(default_factory=dict)
    """Provider-specific facts worth showing (weights location, serving container)."""


@dataclass(frozen=True)
class CreatedResource:
    kind: str
    """"model" (a registry entry), "endpoint" or "deployed-model"."""
    name: str


@dataclass(frozen=True)
class Deployment:
    plan: DeploymentPlan
    endpoint_id: str
    """What `list_endpoints` lists and `teardown_endpoint` takes."""
    deployed_model_id: str = ""
    serving_model: str = ""
    created: tuple[CreatedResource, ...] = ()
