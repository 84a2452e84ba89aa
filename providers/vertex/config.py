"""The explicit configuration a Vertex adapter needs, built by the registry from settings or stack outputs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from providers import errors

# Pulumi output names vary between stacks written by hand and ours; accept the common spellings.
_ALIASES: dict[str, tuple[str, ...]] = {
    "project": ("project", "project_id", "gcp_project"),
    "region": ("region", "location"),
    "bucket": ("bucket", "bucket_name", "dataset_bucket"),
    "service_account": ("service_account", "service_account_email", "tuning_service_account"),
}


@dataclass(frozen=True)
class VertexConfig:
    project: str
    region: str = "us-central1"
    bucket: str = ""
    """Where datasets go (a name, no gs://)."""
    service_account: str | None = None
    """The service account tuning jobs run as; None: Vertex's default agent."""
    dataset_prefix: str = "tunedeck/datasets"
    max_retries: int = 2
    timeout_s: float = 60.0
    api_endpoint: str | None = None
    """Override for the Vertex REST host (tests: http://127.0.0.1:PORT); None: the regional endpoint."""
    storage_endpoint: str | None = None
    """Override for the GCS JSON API host (tests: the fake-gcs-server)."""
    credentials: Any = None
    """google.auth credentials; None: Application Default Credentials."""

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.region}"


def from_mapping(values: Mapping[str, Any]) -> VertexConfig:
    """A VertexConfig from `[vertex]` keys and/or Pulumi outputs, with a clear error when the project is missing."""
    resolved: dict[str, Any] = {}
    for key, names in _ALIASES.items():
        for name in names:
            if values.get(name):
                resolved[key] = str(values[name])
                break
    if not resolved.get("project"):
        raise errors.ConfigurationError(
            "No Google Cloud project is configured for Vertex AI.",
            "Set `project`, `region` and `bucket` under [vertex] in config.toml, or `stack = NAME` to read them "
            "from the Pulumi stack (`tunedeck infra up` creates one).",
            provider="vertex",
        )
    passthrough = ("dataset_prefix", "max_retries", "timeout_s", "api_endpoint", "storage_endpoint", "credentials")
    extra = {k: values[k] for k in passthrough if values.get(k) is not None}
    return VertexConfig(**resolved, **extra)
