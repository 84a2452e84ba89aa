"""`Store`: the one object the CLI, the TUI, the monitor and infra use to read and record tunedeck's state."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tunedeck.store.datasets import DatasetStore
from tunedeck.store.db import DB_NAME, Database
from tunedeck.store.deployments import DeploymentStore
from tunedeck.store.endpoints import EndpointStore
from tunedeck.store.evals import EvalStore
from tunedeck.store.jobs import JobStore
from tunedeck.store.preferences import PreferenceStore
from tunedeck.store.stacks import StackStore

if TYPE_CHECKING:
    from tunedeck.settings import Settings


class Store(StackStore, DatasetStore, JobStore, EndpointStore, DeploymentStore, EvalStore, PreferenceStore):
    """Thread-safe; open once per process with `Store.open(settings)` and pass it down."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    def open(cls, settings: Settings) -> Store:
        return cls(Database(settings.data_dir / DB_NAME))

    @classmethod
    def open_path(cls, path: Path) -> Store:
        return cls(Database(path))

    @property
    def path(self) -> Path:
        return self.db.path

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
