"""The program under Pulumi's mocks: what matters for safety (no public bucket, least privilege, ownership labels)
and that what is declared is exactly what the config asks for."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from typing import Any

import pulumi
import pytest

from infra.components.storage import TuningBucket, TuningBucketArgs
from infra.config import DATASET_PREFIX, OWNERSHIP_LABELS
from infra.mocks import FAKE_PROJECT_NUMBER, REDACTED, RecordedResource, RecordingMocks, RecordingMonitor
from infra.outputs import ALL_OUTPUTS, OPTIONAL_OUTPUTS
from tests.infra.conftest import REPO_ROOT, config, declare

BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_IAM = "gcp:storage/bucketIAMMember:BucketIAMMember"
PROJECT_IAM = "gcp:projects/iAMMember:IAMMember"
ENDPOINT = "gcp:vertex/aiEndpoint:AiEndpoint"
BUDGET = "gcp:billing/budget:Budget"
PRIMITIVE_ROLES = {"roles/owner", "roles/editor", "roles/viewer"}
SA_EMAIL = "tunedeck-tuning@my-gcp-project.iam.gserviceaccount.com"


def only(recorder: RecordingMocks, type_: str) -> RecordedResource:
    found = recorder.of_type(type_)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def roles(value: Any) -> list[str]:
    """Every `role` anywhere in a resource's inputs (bindings, members, nested conditions)."""
    if isinstance(value, dict):
        found = [value["role"]] if isinstance(value.get("role"), str) else []
        return found + [role for item in value.values() for role in roles(item)]
    if isinstance(value, list):
        return [role for item in value for role in roles(item)]
    return []


def test_bucket_cannot_become_public() -> None:
    bucket = only(declare(config()), BUCKET)
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    assert bucket.inputs["uniformBucketLevelAccess"] is True


def test_bucket_component_resolves_locked_down_properties() -> None:
    # The same guarantee read back from the resource's own outputs, as pulumi/examples testing-unit-py does.
    recorder = RecordingMocks()
    pulumi.runtime.set_mocks(recorder, project="tunedeck", stack="test", monitor=RecordingMonitor(recorder))

    @pulumi.runtime.test
    def check() -> pulumi.Output[None]:
        component = TuningBucket(
            "bucket",
            TuningBucketArgs(
                project="my-gcp-project",
                location="us-central1",
                bucket_name="tunedeck-my-gcp-project",
                dataset_prefix=DATASET_PREFIX,
                dataset_retention_days=7,
                noncurrent_version_retention_days=3,
                labels=OWNERSHIP_LABELS,
            ),
        )
        bucket = component.bucket

        def verify(values: list[Any]) -> None:
            pap, uniform, versioning, uri = values
            assert pap == "enforced"
            assert uniform is True
            assert versioning["enabled"] is True
            assert uri == "gs://tunedeck-my-gcp-project"

        return pulumi.Output.all(
            bucket.public_access_prevention, bucket.uniform_bucket_level_access, bucket.versioning, component.bucket_uri
        ).apply(verify)

    check()


def test_versioning_and_lifecycle_rules_follow_config() -> None:
    bucket = only(declare(config(datasetRetentionDays=14, noncurrentVersionRetentionDays=5)), BUCKET)
    assert bucket.inputs["versioning"] == {"enabled": True}
    rules = {tuple(sorted(rule["condition"])): rule for rule in bucket.inputs["lifecycleRules"]}
    assert all(rule["action"] == {"type": "Delete"} for rule in rules.values())
    noncurrent = rules[("daysSinceNoncurrentTime", "withState")]["condition"]
    assert noncurrent == {"daysSinceNoncurrentTime": 5, "withState": "ARCHIVED"}
    datasets = rules[("age", "matchesPrefixes")]["condition"]
    assert datasets == {"age": 14, "matchesPrefixes": [DATASET_PREFIX]}


def test_zero_dataset_retention_keeps_datasets_but_still_expires_old_versions() -> None:
    bucket = only(declare(config(datasetRetentionDays=0)), BUCKET)
    conditions = [rule["condition"] for rule in bucket.inputs["lifecycleRules"]]
    assert conditions == [{"daysSinceNoncurrentTime": 30, "withState": "ARCHIVED"}]


