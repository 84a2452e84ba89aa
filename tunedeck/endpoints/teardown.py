"""Cost-safe teardown: only what tunedeck owns (labelled or recorded) is ever torn down, and every attempt is recorded.

Teardown is idempotent (an endpoint already gone counts as done) and a partial failure is reported per endpoint,
so the same command can simply be run again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from providers.base import Provider
from providers.errors import NotFoundError, ProviderError, UnavailableError
from tunedeck.errors import UsageError
from tunedeck.store import EndpointRecord, Store, TeardownOutcome
from tunedeck.store.records import utcnow


@dataclass(frozen=True)
class TeardownResult:
    provider: str
    endpoint_id: str
    outcome: TeardownOutcome
    detail: str = ""
    accrued_cost_usd: float | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in (TeardownOutcome.DONE, TeardownOutcome.ALREADY_GONE)


def teardown_endpoint(
    store: Store, provider: Provider, endpoint_id: str, *, reason: str, gone_when_unreachable: bool = False
) -> TeardownResult:
    """Undeploy/unload one endpoint if it is ours; already gone is success (with why); a foreign one is left alone.

    `gone_when_unreachable`: the provider holds endpoints in its own memory (the local backend), so a service
    that does not answer holds nothing, and "already gone" is the truth rather than a failure to check."""
    record = store.get_endpoint(provider.name, endpoint_id)
    try:
        live = {e.id: e for e in provider.list_endpoints()}.get(endpoint_id)
    except UnavailableError as exc:
        if not gone_when_unreachable or record is None:
            return _failed(store, provider.name, endpoint_id, reason, f"could not list endpoints: {exc.title}", record)
        why = (
            f"the {provider.name} service is not running, so nothing is loaded (it stops with the tunedeck command "
            "that started it unless a job is training, and a restart loads nothing)"
        )
        return _gone(store, provider.name, endpoint_id, reason, record, why)
    except ProviderError as exc:
        return _failed(store, provider.name, endpoint_id, reason, f"could not list endpoints: {exc.title}", record)
    if live is not None and not live.owned_by_tunedeck and record is None:
        detail = "not created by tunedeck (no managed-by=tunedeck label, not in the store): left alone"
        store.record_teardown(provider.name, endpoint_id, TeardownOutcome.NOT_OURS, reason, error=detail)
        return TeardownResult(provider.name, endpoint_id, TeardownOutcome.NOT_OURS, detail)
    if live is None and record is None:
        raise UsageError(f"No {provider.name} endpoint {endpoint_id!r} is known.", "See `tunedeck endpoints list`.")
    if live is not None:
        record = store.upsert_endpoint(live) if live.owned_by_tunedeck or record is not None else record
        try:
            provider.teardown_endpoint(endpoint_id)
        except NotFoundError:
            live = None  # gone between list and teardown: the goal is reached
        except ProviderError as exc:
            return _failed(store, provider.name, endpoint_id, reason, exc.title, record)
    if live is None:
        return _gone(store, provider.name, endpoint_id, reason, record, _why_gone(store, provider.name, record))
    now = utcnow()
    accrued = record.accrued_cost_usd(now) if record else None
    store.mark_endpoint_torn_down(provider.name, endpoint_id, now)
    store.record_teardown(provider.name, endpoint_id, TeardownOutcome.DONE, reason, accrued_cost_usd=accrued)
    return TeardownResult(provider.name, endpoint_id, TeardownOutcome.DONE, accrued_cost_usd=accrued)


def _gone(
    store: Store, provider: str, endpoint_id: str, reason: str, record: EndpointRecord | None, why: str
) -> TeardownResult:
    now = utcnow()
    # Gone since an earlier teardown: its cost stopped then, not now.
    accrued = record.accrued_cost_usd(record.torn_down_at or now) if record else None
    store.mark_endpoint_torn_down(provider, endpoint_id, now)
    store.record_teardown(provider, endpoint_id, TeardownOutcome.ALREADY_GONE, reason, accrued_cost_usd=accrued)
    return TeardownResult(provider, endpoint_id, TeardownOutcome.ALREADY_GONE, why, accrued)


def _why_gone(store: Store, provider: str, record: EndpointRecord | None) -> str:
    """Why an endpoint the provider no longer lists is gone, from what the store remembers of it."""
    if record is None:
        return f"{provider} does not list it"
    if record.torn_down_at is not None:
        done = (TeardownOutcome.DONE, TeardownOutcome.ALREADY_GONE)
        earlier = [t for t in store.list_teardowns(record.id) if t.provider == provider and t.outcome in done]
        how = f" ({earlier[-1].reason})" if earlier else ""
        return f"already torn down at {record.torn_down_at:%Y-%m-%d %H:%M:%S}Z{how}"
    return (
        f"{provider} no longer lists it: it was unloaded, undeployed or deleted after tunedeck last saw it "
        "(an idle unload, a restart of the service, or a change made outside tunedeck)"
    )


def _failed(
    store: Store, provider: str, endpoint_id: str, reason: str, error: str, record: EndpointRecord | None
) -> TeardownResult:
    store.record_teardown(provider, endpoint_id, TeardownOutcome.FAILED, reason, error=error)
    accrued = record.accrued_cost_usd() if record else None
    return TeardownResult(provider, endpoint_id, TeardownOutcome.FAILED, error, accrued)


def teardown_many(store: Store, targets: Iterable[tuple[Provider, str]], *, reason: str) -> list[TeardownResult]:
    """Each target independently: one failure never stops the rest (run again to retry the failed ones)."""
    return [teardown_endpoint(store, provider, endpoint_id, reason=reason) for provider, endpoint_id in targets]
