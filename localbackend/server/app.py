"""The app factory: `create_app(ServerConfig)` wires the routers, error JSON, guards and the job runner.

Importing this module must stay cheap: torch arrives only with the first chat request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from localbackend.db import Database
from localbackend.jobs import JobRunner
from localbackend.registry import ModelRegistry
from localbackend.server import chat, files, fine_tuning, loaded, messages, models
from localbackend.server.edge import EdgeRoute
from localbackend.server.errors import SafeJSONResponse, install_error_handlers
from localbackend.server.guards import AuthGuard, SizeGuard
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


def create_app(config: ServerConfig, *, engine: Any = None) -> FastAPI:
    """A ready-to-serve app. `engine` replaces the real ChatEngine (tests of the HTTP layer alone)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(config.db_path)
        registry = ModelRegistry(db, started_at=int(time.time()))
        runner = JobRunner(
            db, registry, config.jobs_dir, config.cache_dir, max_jobs=config.max_jobs, train_fn=config.train_fn
        )
        svc = Services(config, db, registry, runner, engine=engine)
        app.state.services = svc
        runner.start()
        idle_task = (
            asyncio.create_task(_unload_idle_forever(svc, config.idle_unload_s)) if config.idle_unload_s else None
        )
        try:
            yield
        finally:
            if idle_task is not None:
                idle_task.cancel()
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

    # Outermost first: the size limit applies before auth so an unauthenticated flood is cut short too.
    app.add_middleware(AuthGuard, api_key=config.api_key)
    app.add_middleware(SizeGuard, max_body_bytes=config.max_body_bytes, max_upload_bytes=config.max_upload_bytes)
    return app
