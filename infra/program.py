"""Builds the whole tunedeck stack from a validated `InfraConfig`; `__main__` exports what this returns."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.components.apis import BASE_SERVICES, BUDGET_SERVICE, ProjectApis, ProjectApisArgs
from infra.components.budget import ProjectBudget, ProjectBudgetArgs
from infra.components.endpoints import TuningEndpoints, TuningEndpointsArgs
from infra.components.identity import TuningIdentity, TuningIdentityArgs
from infra.components.serving import ServingIdentity, ServingIdentityArgs
from infra.components.storage import TuningBucket, TuningBucketArgs
from infra.config import DATASET_PREFIX, OWNERSHIP_LABELS, InfraConfig


@dataclass(frozen=True)
class ProgramResult:
    bucket_name: pulumi.Output[str]
    bucket_uri: pulumi.Output[str]
    service_account_email: pulumi.Output[str]
    endpoint_names: pulumi.Output[list[str]]
    serving_service_account_email: pulumi.Output[str]


def build(config: InfraConfig) -> ProgramResult:
    services = BASE_SERVICES + ((BUDGET_SERVICE,) if config.budget else ())
    apis = ProjectApis("apis", ProjectApisArgs(project=config.project, services=services))
    bucket = TuningBucket(
        "tuning-bucket",
        TuningBucketArgs(
            project=config.project,
            location=config.region,
            bucket_name=config.bucket_name,
            dataset_prefix=DATASET_PREFIX,
            dataset_retention_days=config.dataset_retention_days,
            noncurrent_version_retention_days=config.noncurrent_version_retention_days,
            labels=OWNERSHIP_LABELS,
            kms_key_name=config.kms_key_name,
            retain_on_destroy=config.retain_bucket_on_destroy,
            depends_on=apis.resources,
        ),
    )
    identity = TuningIdentity(
        "tuning-identity",
        TuningIdentityArgs(
            project=config.project,
            account_id=config.service_account_id,
            bucket_name=bucket.bucket_name,
            depends_on=apis.resources,
        ),
    )
    serving = ServingIdentity(
        "serving-identity",
        ServingIdentityArgs(
            project=config.project,
            account_id=config.serving_account_id,
            bucket_name=bucket.bucket_name,
            depends_on=apis.resources,
        ),
    )
    endpoints = TuningEndpoints(
        "endpoints",
        TuningEndpointsArgs(
            project=config.project, endpoints=config.endpoints, labels=OWNERSHIP_LABELS, depends_on=apis.resources
        ),
    )
    if config.budget is not None:
        ProjectBudget(
            "budget",
            ProjectBudgetArgs(
                project=config.project,
                billing_account=config.budget.billing_account,
                amount=config.budget.amount,
                currency=config.budget.currency,
                thresholds=config.budget.thresholds,
                depends_on=apis.resources,
            ),
        )
    return ProgramResult(
        bucket_name=bucket.bucket_name,
        bucket_uri=bucket.bucket_uri,
        service_account_email=identity.email,
        endpoint_names=endpoints.resource_names,
        serving_service_account_email=serving.email,
    )
