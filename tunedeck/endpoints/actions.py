"""Every endpoint action a front end offers, one method each: the inventory, resolving a name, a test chat,
teardown of one / the idle / everything of ours, and the idle auto-teardown setting."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from providers.base import ChatMessage, Provider
from tunedeck.endpoints.idle import auto_teardown_idle, idle_endpoints, parse_duration
from tunedeck.endpoints.inventory import (
    GONE_WHEN_UNREACHABLE,
    LOADS_ON_DEMAND,
    CheckStatus,
    EndpointView,
    Inventory,
    ProviderCheck,
    refresh_endpoints,
)
from tunedeck.endpoints.teardown import TeardownResult, teardown_endpoint
from tunedeck.errors import TunedeckError, UsageError
from tunedeck.events import AutoTeardownDone, EndpointsListed, EndpointTornDown

if TYPE_CHECKING:
    from tunedeck.chat import ChatReply, OnText
    from tunedeck.workspace import Workspace

REFRESH_EVERY_S = 300.0
"""How often the monitor re-lists endpoints, to notice new deployments and uses made outside tunedeck."""


@dataclass(frozen=True)
class ProbeTarget:
    provider: str
    endpoint_id: str
    model: str
    reloads: str = ""
    """Empty, or why testing brings back something torn down (and what it then costs): ask before it does."""


class EndpointActions:
    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self._last_refresh = float("-inf")

    # -- listing ----------------------------------------------------------------------------------------

    def providers(self) -> list[str]:
        """Providers that can hold something billed by the hour or held in memory, plus any recorded."""
        from providers.registry import capabilities

        names = {"local", *(r.provider for r in self.ws.store.list_endpoints())}
        names |= {name for name in self.ws.known_providers() if capabilities(name).hourly_endpoints}
        return sorted(names)

    def default_idle_teardown_s(self) -> float | None:
        """`[endpoints] idle_teardown = "30m"`: the auto-teardown limit for endpoints seen for the first time."""
        value = self.ws.settings.section("endpoints").get("idle_teardown")
        return parse_duration(str(value)).total_seconds() if value else None

    def inventory(self, only: str | None = None) -> Inventory:
        """Ask each provider (never starting the local backend); record ours; say which could not be asked."""
        if only is not None:
            self.ws.require_known_provider(only)
        inventory = Inventory()
        adapters: list[Provider] = []
        for name in [only] if only else self.providers():
            try:
                adapter = self.ws.listing_provider(name)
                if all(a.name != adapter.name for a in adapters):  # an injected factory may repeat one adapter
                    adapters.append(adapter)
            except TunedeckError as exc:  # not set up here: said per provider, never fatal to the listing
                self._not_asked(inventory, name, exc)
        found = refresh_endpoints(
            self.ws.store,
            adapters,
            gone_when_unreachable=GONE_WHEN_UNREACHABLE,
            default_idle_s=self.default_idle_teardown_s(),
            inventory=inventory,
        )
        self.ws.publish(EndpointsListed(found))
        return found

    def _not_asked(self, inventory: Inventory, name: str, exc: TunedeckError) -> None:
        """A provider whose adapter could not be built. "Not configured" is an all-clear only when tunedeck
        recorded nothing running there; endpoints it did record may still bill, so then it could not check."""
        from providers.errors import ConfigurationError

        recorded = self.ws.store.list_endpoints(provider=name)
        if isinstance(exc, ConfigurationError) and not recorded:
            inventory.checks[name] = ProviderCheck(name, CheckStatus.NOT_CONFIGURED, exc.title, exc.hint)
            return
        detail = exc.title
        if recorded:
            detail += f" ({len(recorded)} endpoint(s) recorded as running there are shown as last known)"
        inventory.checks[name] = ProviderCheck(name, CheckStatus.UNREACHABLE, detail, exc.hint)
        inventory.ours += [EndpointView(r.provider, r.id, True, r, None) for r in recorded]

    def resolve(self, name: str, provider: str | None = None) -> tuple[str, str]:
        """(provider, endpoint id) for an id or display name, recorded or live; asks for --provider if ambiguous."""
        if provider is not None:
            self.ws.require_known_provider(provider)
        matches = [r for r in self.ws.store.find_endpoints(name) if provider in (None, r.provider)]
        if len(matches) > 1:
            names = ", ".join(sorted({m.provider for m in matches}))
            raise UsageError(f"{name!r} names endpoints on several providers ({names}).", "Add --provider.")
        if matches:
            return matches[0].provider, matches[0].id
        if provider:
            return provider, name
        live = [v for v in self.inventory().everything if name in (v.id, v.display_name)]
        if len(live) == 1:
            return live[0].provider, live[0].id
        raise UsageError(f"No endpoint {name!r} is known.", "See `tunedeck endpoints list`, or add --provider.")

    # -- using ------------------------------------------------------------------------------------------

    def prepare_test(self, name: str, provider: str | None = None) -> ProbeTarget:
        """What `test` would talk to, and whether that brings a torn-down model back (to ask before it does)."""
        from providers.registry import capabilities

        provider_name, endpoint_id = self.resolve(name, provider)
        record = self.ws.store.get_endpoint(provider_name, endpoint_id)
        model = record.model if record else endpoint_id
        reloads = ""
        if record is not None and record.torn_down_at is not None and provider_name in LOADS_ON_DEMAND:
            holds = (
                "bills by the hour"
                if provider_name in self.ws.known_providers() and capabilities(provider_name).hourly_endpoints
                else "holds memory"
            )
            reloads = (
                f"{provider_name}:{endpoint_id} was torn down at {record.torn_down_at:%Y-%m-%d %H:%M:%S}Z. Testing it "
                f"makes {provider_name} load {model} again, and it then {holds} until you tear it down again "
                f"(`tunedeck endpoints teardown {endpoint_id}`) or idle teardown does."
            )
        return ProbeTarget(provider_name, endpoint_id, model, reloads)

    def test(
        self,
        name: str,
        prompt: str = "Say hello in five words.",
        *,
        provider: str | None = None,
        max_tokens: int = 32,
        on_text: OnText | None = None,
    ) -> ChatReply:
        """One short prompt to the endpoint's model, timed. A model loaded again by it is listed again at once,
        so it counts (and idle teardown sees it) from now on."""
        target = self.prepare_test(name, provider)
        messages = [ChatMessage("user", prompt)]
        reply = self.ws.reply(target.provider, target.model, messages, max_tokens=max_tokens, on_text=on_text)
        if target.reloads:
            self.inventory(target.provider)
        return reply

    # -- tearing down -----------------------------------------------------------------------------------

    def teardown(
        self, name: str, provider: str | None = None, *, reason: str = "requested by the user"
    ) -> TeardownResult:
        provider_name, endpoint_id = self.resolve(name, provider)
        return self.teardown_targets([(provider_name, endpoint_id)], reason=reason)[0]

    def teardown_targets(self, targets: list[tuple[str, str]], *, reason: str) -> list[TeardownResult]:
        """Each target independently: one failure never stops the rest (run again to retry the failed ones)."""
        results = []
        for provider_name, endpoint_id in targets:
            in_memory = provider_name in GONE_WHEN_UNREACHABLE
            # A backend that is not running holds nothing: starting one only to find that out would be waste.
            adapter = self.ws.listing_provider(provider_name) if in_memory else self.ws.provider(provider_name)
            result = teardown_endpoint(
                self.ws.store, adapter, endpoint_id, reason=reason, gone_when_unreachable=in_memory
            )
            self.ws.publish(EndpointTornDown(result))
            results.append(result)
        return results

    def idle(self, idle_for: timedelta | str, provider: str | None = None) -> list[EndpointView]:
        """Endpoints of ours unused for at least `idle_for`."""
        span = parse_duration(idle_for) if isinstance(idle_for, str) else idle_for
        return idle_endpoints(self.inventory(provider), span)

    def teardown_idle(self, idle_for: timedelta | str, provider: str | None = None) -> list[TeardownResult]:
        span = parse_duration(idle_for) if isinstance(idle_for, str) else idle_for
        targets = [(v.provider, v.id) for v in self.idle(span, provider)]
        return self.teardown_targets(targets, reason=f"bulk teardown: idle for at least {span}")

    def set_autostop(self, name: str, idle: timedelta | str | None, provider: str | None = None) -> tuple[str, str]:
        """Tear the endpoint down after `idle` unused (None: never automatically); returns (provider, id)."""
        provider_name, endpoint_id = self.resolve(name, provider)
        span = parse_duration(idle) if isinstance(idle, str) else idle
        self.ws.store.set_idle_teardown(provider_name, endpoint_id, span.total_seconds() if span else None)
        return provider_name, endpoint_id

    def auto_teardown_round(self) -> list[TeardownResult]:
        """The monitor's tick: notice new endpoints every few minutes, then tear down those idle too long."""
        now = time.monotonic()
        if now - self._last_refresh >= REFRESH_EVERY_S:
            self._last_refresh = now
            self.inventory()
        results = auto_teardown_idle(self.ws.store, self.ws.listing_provider)
        for result in results:
            self.ws.publish(EndpointTornDown(result))
        if results:
            self.ws.publish(AutoTeardownDone(tuple(results)))
        return results