def test_no_primitive_role_is_granted_anywhere() -> None:
    recorder = declare(config(endpoints=[{"name": "bot"}], billingAccount="012345-6789AB-CDEF01", budgetAmount=50))
    granted = [role for resource in recorder.custom() for role in roles(resource.inputs)]
    assert granted, "the program grants roles; finding none means this test looks in the wrong place"
    assert not PRIMITIVE_ROLES & set(granted)
    # Authoritative bindings/policies would also wipe other members: only additive members are allowed.
    assert not [r.type for r in recorder.custom() if "IAMBinding" in r.type or "IAMPolicy" in r.type]


def test_service_account_roles_are_least_privilege_and_bucket_scoped() -> None:
    recorder = declare(config())
    member = f"serviceAccount:{SA_EMAIL}"
    project_roles = {r.inputs["role"] for r in recorder.of_type(PROJECT_IAM) if r.inputs["member"] == member}
    assert project_roles == {"roles/aiplatform.user"}
    bucket_grants = [r for r in recorder.of_type(BUCKET_IAM) if r.inputs["member"] == member]
    assert [(g.inputs["bucket"], g.inputs["role"]) for g in bucket_grants] == [
        ("tunedeck-my-gcp-project", "roles/storage.objectAdmin")
    ]
    assert not [r for r in recorder.of_type(PROJECT_IAM) if "storage" in r.inputs["role"]]


def test_vertex_service_agent_can_read_the_bucket() -> None:
    recorder = declare(config())
    agent = f"serviceAccount:service-{FAKE_PROJECT_NUMBER}@gcp-sa-aiplatform.iam.gserviceaccount.com"
    grants = [r for r in recorder.of_type(BUCKET_IAM) if r.inputs["member"] == agent]
    reads = [(r.inputs["bucket"], r.inputs["role"]) for r in grants]
    assert reads == [("tunedeck-my-gcp-project", "roles/storage.objectViewer")]


def _supports_labels(type_: str) -> bool:
    # gcp:storage/bucket:Bucket → pulumi_gcp.storage.BucketArgs; a `labels` property means the type takes labels.
    _, module_path, class_name = type_.split(":")
    module = importlib.import_module(f"pulumi_gcp.{module_path.split('/')[0]}")
    return hasattr(getattr(module, f"{class_name}Args"), "labels")


def test_every_resource_that_takes_labels_carries_the_ownership_label() -> None:
    recorder = declare(
        config(
            endpoints=[{"name": "a"}, {"name": "b", "labels": {"team": "x"}}],
            billingAccount="012345-6789AB-CDEF01",
            budgetAmount=10,
            kmsKeyName="projects/p/locations/us-central1/keyRings/r/cryptoKeys/k",
        )
    )
    labelled = [r for r in recorder.custom() if _supports_labels(r.type)]
    assert {r.type for r in labelled} >= {BUCKET, ENDPOINT}
    unlabelled = [r.name for r in labelled if r.labels.get("managed-by") != "tunedeck"]
    assert not unlabelled


def test_every_child_is_parented_to_a_component() -> None:
    recorder = declare(config(endpoints=[{"name": "bot"}], billingAccount="012345-6789AB-CDEF01", budgetAmount=10))
    orphans = [r.name for r in recorder.custom() if not (r.parent_type or "").startswith("tunedeck:infra:")]
    assert not orphans


def test_apis_are_enabled_and_survive_destroy() -> None:
    services = declare(config()).of_type("gcp:projects/service:Service")
    assert {s.inputs["service"] for s in services} >= {"aiplatform.googleapis.com", "storage.googleapis.com"}
    assert all(s.inputs["disableOnDestroy"] is False for s in services)


def test_endpoints_appear_exactly_as_configured() -> None:
    assert declare(config()).of_type(ENDPOINT) == []
    recorder = declare(
        config(
            endpoints=[
                {"name": "support-bot", "labels": {"team": "support"}},
                {"name": "eu-bot", "region": "europe-west4"},
            ]
        )
    )
    endpoints = {r.inputs["displayName"]: r.inputs for r in recorder.of_type(ENDPOINT)}
    assert set(endpoints) == {"support-bot", "eu-bot"}
    assert endpoints["support-bot"]["location"] == "us-central1"
    assert endpoints["support-bot"]["labels"] == {"team": "support", **OWNERSHIP_LABELS}
    assert endpoints["eu-bot"]["location"] == "europe-west4"
    assert endpoints["eu-bot"]["labels"] == dict(OWNERSHIP_LABELS)


