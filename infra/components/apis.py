"""The Google APIs tunedeck's resources need, enabled on the project and left enabled on destroy."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.components import COMPONENT_PREFIX

BASE_SERVICES = ("aiplatform.googleapis.com", "storage.googleapis.com", "iam.googleapis.com")
BUDGET_SERVICE = "billingbudgets.googleapis.com"


@dataclass(frozen=True)
class ProjectApisArgs:
    project: str
    services: tuple[str, ...] = BASE_SERVICES


class ProjectApis(pulumi.ComponentResource):
    """Each API as a `gcp.projects.Service`; other resources depend on `self.resources`."""

    def __init__(self, name: str, args: ProjectApisArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:ProjectApis", name, None, opts)
        self.resources: list[pulumi.Resource] = [
            gcp.projects.Service(
                f"{name}-{service.split('.')[0]}",
                project=args.project,
                service=service,
                # Other workloads in the project may use these APIs: destroying tunedeck must not cut them off.
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for service in args.services
        ]
        self.register_outputs({"services": list(args.services)})
