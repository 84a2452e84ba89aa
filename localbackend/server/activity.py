"""What keeps the server busy, and stopping it when nothing has for a while (`tunedeck serve --idle-exit`).

`Activity` counts requests in flight and remembers when the last one ended; `ActivityTracker` (pure ASGI, so
a streamed answer counts until its last byte) feeds it. `exit_when_idle` stops a server that has had no job,
no loaded model and no request for `idle_s` seconds: an autostarted backend left running for a job (issue 14)
goes away on its own once the job is done. Liveness probes (`/health`) are not activity: whoever only checks
that the server is up should not keep it up.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from localbackend.server.state import Services

log = logging.getLogger("localbackend.server")

PASSIVE_PATHS = frozenset({"/health"})
GENERATION_PATHS = frozenset({"/v1/chat/completions", "/v1/messages"})


class Activity:
    """Thread-safe counters of what the server is doing right now."""

    def __init__(self, on_generation: Callable[[bool], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0
        self._generating = 0
        self._last = time.monotonic()
        self._on_generation = on_generation

    def set_generation_hook(self, hook: Callable[[bool], None] | None) -> None:
        """`hook(True)` when the first chat request starts, `hook(False)` when the last one ends."""
        self._on_generation = hook

    def touch(self) -> None:
        """Count from now (the server starts serving): start-up time is not idle time."""
        with self._lock:
            self._last = time.monotonic()

    def begin(self, generation: bool) -> None:
        with self._lock:
            self._in_flight += 1
            self._generating += generation
            first = generation and self._generating == 1
        if first and self._on_generation is not None:
            self._on_generation(True)

    def end(self, generation: bool) -> None:
        with self._lock:
            self._in_flight -= 1
            self._generating -= generation
            self._last = time.monotonic()
            last = generation and self._generating == 0
        if last and self._on_generation is not None:
            self._on_generation(False)

    def idle_for(self) -> float:
        """Seconds since the last request ended; 0 while one is in flight."""
        with self._lock:
            return 0.0 if self._in_flight else time.monotonic() - self._last


class ActivityTracker:
    def __init__(self, app: ASGIApp, activity: Activity) -> None:
        self.app = app
        self.activity = activity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in PASSIVE_PATHS:
            await self.app(scope, receive, send)
            return
        generation = path.rstrip("/") in GENERATION_PATHS
        self.activity.begin(generation)
        try:
            await self.app(scope, receive, send)
        finally:
            self.activity.end(generation)


def _is_idle(svc: Services, activity: Activity, idle_s: float) -> bool:
    if activity.idle_for() < idle_s or svc.runner.running_jobs():
        return False
    waiting = svc.db.query("SELECT id FROM jobs WHERE status IN ('validating_files', 'queued', 'running') LIMIT 1")
    if waiting:
        return False
    engine = svc.engine_if_started()
    if engine is None:
        return True
    engine.unload_idle(idle_s)  # no request for idle_s means no model was used for that long either
    return not engine.loaded()


async def exit_when_idle(svc: Services, activity: Activity, idle_s: float, stop: Callable[[], None]) -> None:
    # A few checks per idle period, so the server outstays it by a quarter at most (30 s for long periods).
    period = max(0.2, min(idle_s / 4, 30.0))
    while True:
        await asyncio.sleep(period)
        try:
            idle = await run_in_threadpool(_is_idle, svc, activity, idle_s)
        except Exception:
            log.exception("idle check failed")
            continue
        if idle:
            log.warning("tunedeck serve: no job, loaded model or request for %g s; stopping (--idle-exit).", idle_s)
            stop()
            return
