"""`ModelActions`: the tuned-model verbs the CLI and the TUI share (list, delete, plan and run a deployment).

It holds the workspace and touches only `settings`, `store`, `provider(name)`, `listing_provider(name)` and
`publish(event)`; the work itself is in the service modules beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.base import DeploySpec
from providers.errors import ProviderError
from tunedeck.errors import TunedeckError, UsageError
from tunedeck.models.catalog import ModelListing, TunedModelView, list_tuned_models
from tunedeck.models.delete import DeleteResult, delete_model
from tunedeck.models.deploy import DeployPlanView, deploy, idle_teardown_s, plan_deploy
from tunedeck.store.deployments import DeploymentRecord, DeploymentState

if TYPE_CHECKING:
    from providers.base import Provider

TUNABLE = ("local", "openai", "vertex")
_PREFIXES = (
    ("gs://", "vertex"),
    ("projects/", "vertex"),
    ("ft:smollm2", "local"),
    ("smollm2", "local"),
    ("ft:", "openai"),
)


class ModelActions:
    def __init__(self, workspace: Any) -> None:
        self.ws = workspace

    # -- which providers ------------------------------------------------------------------------------------

    def providers(self, only: str | None = None) -> list[str]:
        """Providers that may hold tuned models: local always, the others when configured or already used."""
        if only:
            return [only]
        store, settings = self.ws.store, self.ws.settings
        used = {j.provider for j in store.list_jobs()} | {r.provider for r in store.list_models()}
        names = {"local"} | (used & set(TUNABLE))
        if settings.section("vertex") or settings.section("infra").get("stack"):
            names.add("vertex")
        if settings.section("openai") or _has_openai_key():
            names.add("openai")
        return sorted(names)

    def guess_provider(self, model: str) -> str:
        store = self.ws.store
        for record in store.list_models():
            if record.name == model:
                return str(record.provider)
        for job in store.list_jobs():
            if model in (job.fine_tuned_model, job.id):
                return str(job.provider)
        for prefix, name in _PREFIXES:
            if model.startswith(prefix):
                return name
        raise UsageError(
            f"Cannot tell which provider {model!r} belongs to.", "Add --provider (local, openai or vertex)."
        )

    # -- verbs ----------------------------------------------------------------------------------------------

    def list(self, provider: str | None = None) -> ModelListing:
        self._settle()
        providers: list[Provider] = []
        errors: dict[str, str] = {}
        for name in self.providers(provider):
            try:
                providers.append(self.ws.listing_provider(name))
            except TunedeckError as exc:  # not set up here: reported, never fatal to the listing
                errors[name] = exc.title
        listing = list_tuned_models(self.ws.store, providers)
        listing.errors.update(errors)
        return listing

    def find(self, model: str, provider: str | None = None) -> TunedModelView:
        name = provider or self.guess_provider(model)
        listing = self.list(name)
        found = listing.find(model, name)
        if not found:
            why = f" ({listing.errors[name]})" if name in listing.errors else ""
            raise UsageError(f"No tuned {name} model {model!r} is known{why}.", "See `tunedeck models list`.")
        if len(found) > 1:
            raise UsageError(f"{model!r} matches several models.", "Give the full id from `tunedeck models list`.")
        return found[0]

    def delete(self, model: TunedModelView | str, provider: str | None = None) -> DeleteResult:
        view = model if isinstance(model, TunedModelView) else self.find(model, provider)
        return delete_model(self.ws.store, self.ws.provider(view.provider), view, publish=self.ws.publish)

    def deploy_plan(
        self,
        model: str,
        provider: str | None = None,
        *,
        machine_type: str | None = None,
        accelerator_type: str | None = None,
        accelerator_count: int | None = None,
        min_replicas: int = 1,
        max_replicas: int | None = None,
        endpoint: str | None = None,
        idle_teardown: str | None = None,
    ) -> DeployPlanView:
        """What deploying would create and cost per hour: shown (and agreed to) before `deploy`."""
        if min_replicas < 1 or (max_replicas is not None and max_replicas < min_replicas):
            raise UsageError("Replicas must satisfy 1 <= --min-replicas <= --max-replicas.")
        name = provider or self.guess_provider(model)
        idle = idle_teardown_s(self.ws.settings.section("endpoints").get("idle_teardown"), idle_teardown)
        spec = DeploySpec(
            model=model,
            machine_type=machine_type,
            accelerator_type=accelerator_type,
            accelerator_count=accelerator_count,
            min_replicas=min_replicas,
            max_replicas=max_replicas,
            endpoint=endpoint,
        )
        return plan_deploy(self.ws.store, self.ws.provider(name), spec, idle_s=idle)

    def deploy(self, view: DeployPlanView) -> DeploymentRecord:
        return deploy(self.ws.store, self.ws.provider(view.plan.provider), view, publish=self.ws.publish)

    def _settle(self) -> None:
        """Deployments whose endpoint was torn down since (teardown, idle auto-teardown) are over."""
        store = self.ws.store
        for record in store.list_deployments():
            if record.endpoint_id and record.state is DeploymentState.DEPLOYED:
                endpoint = store.get_endpoint(record.provider, record.endpoint_id)
                if endpoint is not None and endpoint.torn_down_at is not None:
                    store.set_deployment_state(record.id, DeploymentState.TORN_DOWN)


def _has_openai_key() -> bool:
    from tunedeck.settings import get_secret  # the settings module is the one place that reads the environment

    try:
        return get_secret("openai") is not None
    except ProviderError:
        return False
