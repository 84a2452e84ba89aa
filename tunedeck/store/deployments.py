"""Deployments (`endpoints deploy`): recorded before the first remote call, each created resource appended the
moment the provider reports it, so nothing a half-finished deployment made is ever unknown to teardown."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import orjson

from providers.base import Deployment, DeploymentPlan
from tunedeck.store.db import Database
from tunedeck.store.records import stored_time, to_iso, utcnow


class DeploymentState(StrEnum):
    DEPLOYING = "deploying"
    """Recorded, remote calls maybe under way (or interrupted): its resources may exist."""
    DEPLOYED = "deployed"
    FAILED = "failed"
    """The provider refused or failed part-way; `resources` lists what exists and teardown removes it."""
    TORN_DOWN = "torn-down"


@dataclass(frozen=True)
class DeploymentRecord:
    id: str
    """The deploy key: what the provider named the resources after."""
    provider: str
    model: str
    state: DeploymentState
    created_at: datetime
    updated_at: datetime
    base_model: str = ""
    endpoint_id: str | None = None
    deployed_model_id: str | None = None
    serving_model: str | None = None
    machine_type: str = ""
    accelerator_type: str = ""
    accelerator_count: int = 0
    min_replicas: int = 1
    max_replicas: int = 1
    hourly_rate_usd: float | None = None
    resources: list[tuple[str, str]] = field(default_factory=list)
    """(kind, name) of everything the deployment created, in order."""
    error: str | None = None

    @property
    def hardware(self) -> str:
        if self.accelerator_count:
            return f"{self.machine_type} + {self.accelerator_count}× {self.accelerator_type}"
        return self.machine_type

    @property
    def live(self) -> bool:
        return self.state is not DeploymentState.TORN_DOWN


class DeploymentStore:
    db: Database

    def start_deployment(self, plan: DeploymentPlan) -> DeploymentRecord:
        """Record the deployment (state deploying) before anything is created; again for the same key resumes."""
        now = to_iso(utcnow())
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO deployments (id, provider, model, base_model, state, endpoint_id, machine_type,"
                " accelerator_type, accelerator_count, min_replicas, max_replicas, hourly_rate_usd, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                " state = excluded.state, error = NULL, updated_at = excluded.updated_at",
                (
                    plan.deploy_key, plan.provider, plan.model, plan.base_model, DeploymentState.DEPLOYING.value,
                    plan.endpoint, plan.machine_type, plan.accelerator_type, plan.accelerator_count,
                    plan.min_replicas, plan.max_replicas, plan.hourly_rate_usd, now, now,
                ),
            )  # fmt: skip
        return self.require_deployment(plan.deploy_key)

    def add_deployment_resource(self, deploy_key: str, kind: str, name: str) -> None:
        with self.db.transaction() as conn:
            row = conn.execute("SELECT resources_json FROM deployments WHERE id = ?", (deploy_key,)).fetchone()
            resources = [tuple(r) for r in orjson.loads(row["resources_json"])] if row else []
            if (kind, name) not in resources:
                resources.append((kind, name))
            column = {"endpoint": "endpoint_id", "model": "serving_model"}.get(kind)
            extra = f", {column} = ?" if column else ""
            conn.execute(
                f"UPDATE deployments SET resources_json = ?, updated_at = ?{extra} WHERE id = ?",
                (orjson.dumps(resources).decode(), to_iso(utcnow()), *([name] if column else []), deploy_key),
            )

    def finish_deployment(self, deployment: Deployment) -> DeploymentRecord:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE deployments SET state = ?, endpoint_id = ?, deployed_model_id = ?,"
                " serving_model = COALESCE(NULLIF(?, ''), serving_model), error = NULL, updated_at = ? WHERE id = ?",
                (
                    DeploymentState.DEPLOYED.value, deployment.endpoint_id, deployment.deployed_model_id,
                    deployment.serving_model, to_iso(utcnow()), deployment.plan.deploy_key,
                ),
            )  # fmt: skip
        for resource in deployment.created:
            self.add_deployment_resource(deployment.plan.deploy_key, resource.kind, resource.name)
        return self.require_deployment(deployment.plan.deploy_key)

    def set_deployment_state(self, deploy_key: str, state: DeploymentState, error: str | None = None) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE deployments SET state = ?, error = ?, updated_at = ? WHERE id = ?",
                (state.value, error, to_iso(utcnow()), deploy_key),
            )

    def get_deployment(self, deploy_key: str) -> DeploymentRecord | None:
        row = self.db.query_one("SELECT * FROM deployments WHERE id = ?", (deploy_key,))
        return _deployment(row) if row else None

    def require_deployment(self, deploy_key: str) -> DeploymentRecord:
        found = self.get_deployment(deploy_key)
        assert found is not None, deploy_key
        return found

    def list_deployments(
        self,
        *,
        provider: str | None = None,
        model: str | None = None,
        endpoint_id: str | None = None,
        include_torn_down: bool = False,
    ) -> list[DeploymentRecord]:
        sql = (
            "SELECT * FROM deployments WHERE (? IS NULL OR provider = ?) AND (? IS NULL OR model = ?)"
            " AND (? IS NULL OR endpoint_id = ?)"
        )
        if not include_torn_down:
            sql += " AND state != 'torn-down'"
        rows = self.db.query(sql + " ORDER BY created_at", (provider, provider, model, model, endpoint_id, endpoint_id))
        return [_deployment(r) for r in rows]


def _deployment(row: sqlite3.Row) -> DeploymentRecord:
    return DeploymentRecord(
        id=row["id"],
        provider=row["provider"],
        model=row["model"],
        state=DeploymentState(row["state"]),
        created_at=stored_time(row["created_at"]),
        updated_at=stored_time(row["updated_at"]),
        base_model=row["base_model"],
        endpoint_id=row["endpoint_id"],
        deployed_model_id=row["deployed_model_id"],
        serving_model=row["serving_model"],
        machine_type=row["machine_type"],
        accelerator_type=row["accelerator_type"],
        accelerator_count=row["accelerator_count"],
        min_replicas=row["min_replicas"],
        max_replicas=row["max_replicas"],
        hourly_rate_usd=row["hourly_rate_usd"],
        resources=[(str(k), str(n)) for k, n in orjson.loads(row["resources_json"])],
        error=row["error"],
    )
