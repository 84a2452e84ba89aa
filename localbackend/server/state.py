"""What the routes share: configuration, the database, the model registry, the job runner and the chat engine."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request

from localbackend.db import Database
from localbackend.jobs import JobRunner
from localbackend.registry import ModelRegistry
from localbackend.worker import DEFAULT_TRAIN_FN

if TYPE_CHECKING:
    from localbackend.engine import ChatEngine

MiB = 1024 * 1024


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    cache_dir: Path
    api_key: str | None = field(default=None, repr=False)
    """Required as a bearer token when set. Kept out of repr so it never reaches a log line."""
    idle_unload_s: float | None = None
    max_jobs: int = 1
    max_upload_bytes: int = 512 * MiB
    max_body_bytes: int = 8 * MiB
    train_fn: str = DEFAULT_TRAIN_FN

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "backend.sqlite3"


class Services:
    """Built once per app in its lifespan; the engine is created on the first chat request (it imports torch)."""

    def __init__(
        self, config: ServerConfig, db: Database, registry: ModelRegistry, runner: JobRunner, engine: Any = None
    ) -> None:
        self.config = config
        self.db = db
        self.registry = registry
        self.runner = runner
        self._engine: ChatEngine | None = engine
        self._engine_lock = threading.Lock()

    def engine(self) -> ChatEngine:
        with self._engine_lock:
            if self._engine is None:
                from localbackend.engine import ChatEngine  # deferred: torch is imported on first chat

                self._engine = ChatEngine(self.config.cache_dir)
            return self._engine

    def engine_if_started(self) -> ChatEngine | None:
        return self._engine


def services(request: Request) -> Services:
    return request.app.state.services


Svc = Annotated[Services, Depends(services)]
