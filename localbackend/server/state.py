"""What the routes share: configuration, the database, the model registry, the job runner and the chat engine."""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request

from localbackend.db import Database
from localbackend.device import PASSIVE_WAIT_ENV
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
    idle_exit_s: float | None = None
    """Stop the server after this long with no job, loaded model or request (autostarted servers set it)."""
    max_jobs: int = 1
    max_upload_bytes: int = 512 * MiB
    max_body_bytes: int = 8 * MiB
    train_fn: str = DEFAULT_TRAIN_FN
    cpu_threads: int | None = None
    """Cores the server shares out among training jobs and generation (None: all this process may use)."""

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
        self.budget = runner.budget
        self._engine: ChatEngine | None = engine
        self._engine_lock = threading.Lock()
        self._generation_threads = 0

    def engine(self) -> ChatEngine:
        with self._engine_lock:
            if self._engine is None:
                for name, value in PASSIVE_WAIT_ENV.items():  # before torch loads, or OpenMP never reads it
                    os.environ.setdefault(name, value)
                from localbackend.engine import ChatEngine  # deferred: torch is imported on first chat

                self._engine = ChatEngine(self.config.cache_dir)
                self._set_generation_threads(self._generation_threads)
            return self._engine

    def on_generation(self, active: bool) -> None:
        """Chat requests take a share of the cores from the training jobs while any is in flight."""
        if active:
            self.budget.join("generation", self._set_generation_threads)
        else:
            self.budget.leave("generation")

    def _set_generation_threads(self, threads: int) -> None:
        # torch's thread count is process-wide, and each generation thread picks it up when it starts; set only
        # once torch is loaded (never imported here just for this).
        self._generation_threads = threads
        torch = sys.modules.get("torch")
        if torch is not None and threads > 0:
            torch.set_num_threads(threads)

    def engine_if_started(self) -> ChatEngine | None:
        return self._engine


def services(request: Request) -> Services:
    return request.app.state.services


Svc = Annotated[Services, Depends(services)]
