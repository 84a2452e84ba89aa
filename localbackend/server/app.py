"""The app factory: `create_app(ServerConfig)` wires the routers, error JSON, guards and the job runner.

Importing this module must stay cheap: torch arrives only with the first chat request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from localbackend.db import Database
from localbackend.device import ThreadBudget
from localbackend.jobs import JobRunner
from localbackend.registry import ModelRegistry
from localbackend.server import chat, files, fine_tuning, loaded, messages, models
from localbackend.server.activity import Activity, ActivityTracker, exit_when_idle
from localbackend.server.edge import EdgeRoute
from localbackend.server.errors import SafeJSONResponse, install_error_handlers
from localbackend.server.guards import AuthGuard, SizeGuard
from localbackend.server.openapi import install_openapi
from localbackend.server.state import ServerConfig, Services

log = logging.getLogger("localbackend.server")


async def _unload_idle_forever(svc: Services, idle_s: float) -> None:
    # Check a few times per idle period so a model never outstays its welcome by much.
    period = max(0.5, min(idle_s / 4, 30.0))
    while True:
        await asyncio.sleep(period)
        engine = svc.engine_if_started()
        if engine is None:
            continue
        try:
            names = await run_in_threadpool(engine.unload_idle, idle_s)
        except Exception:
            log.exception("idle unload failed")
            continue
        if names:
            log.info("unloaded idle models: %s", ", ".join(names))


def _interrupt_self() -> None:
    # What Ctrl-C does: uvicorn shuts down gracefully and `tunedeck serve` removes its server.json.
    os.kill(os.getpid(), signal.SIGINT)


def create_app(
    config: ServerConfig, *, engine: Any = None, on_idle_exit: Callable[[], None] = _interrupt_self
) -> FastAPI:
    """A ready-to-serve app. `engine` replaces the real ChatEngine (tests of the HTTP layer alone);
    `on_idle_exit` is how the app stops its server after `config.idle_exit_s` idle (a signal to itself)."""
    activity = Activity()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(config.db_path)
        registry = ModelRegistry(db, started_at=int(time.time()))
        runner = JobRunner(
            db, registry, config.jobs_dir, config.cache_dir, max_jobs=config.max_jobs, train_fn=config.train_fn,
            budget=ThreadBudget(config.cpu_threads),
        )  # fmt: skip
        svc = Services(config, db, registry, runner, engine=engine)
        app.state.services = svc
        activity.set_generation_hook(svc.on_generation)
        runner.start()
        tasks = []
        if config.idle_unload_s:
            tasks.append(asyncio.create_task(_unload_idle_forever(svc, config.idle_unload_s)))
        if config.idle_exit_s:
            activity.touch()
            tasks.append(asyncio.create_task(exit_when_idle(svc, activity, config.idle_exit_s, on_idle_exit)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await run_in_threadpool(runner.shutdown)
            db.close()

    app = FastAPI(
        title="tunedeck local backend",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        default_response_class=SafeJSONResponse,
    )
    app.router.route_class = EdgeRoute
    install_error_handlers(app)
    for module in (files, fine_tuning, models, chat, messages, loaded):
        app.include_router(module.router)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    install_openapi(app)

    # Innermost first: only requests that passed the guards count as activity; the size limit applies before
    # auth so an unauthenticated flood is cut short too.
    app.add_middleware(ActivityTracker, activity=activity)
    app.add_middleware(AuthGuard, api_key=config.api_key)
    app.add_middleware(SizeGuard, max_body_bytes=config.max_body_bytes, max_upload_bytes=config.max_upload_bytes)
    return app
