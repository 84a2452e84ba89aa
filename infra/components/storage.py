"""The dataset/artifact bucket: never public, versioned, with lifecycle rules and an optional CMEK key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra.components import COMPONENT_PREFIX

KMS_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


@dataclass(frozen=True)
class TuningBucketArgs:
    project: str
    location: str
    bucket_name: str
    dataset_prefix: str
    dataset_retention_days: int
    """0 keeps datasets until deleted by hand."""
    noncurrent_version_retention_days: int
    labels: Mapping[str, str]
    kms_key_name: str | None = None
    retain_on_destroy: bool = False
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


def _delete_rule(condition: gcp.storage.BucketLifecycleRuleConditionArgs) -> gcp.storage.BucketLifecycleRuleArgs:
    return gcp.storage.BucketLifecycleRuleArgs(
        action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"), condition=condition
    )


class TuningBucket(pulumi.ComponentResource):
    def __init__(self, name: str, args: TuningBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:TuningBucket", name, None, opts)
        depends_on = list(args.depends_on)
        encryption = None
        if args.kms_key_name:
            # GCS encrypts with the key as its own service agent: without this grant bucket creation fails.
            gcs_agent = gcp.storage.get_project_service_account_output(
                project=args.project, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            depends_on.append(
                gcp.kms.CryptoKeyIAMMember(
                    f"{name}-kms",
                    crypto_key_id=args.kms_key_name,
                    role=KMS_ROLE,
                    member=gcs_agent.email_address.apply(lambda email: f"serviceAccount:{email}"),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
            encryption = gcp.storage.BucketEncryptionArgs(default_kms_key_name=args.kms_key_name)

        rules = [
            _delete_rule(
                gcp.storage.BucketLifecycleRuleConditionArgs(
                    days_since_noncurrent_time=args.noncurrent_version_retention_days, with_state="ARCHIVED"
                )
            )
        ]
        if args.dataset_retention_days:
            rules.append(
                _delete_rule(
                    gcp.storage.BucketLifecycleRuleConditionArgs(
                        age=args.dataset_retention_days, matches_prefixes=[args.dataset_prefix]
                    )
                )
            )

        self.bucket = gcp.storage.Bucket(
            name,
            name=args.bucket_name,
            project=args.project,
            location=args.location.upper(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning=gcp.storage.BucketVersioningArgs(enabled=True),
            lifecycle_rules=rules,
            encryption=encryption,
            labels=dict(args.labels),
            # Without retention, `destroy` means it: the bucket goes with its objects (the CLI warns first).
            force_destroy=not args.retain_on_destroy,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on, retain_on_delete=args.retain_on_destroy),
        )
        self.bucket_name: pulumi.Output[str] = self.bucket.name
        self.bucket_uri: pulumi.Output[str] = self.bucket.url
        self.register_outputs({"bucket_name": self.bucket_name, "bucket_uri": self.bucket_uri})
