"""The endpoint inventory: everything that bills by the hour or holds memory, per provider, ours or not.

Ownership is decided here once: an endpoint is ours when it carries `managed-by=tunedeck` or the store
already records it. Foreign endpoints are listed but never recorded (being in the store is itself the proof
of ownership teardown relies on). Each provider's listing says whether it was actually checked, so "nothing
is billing" is only ever said after looking.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from providers.base import Endpoint, Provider
from providers.errors import NotSupportedError, ProviderError, UnavailableError
from tunedeck.store import EndpointRecord, TeardownOutcome

if TYPE_CHECKING:
    from tunedeck.store import Store

GONE_WHEN_UNREACHABLE = frozenset({"local"})
"""Providers whose endpoints live in the service's own memory: when it is not running, nothing is loaded."""
LOADS_ON_DEMAND = frozenset({"local"})
"""Providers that load a model again when it is asked: a chat after its teardown quietly brings it back."""


class CheckStatus(StrEnum):
    CHECKED = "checked"
    """The provider answered: what is listed is what exists."""
    NOT_CONFIGURED = "not-configured"
    """Not set up here, so nothing of ours can be running there (the hint says how to set it up)."""
    UNREACHABLE = "could-not-check"
    """Set up but it did not answer: recorded endpoints are shown as last known; something may be billing."""


@dataclass(frozen=True)
class ProviderCheck:
    provider: str
    status: CheckStatus
    detail: str = ""
    hint: str = ""


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

    @property
    def hourly_rate_usd(self) -> float | None:
        """The provider's current rate, else the one recorded when it was last seen."""
        if self.live is not None:
            return self.live.hourly_rate_usd
        return self.record.hourly_rate_usd if self.record else None

    @property
    def machine_type(self) -> str:
        return self.live.machine_type if self.live else (self.record.machine_type if self.record else "")

    def uptime_s(self, now: datetime | None = None) -> float | None:
        return self.record.uptime_s(now) if self.record else None

    def accrued_cost_usd(self, now: datetime | None = None) -> float | None:
        return self.record.accrued_cost_usd(now) if self.record else None

    def idle_s(self, now: datetime | None = None) -> float | None:
        return self.record.idle_s(now) if self.record else None

    @property
    def last_used_at(self) -> datetime | None:
        return self.record.last_used_at if self.record else (self.live.last_used_at if self.live else None)

    @property
    def idle_teardown_s(self) -> float | None:
        return self.record.idle_teardown_s if self.record else None

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        """The shape `endpoints list --json` prints (it may only grow)."""
        return {
            "provider": self.provider,
            "id": self.id,
            "display_name": self.display_name,
            "model": self.model,
            "ours": self.ours,
            "hourly_rate_usd": self.hourly_rate_usd,
            "uptime_s": self.uptime_s(now),
            "accrued_usd": self.accrued_cost_usd(now),
            "last_used_at": self.last_used_at,
            "idle_s": self.idle_s(now),
            "idle_teardown_s": self.idle_teardown_s,
            "machine_type": self.machine_type,
            "replicas": self.live.replicas if self.live else None,
            "reachable": self.live is not None,
            "note": self.live.note if self.live else "",
        }


@dataclass
class Inventory:
    ours: list[EndpointView] = field(default_factory=list)
    not_ours: list[EndpointView] = field(default_factory=list)
    checks: dict[str, ProviderCheck] = field(default_factory=dict)
    """Provider name → whether it was checked, is not configured, or could not be asked (and why)."""

    @property
    def errors(self) -> dict[str, str]:
        """Provider name → why it could not be listed (its recorded endpoints are still shown, as last known)."""
        return {n: c.detail for n, c in self.checks.items() if c.status is CheckStatus.UNREACHABLE}

    @property
    def everything(self) -> list[EndpointView]:
        return [*self.ours, *self.not_ours]

    @property
    def all_checked(self) -> bool:
        """True only when no provider that could hold something billed went unasked."""
        return all(c.status is not CheckStatus.UNREACHABLE for c in self.checks.values())

    @property
    def nothing_running(self) -> bool:
        """The honest all-clear: every provider that could bill was asked, and none holds anything."""
        return self.all_checked and not self.ours and not self.not_ours

    @property
    def burn_rate_usd_per_h(self) -> float:
        """What everything listed costs per hour right now (ours and foreign; unknown rates count as 0)."""
        return sum(v.hourly_rate_usd or 0.0 for v in self.everything)

    def find(self, provider: str, endpoint_id: str) -> EndpointView | None:
        return next((v for v in self.everything if (v.provider, v.id) == (provider, endpoint_id)), None)


def refresh_endpoints(
    store: Store,
    providers: Iterable[Provider],
    *,
    gone_when_unreachable: Collection[str] = (),
    default_idle_s: float | None = None,
    inventory: Inventory | None = None,
) -> Inventory:
    """Ask each provider for its endpoints; record ours, list foreign ones without recording them.

    `gone_when_unreachable` names providers whose endpoints cannot outlive the service (the local backend
    holds models in its own memory): there, "not running" means "nothing loaded", not "unknown".
    `default_idle_s` is the idle auto-teardown limit given to endpoints seen for the first time.
    """
    inventory = inventory or Inventory()
    for provider in providers:
        try:
            live = provider.list_endpoints()
        except NotSupportedError:
            inventory.checks[provider.name] = ProviderCheck(provider.name, CheckStatus.CHECKED, "no hourly endpoints")
            continue
        except ProviderError as exc:
            if not (isinstance(exc, UnavailableError) and provider.name in gone_when_unreachable):
                inventory.checks[provider.name] = ProviderCheck(
                    provider.name, CheckStatus.UNREACHABLE, exc.title, exc.hint
                )
                last_known = store.list_endpoints(provider=provider.name)
                inventory.ours += [EndpointView(r.provider, r.id, True, r, None) for r in last_known]
                continue
            live = []
        inventory.checks[provider.name] = ProviderCheck(provider.name, CheckStatus.CHECKED)
        seen: set[str] = set()
        for endpoint in live:
            known = store.get_endpoint(provider.name, endpoint.id)
            if endpoint.owned_by_tunedeck or known is not None:
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
                # Gone without us (console, expiry, server restart, idle unload): stop counting its cost.
                store.mark_endpoint_torn_down(provider.name, record.id)
                store.record_teardown(
                    provider.name, record.id, TeardownOutcome.ALREADY_GONE,
                    f"no longer listed by {provider.name} (unloaded, undeployed or deleted outside this command)",
                    accrued_cost_usd=record.accrued_cost_usd(),
                )  # fmt: skip
    return inventory
