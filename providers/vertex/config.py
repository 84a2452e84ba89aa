"""The explicit configuration a Vertex adapter needs, built by the registry from settings or stack outputs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from providers import errors

# Pulumi output names vary between stacks written by hand and ours; accept the common spellings.
_ALIASES: dict[str, tuple[str, ...]] = {
    "project": ("project", "project_id", "gcp_project"),
    "region": ("region", "location"),
    "bucket": ("bucket", "bucket_name", "dataset_bucket"),
    "service_account": ("service_account", "service_account_email", "tuning_service_account"),
    "serving_service_account": ("serving_service_account", "serving_service_account_email"),
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
    output_prefix: str = "tunedeck/tuned-models"
    """Where open-model tuning writes its checkpoints: outside the dataset prefix, which a lifecycle rule expires."""
    serving_service_account: str | None = None
    """The service account deployed models run as (the stack's serving account); None: Vertex's default."""
    endpoints: tuple[str, ...] = ()
    """Endpoints the Pulumi stack declares (full names): deployments go to the first, and teardown only
    undeploys from them (deleting one would drift the stack)."""
    max_retries: int = 2
    timeout_s: float = 60.0
    lro_poll_s: float = 5.0
    """How often a long-running operation (deploy, undeploy, delete) is polled."""
    deploy_timeout_s: float = 7200.0
    """How long a deployment may take: Vertex documents up to two hours for large open models."""
    api_endpoint: str | None = None
    """The Vertex API endpoint for both SDKs: a host (`europe-west4-aiplatform.googleapis.com`, https assumed)
    or a URL with its scheme (tests: http://127.0.0.1:PORT). None: the regional endpoint."""
    storage_endpoint: str | None = None
    """Override for the GCS JSON API host (tests: the fake-gcs-server)."""
    credentials: Any = None
    """google.auth credentials; None: Application Default Credentials."""
    open_models: Mapping[str, Any] | None = None
    """`[vertex.open_models]`: additions to the shipped list of tunable open models (see open_models.toml)."""

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.region}"

    @property
    def genai_base_url(self) -> str | None:
        """google-genai's `base_url`: always with a scheme (it builds URLs by joining onto it)."""
        if not self.api_endpoint:
            return None  # genai derives the regional (or global) endpoint from the location itself
        url = self.api_endpoint.strip()
        return (url if "://" in url else f"https://{url}").rstrip("/")

    @property
    def aiplatform_endpoint(self) -> str:
        """google-cloud-aiplatform's `api_endpoint`: a bare host for https; other schemes (a loopback test
        server) are kept, which its REST transport honours."""
        base = self.genai_base_url
        if base is None:
            regional = f"{self.region}-aiplatform.googleapis.com"
            return "aiplatform.googleapis.com" if self.region == "global" else regional
        parts = urlsplit(base)
        return parts.netloc if parts.scheme == "https" else f"{parts.scheme}://{parts.netloc}"


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
    passthrough = (
        "dataset_prefix", "output_prefix", "max_retries", "timeout_s", "lro_poll_s", "deploy_timeout_s",
        "api_endpoint", "storage_endpoint", "credentials", "open_models",
    )  # fmt: skip
    extra = {k: values[k] for k in passthrough if values.get(k) is not None}
    # `endpoint_names` is what the stack exports; `endpoints` what a hand-written [vertex] section may say.
    stack_endpoints = values.get("endpoints") or values.get("endpoint_names") or ()
    if isinstance(stack_endpoints, str):
        stack_endpoints = [stack_endpoints]
    return VertexConfig(**resolved, **extra, endpoints=tuple(str(e) for e in stack_endpoints))
