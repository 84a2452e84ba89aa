"""Deploy a tuned open model to a dedicated Vertex endpoint: upload the weights with a serving container to the
Model Registry, create (or reuse) an endpoint, deploy on the chosen machine, and await each operation.

Every resource is named from the deployment's key (`tdk-…`), so a retry after a crash or a timeout finds what
the first attempt made instead of creating (and billing) a second one; each is reported to the caller as soon
as it exists, so a deployment that fails half-way leaves nothing unrecorded for teardown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from providers import errors
from providers.base import (
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    CreatedResource,
    Deployment,
    DeploymentPlan,
    DeploySpec,
    JobState,
)
from providers.vertex import endpoints, open_models, registry, tuning
from providers.vertex.config import VertexConfig
from providers.vertex.operations import Progress, await_operation, quiet
from tunedeck.costs.endpoint_rates import rates_as_of, vertex_node_rate

GEMINI_NOTE = (
    "{model} is a tuned Gemini model: Vertex already serves it per token from Google's shared capacity, so there "
    "is nothing to deploy and nothing billing by the hour. Chat with it directly (`tunedeck chat --model …`)."
)
_KEY = re.compile(r"[^a-z0-9-]")


def resource_id(deploy_key: str) -> str:
    """A model/endpoint id Vertex accepts (a letter first, [a-z0-9-], at most 63) derived from the key."""
    cleaned = _KEY.sub("-", deploy_key.lower()).strip("-")
    ident = cleaned if cleaned.startswith("tdk-") else f"tdk-{cleaned}"
    return ident[:63].rstrip("-")


def accelerator_enum(name: str) -> Any:
    from google.cloud import aiplatform_v1  # deferred: see endpoints.endpoint_client

    members = aiplatform_v1.AcceleratorType.__members__
    if name not in members or name == "ACCELERATOR_TYPE_UNSPECIFIED":
        known = ", ".join(n for n in members if n.startswith("NVIDIA") or n.startswith("TPU"))
        raise errors.InvalidRequestError(
            f"Vertex has no accelerator {name!r}.", f"Use one of: {known}.", provider="vertex"
        )
    return members[name]


def find_tuning_job(jobs: list[Any], model: str) -> Any | None:
    """The tuning job that made `model`: a job name, its registry model (any version), its endpoint, or the
    gs:// weights folder an open-model job wrote."""
    wanted = model.rstrip("/")
    for job in jobs:
        tuned = job.tuned_model
        names = {job.name, tuning.artifact_uri(job)}
        if tuned is not None:
            names |= {tuned.endpoint, tuned.model, (tuned.model or "").split("@", 1)[0]}
        if wanted in {n.rstrip("/") for n in names if n}:
            return job
    return None


def plan(
    config: VertexConfig,
    spec: DeploySpec,
    jobs: list[Any],
    rate_overrides: Mapping[str, Any] | None = None,
    open_overrides: Mapping[str, Any] | None = None,
) -> DeploymentPlan:
    job = find_tuning_job(jobs, spec.model)
    if job is None and not spec.model.startswith("gs://"):
        raise errors.NotFoundError(
            f"No Vertex tuning job made {spec.model}.",
            "Give the tuned model as `tunedeck models list` shows it (or the gs:// folder of tuned weights).",
            provider="vertex",
        )
    base = (job.base_model or "") if job is not None else ""
    if job is not None and not open_models.looks_open(base):
        raise errors.NotSupportedError(GEMINI_NOTE.format(model=spec.model), provider="vertex")
    state = tuning.to_job(job).status.state if job is not None else JobState.SUCCEEDED
    if state is not JobState.SUCCEEDED:
        raise errors.InvalidRequestError(
            f"{spec.model} is not ready: its tuning job is {state}.",
            "Deploy once `tunedeck jobs show` says it succeeded.",
            provider="vertex",
        )
    weights = tuning.artifact_uri(job) if job is not None else spec.model.rstrip("/")
    model = open_models.find(base, open_overrides) if base else None
    default = model.serving if model else None
    if spec.machine_type:
        machine, accelerator, count = spec.machine_type, spec.accelerator_type or "", spec.accelerator_count or 0
    elif default is not None:
        machine = default.machine_type
        accelerator = spec.accelerator_type or default.accelerator_type
        count = spec.accelerator_count or default.accelerator_count
    else:
        raise errors.InvalidRequestError(
            f"tunedeck has no default machine for {spec.model}.",
            "Give --machine-type (and --accelerator/--count for a GPU).",
            provider="vertex",
        )
    if accelerator:
        accelerator_enum(accelerator.upper())  # an unknown name is refused now, before anything is created
    if bool(accelerator) != bool(count):
        raise errors.InvalidRequestError(
            "An accelerator needs a count, and a count needs an accelerator.",
            "Give both --accelerator and --count, or neither.",
            provider="vertex",
        )
    minimum = max(spec.min_replicas, 1)
    maximum = max(spec.max_replicas or minimum, minimum)
    rate = vertex_node_rate(machine, accelerator.upper(), count, rate_overrides)
    hardware = f"{machine}" + (f" + {count}× {accelerator.upper()}" if count else "")
    if rate is None:
        hourly = None
        rate_note = (
            f"{hardware}: tunedeck's rate table (as of {rates_as_of()}) has no figure for it, so the hourly cost "
            "is unknown (see https://cloud.google.com/vertex-ai/pricing#prediction-prices, or add it under "
            "[endpoint_rates.vertex] in config.toml)."
        )
    else:
        hourly = round(rate.usd_per_hour * minimum, 4)
        most = rate.usd_per_hour * maximum
        scale = f"; may scale to {maximum} replicas (${most:,.2f}/h)" if maximum > minimum else ""
        rate_note = f"{minimum} × {rate.describe()}{scale}"
    key = spec.deploy_key or "deploy"
    return DeploymentPlan(
        provider="vertex",
        model=spec.model,
        deploy_key=key,
        base_model=base,
        hourly=True,
        machine_type=machine,
        accelerator_type=accelerator.upper(),
        accelerator_count=count,
        min_replicas=minimum,
        max_replicas=maximum,
        endpoint=spec.endpoint or (config.endpoints[0] if config.endpoints else None),
        hourly_rate_usd=hourly,
        rate_note=rate_note,
        note="Bills every hour it stays deployed, used or not; `tunedeck endpoints teardown` stops the charge.",
        details={
            "weights": weights or "",
            "serving_container": open_models.serving_container().image_uri,
            "max_sequence_length": str(model.max_sequence_length or "") if model else "",
        },
    )


