"""`Workspace`: the one core every front end stands on.

It wires settings, the store, the provider adapters and the event bus once, and offers every user action as
one method, grouped by what it acts on: `ws.data`, `ws.jobs`, `ws.endpoints`, `ws.models`, `ws.stacks`,
`ws.profiles`, `ws.evals`, `ws.migrate`,
plus `ws.chat`/`ws.reply` for talking to any model. A front end parses input, calls one method, renders the
result, and follows long work through the events it subscribes to (`subscribe`, `stream`).

Thread-safe: the TUI calls it from worker threads while its monitor thread polls. `close()` stops the
monitor, closes every adapter and the store.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from tunedeck.errors import UsageError
from tunedeck.events import EndpointUsed, EventBus, EventStream, MonitorStopped, Predicate, Subscriber
from tunedeck.jobs.backoff import BackoffPolicy
from tunedeck.provider_pool import ProviderPool
from tunedeck.store import Store

if TYPE_CHECKING:
    from providers.base import ChatChunk, ChatMessage, Provider
    from tunedeck.chat import ChatReply, OnText
    from tunedeck.jobs.monitor import Monitor
    from tunedeck.settings import Settings
    from tunedeck.store.preferences import Candidate, Preference

ProviderFactory = Callable[[str], "Provider"]
"""Injected by tests (a fake or a loopback-pointed adapter per name); by default adapters come from the registry."""


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


class Workspace:
    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        provider_factory: ProviderFactory | None = None,
        *,
        bus: EventBus | None = None,
        policy: BackoffPolicy | None = None,
    ) -> None:
        from tunedeck.data.actions import DataActions
        from tunedeck.endpoints.actions import EndpointActions
        from tunedeck.evaluation import EvalActions
        from tunedeck.jobs.actions import JobActions
        from tunedeck.migration import MigrationActions
        from tunedeck.models import ModelActions
        from tunedeck.profiles.actions import ProfileActions
        from tunedeck.stacks import StackActions

        self.settings = settings
        self._store = store
        self._store_lock = threading.Lock()
        self.provider_factory = provider_factory
        self.bus = bus or EventBus()
        self.policy = policy or policy_from_config(settings)
        self._pool = ProviderPool(self._build_provider)
        self._monitor: Monitor | None = None
        self._monitor_lock = threading.Lock()
        self._monitor_thread: threading.Thread | None = None
        self._monitor_stop = threading.Event()
        self.data = DataActions(self)
        self.jobs = JobActions(self)
        self.endpoints = EndpointActions(self)
        self.stacks = StackActions(self)
        self.profiles = ProfileActions(self)
        self.models = ModelActions(self)
        self.evals = EvalActions(self)
        self.migrate = MigrationActions(self)

    @classmethod
    def open(cls, settings: Settings | None = None, provider_factory: ProviderFactory | None = None) -> Workspace:
        from tunedeck.settings import load_settings

        return cls(settings or load_settings(), None, provider_factory)

    @property
    def store(self) -> Store:
        """The SQLite store, opened on first use: the data toolkit never needs it, and a damaged store should
        not stop `data validate`."""
        with self._store_lock:
            if self._store is None:
                self._store = Store.open(self.settings)
            return self._store

    # -- events -----------------------------------------------------------------------------------------

    def publish(self, event: Any) -> None:
        self.bus.publish(event)

    def subscribe(self, callback: Subscriber, accepts: Predicate | None = None) -> Callable[[], None]:
        """Thread-safe callback per event (on the publishing thread); returns the unsubscribe function."""
        return self.bus.subscribe(callback, accepts)

    def stream(self, accepts: Predicate | None = None) -> EventStream:
        """The same events as an async iterator on the running loop (subscribed as soon as it is made)."""
        return self.bus.stream(accepts)

    # -- providers --------------------------------------------------------------------------------------

    def _build_provider(self, name: str, listing: bool) -> Provider:
        if self.provider_factory is not None:
            return self.provider_factory(name)
        self.require_known_provider(name)
        from providers.registry import get_provider  # deferred: adapters pull in their SDKs lazily anyway

        overrides: dict[str, Any] = {}
        if name == "local" and listing:
            overrides["autostart"] = False  # looking must never start a backend (nor load a model)
        if name == "vertex":
            overrides.update(self.stacks.vertex_overrides())
        return get_provider(name, self.settings, **overrides)

    def provider(self, name: str) -> Provider:
        """The adapter for `name` (built once; may start the local backend)."""
        return self._pool.get(name)

    def listing_provider(self, name: str) -> Provider:
        """An adapter for looking only: listing endpoints must never start the local backend."""
        if self.provider_factory is not None or name != "local":
            return self._pool.get(name)
        return self._pool.get(name, listing=True)

    def setup_problem(self, name: str) -> str | None:
        """Why `name` cannot be used as configured now (no key, no Vertex project), or None; asks no service."""
        from providers.errors import ConfigurationError
        from providers.registry import setup_problem

        try:
            overrides = self.stacks.vertex_overrides() if name == "vertex" else {}
        except ConfigurationError as exc:
            return f"not configured: {exc.title}"
        return setup_problem(name, self.settings, **overrides)

    @staticmethod
    def known_providers() -> list[str]:
        from providers.registry import available_providers

        return available_providers()

    def require_known_provider(self, name: str) -> None:
        if name not in self.known_providers():
            raise UsageError(f"Unknown provider {name!r}.", f"Choose one of: {', '.join(self.known_providers())}.")

    def _monitor_lookup(self, name: str) -> Provider | None:
        provider = self._pool.get_if_ready(name)
        if provider is None and (failure := self._pool.failure(name)) is not None:
            raise failure
        return provider

    # -- the monitor ------------------------------------------------------------------------------------

    @property
    def monitor(self) -> Monitor:
        """The workspace's one monitor (made on first use; `start()` runs it on a thread)."""
        with self._monitor_lock:
            if self._monitor is None:
                from tunedeck.jobs.monitor import Monitor

                self._monitor = Monitor(
                    self.store,
                    self._monitor_lookup,
                    publish=self.publish,
                    policy=self.policy,
                    settings=self.settings,
                    on_tick=self.endpoints.auto_teardown_round,
                )
            return self._monitor

    def start(self, *, idle_wait_s: float = 5.0) -> None:
        """Run the monitor on a background thread until `stop()` or `close()`. Idempotent."""
        monitor = self.monitor
        with self._monitor_lock:
            if self._monitor_thread is not None and self._monitor_thread.is_alive():
                return
            self._monitor_stop.clear()

            def run() -> None:
                # A crash is already logged and published as MonitorStopped by the monitor itself.
                with contextlib.suppress(Exception):
                    monitor.run(self._monitor_stop, idle_wait_s=idle_wait_s)

            self._monitor_thread = threading.Thread(target=run, name="tunedeck-monitor", daemon=True)
            self._monitor_thread.start()

    @property
    def monitoring(self) -> bool:
        return self._monitor_thread is not None and self._monitor_thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        thread = self._monitor_thread
        self._monitor_stop.set()
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                self.publish(MonitorStopped("timeout", f"the poll loop did not end within {timeout:.0f} s"))
        self._monitor_thread = None

    def close(self) -> None:
        """Stop the monitor, close every adapter, then the store. Safe to call twice."""
        self.stop()
        self._pool.close()
        with self._store_lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- chat -------------------------------------------------------------------------------------------

    def chat(
        self,
        provider: str,
        model: str,
        messages: list[ChatMessage],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> Iterator[ChatChunk]:
        """Stream a reply. Endpoints serving `model` count as used at the first token and again at the end (or
        when the caller stops early), so idle teardown never removes an endpoint while it answers."""
        adapter = self.provider(provider)
        started = False
        try:
            for chunk in adapter.chat(model, messages, max_tokens=max_tokens, temperature=temperature):
                if not started:
                    started = True
                    self._record_use(provider, model)
                yield chunk
        finally:
            if started:
                self._record_use(provider, model)

    def _record_use(self, provider: str, model: str) -> None:
        self.store.touch_endpoints_serving(provider, model)
        self.publish(EndpointUsed(provider, model))

    def reply(
        self,
        provider: str,
        model: str,
        messages: list[ChatMessage],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        on_text: OnText | None = None,
    ) -> ChatReply:
        """One whole reply with its latency and usage; `on_text` streams the pieces as they come."""
        from tunedeck.chat import collect_reply

        chunks = self.chat(provider, model, messages, max_tokens=max_tokens, temperature=temperature)
        return collect_reply(provider, model, chunks, on_text)

    # -- preferences ------------------------------------------------------------------------------------

    def prefer(
        self, prompt: str, candidates: list[Candidate], preferred: int | None, source: str | None = None
    ) -> Preference:
        """Record which answer to `prompt` a person found better (`preferred` indexes `candidates`; None: a tie)."""
        if len(candidates) < 2:
            raise UsageError("A preference compares at least two answers.", "Give two or three candidates.")
        if preferred is not None and not 0 <= preferred < len(candidates):
            raise UsageError(f"No answer number {preferred + 1} to prefer.", f"Choose 1 to {len(candidates)}.")
        return self.store.record_preference(prompt, candidates, preferred, source)

    def preferences(self, limit: int | None = None) -> list[Preference]:
        """The recorded marks, newest first."""
        return self.store.list_preferences(limit)

    def guess_provider(self, model: str) -> str | None:
        """The provider of a model tunedeck made, else one implied by the name; None when it cannot tell."""
        from tunedeck.evaluation.targets import infer_provider

        return infer_provider(self.store, model)

    def resolve_provider(self, model: str, provider: str | None) -> str:
        """`provider` when given (checked), else the one `guess_provider` finds; a usage error when unknown."""
        if provider is not None:
            self.require_known_provider(provider)
            return provider
        guessed = self.guess_provider(model)
        if guessed is None:
            raise UsageError(
                f"Cannot tell which provider serves {model!r}.", "Add --provider (openai, vertex, local, …)."
            )
        return guessed
