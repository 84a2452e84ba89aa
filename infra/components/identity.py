"""Least-privilege identity for tuning jobs: a dedicated service account and bucket-scoped grants."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra.components import COMPONENT_PREFIX

PROJECT_ROLE = "roles/aiplatform.user"
BUCKET_ROLE = "roles/storage.objectAdmin"
SERVICE_AGENT_BUCKET_ROLE = "roles/storage.objectViewer"
VERTEX_SERVICE = "aiplatform.googleapis.com"


def as_member(email: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.from_input(email).apply(lambda value: f"serviceAccount:{value}")


@dataclass(frozen=True)
class TuningIdentityArgs:
    project: str
    account_id: str
    bucket_name: pulumi.Input[str]
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class TuningIdentity(pulumi.ComponentResource):
    """Grants are additive members (never bindings or policies) so nothing else in the project is disturbed."""

    def __init__(self, name: str, args: TuningIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:TuningIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        self.account = gcp.serviceaccount.Account(
            f"{name}-sa",
            project=args.project,
            account_id=args.account_id,
            display_name="tunedeck tuning jobs",
            description="Runs Vertex AI tuning jobs for tunedeck (managed-by=tunedeck).",
            opts=child,
        )
        member = as_member(self.account.email)
        gcp.projects.IAMMember(
            f"{name}-aiplatform-user", project=args.project, role=PROJECT_ROLE, member=member, opts=child
        )
        gcp.storage.BucketIAMMember(
            f"{name}-bucket-objects", bucket=args.bucket_name, role=BUCKET_ROLE, member=member, opts=child
        )
        # Vertex AI reads training data as its own service agent; ServiceIdentity makes sure the agent exists.
        agent = gcp.projects.ServiceIdentity(
            f"{name}-vertex-agent", project=args.project, service=VERTEX_SERVICE, opts=child
        )
        gcp.storage.BucketIAMMember(
            f"{name}-vertex-agent-reads-bucket",
            bucket=args.bucket_name,
            role=SERVICE_AGENT_BUCKET_ROLE,
            member=as_member(agent.email.apply(lambda email: email or "")),
            opts=child,
        )
        self.email: pulumi.Output[str] = self.account.email
        self.register_outputs({"email": self.email, "vertex_agent": agent.email})
