"""The identity deployed models run as: a service account that can read the tuned weights and write its logs.

Least privilege for serving: the vLLM container loads the tuned weights straight from the stack's bucket
(read-only, scoped to that bucket) and writes container logs; it needs nothing else in the project. Grants are
additive members, never bindings or policies, so nothing else in the project is disturbed; nothing is public.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra.components import COMPONENT_PREFIX
from infra.components.identity import as_member

WEIGHTS_ROLE = "roles/storage.objectViewer"
LOG_ROLE = "roles/logging.logWriter"


@dataclass(frozen=True)
class ServingIdentityArgs:
    project: str
    account_id: str
    bucket_name: pulumi.Input[str]
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class ServingIdentity(pulumi.ComponentResource):
    def __init__(self, name: str, args: ServingIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:ServingIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        self.account = gcp.serviceaccount.Account(
            f"{name}-sa",
            project=args.project,
            account_id=args.account_id,
            display_name="tunedeck serving",
            description="Runs models tunedeck deploys to Vertex AI endpoints (managed-by=tunedeck).",
            opts=child,
        )
        member = as_member(self.account.email)
        gcp.storage.BucketIAMMember(
            f"{name}-reads-weights", bucket=args.bucket_name, role=WEIGHTS_ROLE, member=member, opts=child
        )
        gcp.projects.IAMMember(f"{name}-writes-logs", project=args.project, role=LOG_ROLE, member=member, opts=child)
        self.email: pulumi.Output[str] = self.account.email
        self.register_outputs({"email": self.email})
