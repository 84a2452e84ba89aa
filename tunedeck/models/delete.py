"""Delete a tuned model tunedeck made: tear down (and record) every endpoint of ours that serves it, remove the
serving copies its deployments uploaded, then ask the provider to delete the model itself. Irreversible, so the
caller confirms first; a model tunedeck did not make is refused.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from providers.base import Provider
from providers.errors import NotFoundError, NotSupportedError
from tunedeck.endpoints.teardown import TeardownResult, teardown_endpoint
from tunedeck.errors import TunedeckError
from tunedeck.events import EndpointTornDown, ModelDeleted, Publish, ignore
from tunedeck.exitcodes import ExitCode
from tunedeck.models.catalog import TunedModelView
from tunedeck.store import Store
from tunedeck.store.deployments import DeploymentState


class NotOursError(TunedeckError):
    """The model exists but tunedeck did not make it: deleting it is the owner's call, in the provider's console."""

    exit_code = ExitCode.BAD_INPUT


@dataclass
class DeleteResult:
    provider: str
    model: str
    deleted: bool
    teardowns: list[TeardownResult] = field(default_factory=list)
    note: str = ""
    """What stayed and why (e.g. tuned weights in your bucket, which tunedeck never deletes)."""


def delete_model(store: Store, provider: Provider, model: TunedModelView, *, publish: Publish = ignore) -> DeleteResult:
    if not model.ours:
        raise NotOursError(
            f"{model.provider} model {model.id} was not made by tunedeck (owner: {model.owner}); it is left alone.",
            "Delete it where it was made (the provider's console or API) if it is yours to delete.",
        )
    result = DeleteResult(provider.name, model.id, deleted=False)
    endpoints = {s.endpoint_id for s in model.served if s.billing != "per token"}
    endpoints |= {d.endpoint_id for d in model.deployments if d.endpoint_id and d.live}
    for endpoint_id in sorted(endpoints):
        if store.get_endpoint(provider.name, endpoint_id) is None and not _labelled_ours(provider, endpoint_id):
            continue  # serving it somewhere not ours: the provider's own delete decides (and refuses if it must)
        torn = teardown_endpoint(store, provider, endpoint_id, reason=f"model {model.id} deleted")
        result.teardowns.append(torn)
        publish(EndpointTornDown(torn))
        if not torn.ok:
            result.note = f"{endpoint_id} could not be torn down ({torn.detail}); the model was not deleted."
            return result
    for deployment in model.deployments:
        for kind, name in deployment.resources:
            if kind == "model" and name != model.id:
                with contextlib.suppress(NotFoundError):
                    provider.delete_model(name)  # a serving copy the deployment uploaded
        store.set_deployment_state(deployment.id, DeploymentState.TORN_DOWN)
    try:
        provider.delete_model(model.id)
    except NotFoundError:
        result.note = "It was already gone."
    except NotSupportedError as exc:
        # The provider keeps the model itself (tuned weights in your bucket): say so, after removing the rest.
        result.note = f"{exc.title} {exc.hint}".strip()
        publish(ModelDeleted(provider.name, model.id, result.note))
        return result
    result.deleted = True
    publish(ModelDeleted(provider.name, model.id, result.note))
    return result


def _labelled_ours(provider: Provider, endpoint_id: str) -> bool:
    try:
        return any(e.id == endpoint_id and e.owned_by_tunedeck for e in provider.list_endpoints())
    except TunedeckError:
        return False
