"""Every tuned model across providers, with where it came from and where it is served: what `models list` shows.

A model is *ours* when tunedeck made it (its job or the model is in the store) or the provider labels it
managed-by=tunedeck; anything else is listed but never deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from providers.base import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Endpoint, ModelInfo, Provider
from providers.errors import NotSupportedError, ProviderError
from tunedeck.store import JobRecord, Store
from tunedeck.store.deployments import DeploymentRecord


@dataclass(frozen=True)
class ServedAt:
    """Somewhere a model answers: a dedicated endpoint billed hourly, a shared one billed per token, or memory."""

    endpoint_id: str
    billing: str
    """"hourly", "per token" or "free" (the local backend)."""
    hourly_rate_usd: float | None = None
    machine: str = ""
    replicas: int = 0


@dataclass(frozen=True)
class TunedModelView:
    provider: str
    id: str
    ours: bool
    base_model: str = ""
    job_id: str | None = None
    """tunedeck's job id, when tunedeck submitted it."""
    provider_job_id: str | None = None
    created_at: datetime | None = None
    served: tuple[ServedAt, ...] = ()
    base_shutdown_date: str | None = None
    owner: str = ""
    deployments: tuple[DeploymentRecord, ...] = ()
    reachable: bool = True
    """False when the provider could not be asked: this is the store's last knowledge."""

    @property
    def short_name(self) -> str:
        """The last path segment: what a confirmation can ask the user to type."""
        return self.id.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class ModelListing:
    models: list[TunedModelView] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    """Provider → why it could not be asked (its models tunedeck made are still listed, as last known)."""

    def find(self, model: str, provider: str | None = None) -> list[TunedModelView]:
        return [
            m
            for m in self.models
            if (provider is None or m.provider == provider) and model in {m.id, m.short_name, m.job_id}
        ]


def _unversioned(name: str) -> str:
    return name.split("@", 1)[0].rstrip("/")


def _served(model: ModelInfo, job: JobRecord | None, endpoints: list[Endpoint], deployed: set[str]) -> list[ServedAt]:
    names = {_unversioned(model.id)} | ({_unversioned(job.fine_tuned_model)} if job and job.fine_tuned_model else set())
    found = []
    for endpoint in endpoints:
        if endpoint.id in deployed or _unversioned(endpoint.model) in names or endpoint.id in names:
            if endpoint.machine_type == "local":
                billing = "free"
            elif endpoint.machine_type:
                billing = "hourly"
            else:
                billing = "per token"
            found.append(
                ServedAt(endpoint.id, billing, endpoint.hourly_rate_usd, endpoint.machine_type, endpoint.replicas)
            )
    return found


def _provider_listing(store: Store, provider: Provider) -> tuple[list[TunedModelView], str | None]:
    jobs = [j for j in store.list_jobs(provider=provider.name) if j.fine_tuned_model or j.provider_job_id]
    by_model = {j.fine_tuned_model: j for j in jobs if j.fine_tuned_model}
    by_remote = {j.provider_job_id: j for j in jobs if j.provider_job_id}
    records = {r.name: r for r in store.list_models(provider.name)}
    deployments = store.list_deployments(provider=provider.name)
    try:
        every = provider.list_models()
    except NotSupportedError:
        return [], None
    except ProviderError as exc:
        known = [
            TunedModelView(
                provider.name, r.name, True, r.base_model, r.job_id, created_at=r.created_at, reachable=False
            )
            for r in records.values()
        ]
        return known, exc.title
    try:
        endpoints = provider.list_endpoints()
    except ProviderError:
        endpoints = []  # where it is served is unknown; the models themselves are still worth listing
    shutdowns = {m.id: m.shutdown_date for m in every if m.shutdown_date}
    views = []
    for info in (m for m in every if m.fine_tuned):
        job = by_model.get(info.id) or by_remote.get(info.job_id)
        record = records.get(info.id) or (records.get(job.fine_tuned_model or "") if job else None)
        mine = [d for d in deployments if d.model == info.id or (job is not None and d.model == job.fine_tuned_model)]
        base = info.base_model or (job.base_model if job else "") or (record.base_model if record else "")
        ours = job is not None or record is not None or info.labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE
        served = _served(info, job, endpoints, {d.endpoint_id for d in mine if d.endpoint_id and d.live})
        views.append(
            TunedModelView(
                provider=provider.name,
                id=info.id,
                ours=ours,
                base_model=base,
                job_id=job.id if job else (record.job_id if record else None),
                provider_job_id=(job.provider_job_id if job else None) or info.job_id or None,
                created_at=info.created_at or (record.created_at if record else None),
                served=tuple(served),
                base_shutdown_date=shutdowns.get(base) or info.shutdown_date,
                owner="tunedeck" if ours else (info.owned_by or "unknown"),
                deployments=tuple(mine),
            )
        )
    return views, None


def list_tuned_models(store: Store, providers: Iterable[Provider]) -> ModelListing:
    """Ask each provider for its tuned models; one that cannot be asked is reported, never fatal."""
    listing = ModelListing()
    for provider in providers:
        views, error = _provider_listing(store, provider)
        listing.models += views
        if error:
            listing.errors[provider.name] = error
    listing.models.sort(key=lambda m: (m.provider, m.created_at is None, m.created_at), reverse=False)
    return listing