def deploy(
    config: VertexConfig,
    plan: DeploymentPlan,
    progress: Progress = quiet,
    created: Callable[[CreatedResource], None] | None = None,
) -> Deployment:
    from google.cloud import aiplatform_v1

    tell = created or (lambda resource: None)
    made: list[CreatedResource] = []

    def note(kind: str, name: str) -> None:
        made.append(CreatedResource(kind, name))
        tell(made[-1])

    ident = resource_id(plan.deploy_key)
    labels = {MANAGED_BY_LABEL: MANAGED_BY_VALUE, endpoints.DEPLOY_LABEL: ident}
    client = endpoints.endpoint_client(config)
    if plan.endpoint:
        _require_ours(client, plan.endpoint, config)  # before anything is created for it
    max_len = plan.details.get("max_sequence_length")
    serving_model = registry.upload_serving_copy(
        config,
        model_id=ident,
        display_name=f"tunedeck {plan.model.rsplit('/', 1)[-1]}"[:128],
        weights_uri=plan.details["weights"],
        base_model=plan.base_model,
        accelerator_count=plan.accelerator_count,
        max_model_len=int(max_len) if max_len else None,
        labels=labels,
        progress=progress,
        on_started=lambda name: note("model", name),
    )
    if not any(r.kind == "model" for r in made):
        note("model", serving_model)  # registered by an earlier attempt: still ours to clean up
    endpoint_name = plan.endpoint or _create_endpoint(config, client, ident, labels, progress, note)
    machine = aiplatform_v1.MachineSpec(machine_type=plan.machine_type)
    if plan.accelerator_count:
        machine.accelerator_type = accelerator_enum(plan.accelerator_type)
        machine.accelerator_count = plan.accelerator_count
    deployed = aiplatform_v1.DeployedModel(
        model=serving_model,
        display_name=ident,
        dedicated_resources=aiplatform_v1.DedicatedResources(
            machine_spec=machine, min_replica_count=plan.min_replicas, max_replica_count=plan.max_replicas
        ),
        service_account=config.serving_service_account or "",
    )
    # "0" is the model being deployed: it takes all the traffic, or chatting with the endpoint would not reach it.
    operation = client.deploy_model(
        endpoint=endpoint_name, deployed_model=deployed, traffic_split={"0": 100}, timeout=config.timeout_s
    )
    result = await_operation(
        operation, f"deploy on {plan.machine_type}", poll_s=config.lro_poll_s, timeout_s=config.deploy_timeout_s,
        progress=progress,
    )  # fmt: skip
    deployed_id = str(result.deployed_model.id)
    note("deployed-model", f"{endpoint_name}#{deployed_id}")
    return Deployment(plan, endpoint_name, deployed_id, serving_model, tuple(made))


def _create_endpoint(
    config: VertexConfig,
    client: Any,
    ident: str,
    labels: Mapping[str, str],
    progress: Progress,
    note: Callable[[str, str], None],
) -> str:
    from google.api_core import exceptions as core
    from google.cloud import aiplatform_v1

    name = f"{config.parent}/endpoints/{ident}"
    endpoint = aiplatform_v1.Endpoint(
        display_name=ident, description="A dedicated endpoint tunedeck created for one deployment.", labels=labels
    )
    try:
        operation = client.create_endpoint(
            parent=config.parent, endpoint=endpoint, endpoint_id=ident, timeout=config.timeout_s
        )
    except core.Conflict:  # 409: ALREADY_EXISTS (api_core maps the status, not the reason)
        progress(f"endpoint {ident}: already created by an earlier attempt")
        note("endpoint", name)
        return name
    note("endpoint", name)  # recorded before the wait: a crash now still leaves it findable
    result = await_operation(operation, f"create endpoint {ident}", poll_s=config.lro_poll_s, timeout_s=900.0,
                             progress=progress)  # fmt: skip
    return str(result.name or name)


def _require_ours(client: Any, endpoint_name: str, config: VertexConfig) -> None:
    endpoint = client.get_endpoint(name=endpoint_name)
    if endpoint.labels.get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE and endpoint_name not in config.endpoints:
        raise errors.InvalidRequestError(
            f"{endpoint_name} was not created by tunedeck (no managed-by=tunedeck label, not in the stack).",
            "Deploy to a new endpoint (leave --endpoint out) or to your stack's endpoint: teardown undeploys "
            "everything on an endpoint, so tunedeck never deploys into someone else's.",
            provider="vertex",
        )
