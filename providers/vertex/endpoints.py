"""Vertex endpoints and what is deployed on them, through google-cloud-aiplatform (REST transport): listing with
hourly rates, undeploying with the traffic split Vertex requires, teardown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from providers.base import Endpoint
from providers.vertex.config import VertexConfig
from providers.vertex.operations import Progress, await_operation, quiet
from tunedeck.costs.endpoint_rates import vertex_node_rate

if TYPE_CHECKING:
    from google.cloud import aiplatform_v1

PER_TOKEN_NOTE = (
    "Serves a tuned Gemini model from Google's shared capacity: billed per token, no hourly cost; "
    "nothing to tear down for cost (delete the tuned model if you no longer need it)."
)
EMPTY_NOTE = "No model is deployed here: an empty endpoint costs nothing; deleting it only tidies up."
LRO_TIMEOUT_S = 900.0
DEPLOY_LABEL = "tunedeck-deploy"
"""On everything one `deploy` creates (endpoint, serving copy): the resource id they share."""


def _client_options(config: VertexConfig) -> dict[str, Any]:
    return {"api_endpoint": config.aiplatform_endpoint}


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


def node_hardware(spec: Any) -> str:
    """ "g2-standard-12 + 1× NVIDIA_L4": the machine and what is attached to it, as billed per node."""
    if spec.accelerator_count:
        return f"{spec.machine_type} + {spec.accelerator_count}× {spec.accelerator_type.name}"
    return str(spec.machine_type)


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
        machine_types.append(node_hardware(spec))
        rate = vertex_node_rate(
            spec.machine_type,
            spec.accelerator_type.name if spec.accelerator_count else "",
            spec.accelerator_count,
            rate_overrides,
        )
        if rate is None:
            notes.append(
                f"{deployed.id}: {count} × {node_hardware(spec)} billed per node-hour at an unknown rate "
                "(tunedeck's table has no figure; see https://cloud.google.com/vertex-ai/pricing); undeploy to stop "
                "the charge."
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


def split_without(current: Mapping[str, int], deployed_ids: list[str], leaving: str) -> dict[str, int]:
    """The traffic split to send when `leaving` is undeployed: its share goes to the models that stay, in
    proportion (or all to the first when none had any), summing to 100. Empty when nothing needs moving:
    it had no traffic, or it is the last model (Vertex empties the split itself)."""
    staying = [i for i in deployed_ids if i != leaving]
    if not staying or not current.get(leaving):
        return {}
    shares = {i: int(current.get(i, 0)) for i in staying}
    total = sum(shares.values())
    if total == 0:
        return {staying[0]: 100, **{i: 0 for i in staying[1:]}}
    split = {i: share * 100 // total for i, share in shares.items()}
    # Largest remainders get the points lost to rounding down, so the split sums to exactly 100.
    for i in sorted(staying, key=lambda i: -(shares[i] * 100 % total))[: 100 - sum(split.values())]:
        split[i] += 1
    return split


def undeploy(config: VertexConfig, endpoint_name: str, deployed_model_id: str, progress: Progress = quiet) -> None:
    """Undeploy one model (which stops its node-hour billing), reassigning its traffic as Vertex requires."""
    client = endpoint_client(config)
    endpoint = client.get_endpoint(name=endpoint_name)
    ids = [d.id for d in endpoint.deployed_models]
    if deployed_model_id not in ids:
        return
    split = split_without(dict(endpoint.traffic_split), ids, deployed_model_id)
    operation = client.undeploy_model(endpoint=endpoint_name, deployed_model_id=deployed_model_id, traffic_split=split)
    await_operation(
        operation, f"undeploy {deployed_model_id}", poll_s=config.lro_poll_s, timeout_s=LRO_TIMEOUT_S, progress=progress
    )


def delete_endpoint(config: VertexConfig, endpoint_name: str, progress: Progress = quiet) -> None:
    operation = endpoint_client(config).delete_endpoint(name=endpoint_name)
    await_operation(
        operation, f"delete {endpoint_name}", poll_s=config.lro_poll_s, timeout_s=LRO_TIMEOUT_S, progress=progress
    )


def teardown(config: VertexConfig, endpoint_name: str, progress: Progress = quiet) -> None:
    """Undeploy every model, then delete the endpoint unless the Pulumi stack declares it (deleting that one
    would leave the stack out of step; an empty endpoint costs nothing). Serving copies tunedeck uploaded for
    a deployment are deleted once nothing serves them."""
    from providers.vertex import registry  # deferred: only teardown needs the Model Registry

    client = endpoint_client(config)
    endpoint = client.get_endpoint(name=endpoint_name)
    served = [d.model for d in endpoint.deployed_models]
    if deploy_key := endpoint.labels.get(DEPLOY_LABEL):
        # A deployment that failed before its model was deployed left a serving copy named like the endpoint.
        served.append(f"{config.parent}/models/{deploy_key}")
    for deployed in list(endpoint.deployed_models):
        undeploy(config, endpoint_name, deployed.id, progress)
    if endpoint_name not in config.endpoints:
        delete_endpoint(config, endpoint_name, progress)
    for model in dict.fromkeys(served):
        registry.delete_serving_copy(config, model, progress)