def test_endpoint_resource_names_are_exported_in_order() -> None:
    seen: list[Any] = []
    declare(config(endpoints=["a", "b"]), check=lambda *values: seen.extend(values))
    bucket_name, bucket_uri, email, names = seen
    assert (bucket_name, bucket_uri, email) == ("tunedeck-my-gcp-project", "gs://tunedeck-my-gcp-project", SA_EMAIL)
    assert len(names) == 2
    assert all(name.startswith("projects/my-gcp-project/locations/us-central1/endpoints/") for name in names)


def test_budget_appears_only_when_configured() -> None:
    assert declare(config()).of_type(BUDGET) == []
    recorder = declare(config(billingAccount="012345-6789AB-CDEF01", budgetAmount=250, budgetThresholds=[90, 50]))
    budget = only(recorder, BUDGET)
    assert budget.inputs["billingAccount"] == REDACTED  # passed as a secret
    assert budget.inputs["amount"] == {"specifiedAmount": {"currencyCode": "USD", "units": "250"}}
    assert [rule["thresholdPercent"] for rule in budget.inputs["thresholdRules"]] == [0.5, 0.9]
    assert budget.inputs["budgetFilter"]["projects"] == [f"projects/{FAKE_PROJECT_NUMBER}"]
    services = {s.inputs["service"] for s in recorder.of_type("gcp:projects/service:Service")}
    assert "billingbudgets.googleapis.com" in services


def test_cmek_key_encrypts_the_bucket_and_gcs_may_use_it() -> None:
    key = "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k"
    recorder = declare(config(kmsKeyName=key))
    assert only(recorder, BUCKET).inputs["encryption"] == {"defaultKmsKeyName": key}
    grant = only(recorder, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert (grant.inputs["cryptoKeyId"], grant.inputs["role"]) == (key, "roles/cloudkms.cryptoKeyEncrypterDecrypter")
    assert "encryption" not in only(declare(config()), BUCKET).inputs


@pytest.mark.parametrize(("retain", "force_destroy"), [(False, True), (True, False)])
def test_retention_decides_whether_destroy_empties_the_bucket(retain: bool, force_destroy: bool) -> None:
    assert only(declare(config(retainBucketOnDestroy=retain)), BUCKET).inputs["forceDestroy"] is force_destroy


def test_label_support_detection_is_not_vacuous() -> None:
    # Guards _supports_labels: the label test must get real answers from pulumi_gcp, not always False.
    assert _supports_labels(BUCKET) and _supports_labels(ENDPOINT)
    assert not _supports_labels("gcp:serviceaccount/account:Account")
    assert not _supports_labels(BUDGET)


LANGUAGE_HOST = """
import json, runpy, sys
import pulumi
from infra.mocks import RecordingMocks, RecordingMonitor
recorder = RecordingMocks()
pulumi.runtime.set_mocks(recorder, project="tunedeck", stack="dev", monitor=RecordingMonitor(recorder))
pulumi.runtime.set_all_config({"gcp:project": "my-gcp-project", "gcp:region": "us-central1"})
sys.path.insert(0, "")  # as Pulumi's language host: the program directory (infra/) is the cwd
pulumi.runtime.test(lambda: runpy.run_path(".", run_name="__main__"))()
outputs = pulumi.runtime.get_root_resource().outputs
print(json.dumps({"types": sorted({r.type for r in recorder.custom()}), "exports": sorted(outputs),
                  "infra_dir_on_path": any(p in ("", ".") for p in sys.path)}))
"""


def test_program_runs_the_way_pulumi_runs_a_directory_program() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LANGUAGE_HOST], cwd=REPO_ROOT / "infra", capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert BUCKET in result["types"]
    assert result["exports"] == sorted(ALL_OUTPUTS + OPTIONAL_OUTPUTS)
    assert result["infra_dir_on_path"] is False  # infra/config.py must not shadow a top-level `config`
