"""The workspace's provider adapters: built once per name, safely from many threads, and closed together.

Building an adapter can be slow (the local backend may be started, Pulumi stack outputs read), so the
monitor asks with `get_if_ready`, which starts the build on its own thread and answers None until it is
done: the poll loop never waits on a start-up. A build that fails is remembered (`failure`) and tried again
after `RETRY_BUILD_S`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tunedeck.errors import TunedeckError

if TYPE_CHECKING:
    from providers.base import Provider

log = logging.getLogger(__name__)

ProviderFactory = Callable[[str, bool], "Provider"]
"""(name, listing) → adapter. `listing` asks for one that only looks: it must never start a local backend."""
RETRY_BUILD_S = 30.0


@dataclass(frozen=True)
class BuildFailure:
    error: TunedeckError
    at: float


class ProviderPool:
    def __init__(self, factory: ProviderFactory, clock: Callable[[], float] = time.monotonic) -> None:
        self._factory = factory
        self._clock = clock
        self._lock = threading.Lock()
        self._name_locks: dict[tuple[str, bool], threading.Lock] = {}
        self._built: dict[tuple[str, bool], Provider] = {}
        self._failures: dict[tuple[str, bool], BuildFailure] = {}
        self._building: set[tuple[str, bool]] = set()
        self._closed = False

    def _name_lock(self, key: tuple[str, bool]) -> threading.Lock:
        with self._lock:
            return self._name_locks.setdefault(key, threading.Lock())

    def get(self, name: str, *, listing: bool = False) -> Provider:
        """The adapter for `name`, built on first use (blocking); raises the build's TunedeckError."""
        key = (name, listing)
        with self._lock:
            if key in self._built:
                return self._built[key]
        with self._name_lock(key):  # one build per name, even when two threads ask at once
            with self._lock:
                if key in self._built:
                    return self._built[key]
                if self._closed:
                    raise TunedeckError("The workspace is closed.", "Open a new one.")
            try:
                provider = self._factory(name, listing)
            except TunedeckError as exc:
                with self._lock:
                    self._failures[key] = BuildFailure(exc, self._clock())
                raise
            with self._lock:
                if self._closed:
                    _close(provider)
                    raise TunedeckError("The workspace is closed.", "Open a new one.")
                self._built[key] = provider
                self._failures.pop(key, None)
            return provider

    def get_if_ready(self, name: str, *, listing: bool = False) -> Provider | None:
        """The adapter if built; else start building it in the background and answer None (never blocks)."""
        key = (name, listing)
        with self._lock:
            if key in self._built:
                return self._built[key]
            failure = self._failures.get(key)
            if self._closed or key in self._building:
                return None
            if failure is not None and self._clock() - failure.at < RETRY_BUILD_S:
                return None
            self._building.add(key)

        def build() -> None:
            try:
                self.get(name, listing=listing)
            except TunedeckError:
                pass  # kept in _failures for `failure()`
            except Exception:
                log.exception("building the %s adapter failed", name)
            finally:
                with self._lock:
                    self._building.discard(key)

        # A daemon thread: a start-up still running at close is abandoned, and its adapter closed when it lands.
        threading.Thread(target=build, name=f"build-{name}", daemon=True).start()
        return None

    def failure(self, name: str, *, listing: bool = False) -> TunedeckError | None:
        with self._lock:
            failure = self._failures.get((name, listing))
        return failure.error if failure else None

    def built(self) -> list[Provider]:
        with self._lock:
            return list(self._built.values())

    def close(self) -> None:
        """Close every adapter; builds still running close theirs when they finish."""
        with self._lock:
            self._closed = True
            providers = list(self._built.values())
            self._built.clear()
        for provider in providers:
            _close(provider)


def _close(provider: Provider) -> None:
    try:
        provider.close()
    except Exception:
        log.warning("closing the %s adapter failed", getattr(provider, "name", "?"), exc_info=True)
