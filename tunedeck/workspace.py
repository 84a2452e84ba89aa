"""`Workspace`: settings, the store and provider adapters wired once, so the CLI and the TUI share one core."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tunedeck.errors import TunedeckError, UsageError
from tunedeck.events import EventBus
from tunedeck.jobs.backoff import BackoffPolicy
from tunedeck.jobs.monitor import Monitor
from tunedeck.jobs.submit import ReconcileResult, reconcile, stale_intent_after
from tunedeck.store import Store

if TYPE_CHECKING:
    from providers.base import ChatChunk, ChatMessage, Provider
    from tunedeck.endpoints.teardown import Inventory
    from tunedeck.settings import Settings

ProviderFactory = Callable[[str], "Provider"]
ENDPOINT_REFRESH_S = 300.0
"""How often the monitor re-lists endpoints, to notice new deployments and uses made outside tunedeck."""


def policy_from_config(settings: Settings) -> BackoffPolicy:
    """`[monitor] interval_s`, `max_interval_s`: how often unfinished jobs are asked about."""
    section = settings.section("monitor")
    default = BackoffPolicy()
    return BackoffPolicy(
        base_s=_seconds(section, "interval_s", default.base_s),
        max_s=_seconds(section, "max_interval_s", default.max_s),
    )


def _seconds(section: dict[str, Any], key: str, default: float) -> float:
    value = section.get(key, default)
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise UsageError(
            f"[monitor] {key} in config.toml is not a number of seconds ({value!r}).", f"e.g. {key} = {default:g}"
        ) from exc


@dataclass
class Workspace:
    settings: Settings
    store: Store
    provider_factory: ProviderFactory | None = None
    """Injected by tests and the TUI; by default adapters come from `providers.registry`."""
    bus: EventBus = field(default_factory=EventBus)
    """The one event stream every front end subscribes to (`subscribe`, `stream`)."""
    _providers: dict[str, Provider] = field(default_factory=dict)
    _last_refresh: float = float("-inf")

    def publish(self, event: Any) -> None:
        self.bus.publish(event)

    @classmethod
    def open(cls, settings: Settings | None = None, provider_factory: ProviderFactory | None = None) -> Workspace:
        from tunedeck.settings import load_settings

        settings = settings or load_settings()
        return cls(settings, Store.open(settings), provider_factory)

    def provider(self, name: str) -> Provider:
        if name not in self._providers:
            if self.provider_factory is not None:
                self._providers[name] = self.provider_factory(name)
            else:
                from providers.registry import get_provider  # deferred: adapters pull in their SDKs lazily anyway

                self._providers[name] = get_provider(name, self.settings)
        return self._providers[name]

    def listing_provider(self, name: str) -> Provider:
        """An adapter for looking only: listing endpoints must never start the local backend."""
        if self.provider_factory is not None or name != "local":
            return self.provider(name)
        from providers.registry import get_provider

        return get_provider(name, self.settings, autostart=False)

    def monitor(self, policy: BackoffPolicy | None = None) -> Monitor:
        """A monitor that also runs each endpoint's idle auto-teardown on every round of `run()`."""
        return Monitor(
            self.store,
            self.provider,
            policy=policy or policy_from_config(self.settings),
            settings=self.settings,
            on_tick=self.auto_teardown_idle,
        )

    def auto_teardown_idle(self) -> None:
        """The monitor's tick: notice new endpoints every few minutes, then tear down those idle too long."""
        from tunedeck.endpoints.teardown import auto_teardown_idle

        now = time.monotonic()
        if now - self._last_refresh >= ENDPOINT_REFRESH_S:
            self._last_refresh = now
            self.refresh_endpoints()
        auto_teardown_idle(self.store, self.listing_provider)

    def endpoint_providers(self) -> list[str]:
        """Providers that may hold hourly-billed things: local, Vertex when configured, and any recorded."""
        names = {"local", *(r.provider for r in self.store.list_endpoints())}
        if self.settings.section("vertex") or self.settings.section("infra").get("stack"):
            names.add("vertex")
        return sorted(names)

    def default_idle_teardown_s(self) -> float | None:
        """`[endpoints] idle_teardown = "30m"`: the auto-teardown limit for endpoints seen for the first time."""
        from tunedeck.endpoints.teardown import parse_duration

        value = self.settings.section("endpoints").get("idle_teardown")
        return parse_duration(str(value)).total_seconds() if value else None

    def refresh_endpoints(self, only: str | None = None) -> Inventory:
        """List every provider's endpoints (never starting the local backend); record ours."""
        from tunedeck.endpoints.teardown import refresh_endpoints

        providers, errors = [], {}
        for name in [only] if only else self.endpoint_providers():
            try:
                providers.append(self.listing_provider(name))
            except TunedeckError as exc:  # not set up here: reported, never fatal to the listing
                errors[name] = exc.title
        found = refresh_endpoints(
            self.store, providers, gone_when_unreachable={"local"}, default_idle_s=self.default_idle_teardown_s()
        )
        found.errors.update(errors)
        return found

    def reconcile(self) -> list[ReconcileResult]:
        """Settle submissions a crash left as intents; asks only providers that have one."""
        return reconcile(self.store, self.provider, stale_after=stale_intent_after(self.settings.config))

    def close(self) -> None:
        self.store.close()

    def chat(
        self,
        provider: str,
        model: str,
        messages: list[ChatMessage],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> Iterator[ChatChunk]:
        """Stream a reply, and mark endpoints serving `model` as used so idle teardown leaves them be."""
        from tunedeck.endpoints.teardown import record_use

        yield from self.provider(provider).chat(model, messages, max_tokens=max_tokens, temperature=temperature)
        record_use(self.store, provider, model)

    def guess_provider(self, model: str) -> str | None:
        """The provider of a model tunedeck made, else one implied by the name; None when it cannot tell."""
        for record in self.store.list_models():
            if record.name == model:
                return record.provider
        for endpoint in self.store.list_endpoints():
            if model in (endpoint.model, endpoint.id, endpoint.display_name):
                return endpoint.provider
        name = model.removeprefix("ft:")
        for prefix, provider in _NAME_PREFIXES:
            if name.startswith(prefix):
                return provider
        return None


_NAME_PREFIXES = (
    ("claude", "anthropic"),
    ("gemini", "vertex"),
    ("projects/", "vertex"),
    ("gpt-", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("SmolLM", "local"),
)
