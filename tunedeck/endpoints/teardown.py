"""Cost-safe teardown: only what tunedeck owns (labelled or recorded) is ever torn down, and every attempt is recorded.

Teardown is idempotent (an endpoint already gone counts as done) and a partial failure is reported per endpoint,
so the same command can simply be run again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from providers.base import Endpoint, Provider
from providers.errors import NotFoundError, NotSupportedError, ProviderError, UnavailableError
from tunedeck.errors import UsageError
from tunedeck.store import EndpointRecord, Store, TeardownOutcome, TeardownRecord
from tunedeck.store.records import utcnow

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """'30m', '2h', '1h30m', '45s', '1d'; a bare number means minutes."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return timedelta(minutes=float(text))
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise UsageError(f"Cannot read {text!r} as a duration.", "Write it like 30m, 2h, 1h30m or 45s.")
    return timedelta(seconds=sum(float(n) * _UNIT_S[u] for n, u in parts))


@dataclass(frozen=True)
class EndpointView:
    """One hourly-billed thing as listed: the live endpoint (when the provider answered) and whether it is ours."""

    provider: str
    id: str
    ours: bool
    record: EndpointRecord | None
    live: Endpoint | None

    @property
    def display_name(self) -> str:
        return self.live.display_name if self.live else (self.record.display_name if self.record else self.id)

    @property
    def model(self) -> str:
        return self.live.model if self.live else (self.record.model if self.record else "")


@dataclass
class Inventory:
    ours: list[EndpointView] = field(default_factory=list)
    not_ours: list[EndpointView] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    """Provider name → why it could not be listed (its recorded endpoints are still shown, as last known)."""


def refresh_endpoints(
    store: Store,
    providers: Iterable[Provider],
    *,
    gone_when_unreachable: Collection[str] = (),
    default_idle_s: float | None = None,
) -> Inventory:
    """Ask each provider for its endpoints; record ours, list foreign ones without recording them.

    `gone_when_unreachable` names providers whose endpoints cannot outlive the service (the local backend
    holds models in its own memory): there, "not running" means "nothing loaded", not "unknown".
    `default_idle_s` is the idle auto-teardown limit given to endpoints seen for the first time.
    """
    inventory = Inventory()
    for provider in providers:
        try:
            live = provider.list_endpoints()
        except NotSupportedError:
            continue
        except ProviderError as exc:
            if not (isinstance(exc, UnavailableError) and provider.name in gone_when_unreachable):
                inventory.errors[provider.name] = exc.title
                last_known = store.list_endpoints(provider=provider.name)
                inventory.ours += [EndpointView(r.provider, r.id, True, r, None) for r in last_known]
                continue
            live = []
        seen: set[str] = set()
        for endpoint in live:
            known = store.get_endpoint(provider.name, endpoint.id)
            if endpoint.owned_by_tunedeck or known is not None:
                # Foreign endpoints are never recorded: being in the store is itself proof of ownership.
                record = store.upsert_endpoint(endpoint)
                if known is None and default_idle_s is not None:
                    store.set_idle_teardown(provider.name, endpoint.id, default_idle_s)
                    record = store.get_endpoint(provider.name, endpoint.id) or record
                inventory.ours.append(EndpointView(provider.name, endpoint.id, True, record, endpoint))
                seen.add(endpoint.id)
            else:
                inventory.not_ours.append(EndpointView(provider.name, endpoint.id, False, None, endpoint))
        for record in store.list_endpoints(provider=provider.name):
            if record.id not in seen:
                # Gone without us (console, expiry, server restart): stop counting its cost.
                store.mark_endpoint_torn_down(provider.name, record.id)
                store.record_teardown(
                    provider.name, record.id, TeardownOutcome.ALREADY_GONE, "no longer listed by the provider",
                    accrued_cost_usd=record.accrued_cost_usd(),
                )  # fmt: skip
    return inventory


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


def teardown_endpoint(store: Store, provider: Provider, endpoint_id: str, *, reason: str) -> TeardownResult:
    """Undeploy/unload one endpoint if it is ours; already gone is success; a foreign one is left alone."""
    record = store.get_endpoint(provider.name, endpoint_id)
    try:
        live = {e.id: e for e in provider.list_endpoints()}.get(endpoint_id)
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
    outcome = TeardownOutcome.DONE if live is not None else TeardownOutcome.ALREADY_GONE
    now = utcnow()
    accrued = record.accrued_cost_usd(now) if record else None
    store.mark_endpoint_torn_down(provider.name, endpoint_id, now)
    store.record_teardown(provider.name, endpoint_id, outcome, reason, accrued_cost_usd=accrued)
    return TeardownResult(provider.name, endpoint_id, outcome, accrued_cost_usd=accrued)


def _failed(
    store: Store, provider: str, endpoint_id: str, reason: str, error: str, record: EndpointRecord | None
) -> TeardownResult:
    store.record_teardown(provider, endpoint_id, TeardownOutcome.FAILED, reason, error=error)
    accrued = record.accrued_cost_usd() if record else None
    return TeardownResult(provider, endpoint_id, TeardownOutcome.FAILED, error, accrued)


def teardown_many(store: Store, targets: Iterable[tuple[Provider, str]], *, reason: str) -> list[TeardownResult]:
    """Each target independently: one failure never stops the rest (run again to retry the failed ones)."""
    return [teardown_endpoint(store, provider, endpoint_id, reason=reason) for provider, endpoint_id in targets]


def idle_endpoints(inventory: Inventory, idle_for: timedelta, now: datetime | None = None) -> list[EndpointView]:
    now = now or utcnow()
    return [v for v in inventory.ours if v.record is not None and v.record.idle_s(now) >= idle_for.total_seconds()]


def auto_teardown_idle(
    store: Store, get_provider: Callable[[str], Provider], now: datetime | None = None
) -> list[TeardownResult]:
    """Tear down every endpoint whose own idle limit (`set_idle_teardown`) has passed; run from the monitor.

    The store's last use may be stale (someone else chatted with it), so a due endpoint's provider is asked
    again first: one used since is left alone.
    """
    now = now or utcnow()
    due = [r for r in store.list_endpoints() if r.idle_teardown_s is not None and r.idle_s(now) >= r.idle_teardown_s]
    results = []
    for record in due:
        provider = get_provider(record.provider)
        try:
            live = {e.id: e for e in provider.list_endpoints()}.get(record.id)
        except ProviderError:
            continue  # cannot confirm it is idle: try again next round rather than act on old data
        if live is not None:
            record = store.upsert_endpoint(live)
            if record.idle_s(now) < (record.idle_teardown_s or 0):
                continue
        limit_min = (record.idle_teardown_s or 0) / 60
        reason = f"idle auto-teardown: unused for {record.idle_s(now) / 60:.0f} min (limit {limit_min:.0f} min)"
        results.append(teardown_endpoint(store, provider, record.id, reason=reason))
    return results


def record_use(store: Store, provider: str, model: str) -> None:
    """A chat or test just used `model`: endpoints serving it are not idle."""
    store.touch_endpoints_serving(provider, model)


def history(store: Store, endpoint_id: str | None = None) -> list[TeardownRecord]:
    return store.list_teardowns(endpoint_id)
