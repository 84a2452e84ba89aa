"""Deploy a tuned model so it answers: plan first (what it creates, what it costs per hour), then deploy with every
created resource recorded as it appears, and an idle auto-teardown set so a forgotten GPU cannot bill a weekend.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from providers.base import MANAGED_BY_LABEL, MANAGED_BY_VALUE, CreatedResource, DeploymentPlan, DeploySpec, Endpoint
from providers.base import Provider as ProviderProtocol
from providers.errors import ProviderError
from tunedeck.endpoints.idle import parse_duration
from tunedeck.errors import UsageError
from tunedeck.events import DeploymentFailed, ModelDeployed, ProgressAdvanced, Publish, ignore
from tunedeck.store import Store
from tunedeck.store.deployments import DeploymentRecord, DeploymentState

DEFAULT_IDLE_TEARDOWN = "1h"
"""`[endpoints] idle_teardown` when unset: deployments are torn down after an hour unused."""
_OFF = {"off", "never", "none", "0"}


def idle_teardown_s(config_value: Any, override: str | None = None) -> float | None:
    """Seconds of idleness before auto-teardown: `--idle-teardown`, else `[endpoints] idle_teardown`, else 1h.
    "off" (or 0) disables it."""
    text = str(override if override is not None else (config_value or DEFAULT_IDLE_TEARDOWN)).strip().lower()
    if text in _OFF:
        return None
    seconds = parse_duration(text).total_seconds()
    if seconds <= 0:
        raise UsageError(f"An idle teardown of {text!r} would tear down at once.", "Give e.g. 30m, 2h, or off.")
    return seconds


def new_deploy_key() -> str:
    # Short: providers derive resource ids from it (Vertex endpoint/model ids allow 63 characters).
    return f"tdk-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class DeployPlanView:
    """The provider's plan plus what tunedeck adds: the idle auto-teardown, and a deployment it resumes."""

    plan: DeploymentPlan
    idle_teardown_s: float | None
    resumes: DeploymentRecord | None = None
    """An unfinished deployment of the same model: its key is reused, so what it created is reused too."""

    @property
    def hourly(self) -> bool:
        return self.plan.hourly


def plan_deploy(store: Store, provider: ProviderProtocol, spec: DeploySpec, *, idle_s: float | None) -> DeployPlanView:
    """Nothing is created. Raises NotSupportedError (with the provider's explanation) where nothing needs deploying."""
    unfinished = [
        d
        for d in store.list_deployments(provider=provider.name, model=spec.model)
        if d.state in (DeploymentState.DEPLOYING, DeploymentState.FAILED)
    ]
    resumes = unfinished[-1] if unfinished else None
    key = spec.deploy_key or (resumes.id if resumes else new_deploy_key())
    from dataclasses import replace

    plan = provider.plan_deployment(replace(spec, deploy_key=key))
    return DeployPlanView(plan, idle_s, resumes)


def _endpoint_of(plan: DeploymentPlan, endpoint_id: str, note: str) -> Endpoint:
    hardware = plan.machine_type + (
        f" + {plan.accelerator_count}× {plan.accelerator_type}" if plan.accelerator_count else ""
    )
    return Endpoint(
        id=endpoint_id,
        provider=plan.provider,
        display_name=endpoint_id.rsplit("/", 1)[-1],
        model=plan.model,
        hourly_rate_usd=plan.hourly_rate_usd,
        machine_type=hardware or ("local" if not plan.hourly else ""),
        replicas=plan.min_replicas,
        labels={MANAGED_BY_LABEL: MANAGED_BY_VALUE},
        note=note,
    )


def deploy(
    store: Store, provider: ProviderProtocol, view: DeployPlanView, *, publish: Publish = ignore
) -> DeploymentRecord:
    """Deploy per `view`; the deployment is recorded first and each resource as it appears, so one that fails
    half-way leaves its endpoint in the store (with its idle teardown) for `endpoints teardown` to remove."""
    plan = view.plan
    store.start_deployment(plan)
    task = f"deploy {plan.model}"

    def progress(message: str) -> None:
        publish(ProgressAdvanced(task=task, done=0, total=None, message=message))

    def created(resource: CreatedResource) -> None:
        store.add_deployment_resource(plan.deploy_key, resource.kind, resource.name)
        if resource.kind == "endpoint":
            store.upsert_endpoint(_endpoint_of(plan, resource.name, "deploying"))
            store.set_idle_teardown(plan.provider, resource.name, view.idle_teardown_s)

    try:
        deployment = provider.deploy_model(plan, progress, created)
    except ProviderError as exc:
        store.set_deployment_state(plan.deploy_key, DeploymentState.FAILED, exc.title)
        record = store.require_deployment(plan.deploy_key)
        publish(DeploymentFailed(record, exc.title))
        raise
    record = store.finish_deployment(deployment)
    store.upsert_endpoint(_endpoint_of(plan, deployment.endpoint_id, plan.note))
    store.set_idle_teardown(plan.provider, deployment.endpoint_id, view.idle_teardown_s)
    publish(ModelDeployed(record))
    return record
