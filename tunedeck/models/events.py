"""Events about tuned models, in the vocabulary of `tunedeck.events` (small frozen dataclasses, past tense)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelDeployed:
    """A deployment finished: `deployment` is its `tunedeck.store.deployments.DeploymentRecord`."""

    deployment: Any


@dataclass(frozen=True)
class DeploymentFailed:
    """A deployment stopped part-way; what it created is recorded (see `deployment.resources`)."""

    deployment: Any
    error: str


@dataclass(frozen=True)
class ModelDeleted:
    provider: str
    model: str
    note: str = ""
