"""Vertex endpoints, deployed models and tuned models through google-cloud-aiplatform (REST transport)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from providers.base import Endpoint
from providers.vertex.config import VertexConfig
from tunedeck.costs.endpoint_rates import vertex_node_rate

if TYPE_CHECKING:
    from google.cloud import aiplatform_v1

PER_TOKEN_NOTE = (
    "Serves a tuned Gemini model from Google's shared capacity: billed per token, no hourly cost; "
    "nothing to tear down for cost (delete the tuned model if you no longer need it)."
)
EMPTY_NOTE = "No model is deployed here: an empty endpoint costs nothing; deleting it only tidies up."
LRO_TIMEOUT_S = 900.0


def _client_options(config: VertexConfig) -> dict[str, Any]:
    return {"api_endpoint": config.api_endpoint or f"{config.region}-aiplatform.googleapis.com"}


def endpoint_client(config: VertexConfig) -> aiplatform_v1.EndpointServiceClient:
    from google.cloud import aiplatform_v1  # deferred: ~560 ms measured here, the slowest import we make

    # REST rather than gRPC: one transport for real use and for the loopback fake in tests.
    return aiplatform_v1.EndpointServiceClient(
        credentials=config.credentials, transport="rest", client_options=_client_options(config)
    )


def model_client(config: VertexConfig) -> aiplatform_v1.ModelServiceClient:
    from google.cloud import aiplatform_v1  # deferred: see endpoint_client

    return aiplatform_v1.ModelServiceClient(
        credentials=config.credentials, transport="rest", client_options=_client_options(config)
    )


def to_endpoint(endpoint: Any, rate_overrides: Mapping[str, Any] | None = None) -> Endpoint:
    """Our Endpoint for an aiplatform_v1.Endpoint: machine, replicas, and what it costs per hour."""
    total, priced_all, per_token = 0.0, True, False
    machine_types: list[str] = []
    replicas = 0
    notes: list[str] = []
    model = ""
    for deployed in endpoint.deployed_models:
        model = model or deployed.model
        dedicated = deployed.dedicated_resources if "dedicated_resources" in deployed else None
        if dedicated is None:
            # Automatic resources bill per node-hour too, but without a machine type we cannot price them.
            if "automatic_resources" in deployed:
                count = max(deployed.automatic_resources.min_replica_count, 1)
                replicas += count
                priced_all = False
                notes.append(
                    f"{deployed.id}: automatic resources, at least {count} node(s) billed hourly "
                    "at a rate tunedeck does not know; undeploy to stop the charge."
                )
            else:
                per_token = True
                notes.append(PER_TOKEN_NOTE)
            continue
        spec = dedicated.machine_spec
        count = max(dedicated.min_replica_count, 1)
        replicas += count
        machine_types.append(spec.machine_type)
        rate = vertex_node_rate(
            spec.machine_type,
            spec.accelerator_type.name if spec.accelerator_count else "",
            spec.accelerator_count,
            rate_overrides,
        )
        if rate is None:
            notes.append(
                f"{deployed.id}: {count} × {spec.machine_type} billed per node-hour at an unknown rate; "
                "undeploy to stop the charge."
            )
            priced_all = False
        else:
            total += rate.usd_per_hour * count
            scale = (
                f", may scale to {dedicated.max_replica_count}"
                if dedicated.max_replica_count > dedicated.min_replica_count
                else ""
            )
            notes.append(
                f"{deployed.id}: {count} × {rate.describe()}{scale}. Bills every hour it stays "
                "deployed, used or not; undeploy to stop the charge."
            )
    if not endpoint.deployed_models:
        notes.append(EMPTY_NOTE)
    # None means "not billed by the hour" (per-token only) or "billed hourly at a rate we do not know".
    hourly = None if not priced_all or (per_token and not machine_types) else total
    return Endpoint(
        id=endpoint.name,
        provider="vertex",
        display_name=endpoint.display_name,
        model=model,
        hourly_rate_usd=round(hourly, 4) if hourly is not None else None,
        machine_type=", ".join(dict.fromkeys(machine_types)),
        replicas=replicas,
        created_at=endpoint.create_time or None,
        labels=dict(endpoint.labels),
        note=" ".join(notes),
    )


def list_endpoints(config: VertexConfig, rate_overrides: Mapping[str, Any] | None = None) -> list[Endpoint]:
    client = endpoint_client(config)
    return [to_endpoint(e, rate_overrides) for e in client.list_endpoints(parent=config.parent)]


def teardown(config: VertexConfig, endpoint_name: str) -> None:
    """Undeploy every model (which stops node-hour billing), then delete the endpoint itself."""
    client = endpoint_client(config)
    endpoint = client.get_endpoint(name=endpoint_name)
    for deployed in endpoint.deployed_models:
        client.undeploy_model(endpoint=endpoint_name, deployed_model_id=deployed.id).result(timeout=LRO_TIMEOUT_S)
    client.delete_endpoint(name=endpoint_name).result(timeout=LRO_TIMEOUT_S)


def delete_model(config: VertexConfig, model_name: str) -> None:
    model_client(config).delete_model(name=model_name).result(timeout=LRO_TIMEOUT_S)
