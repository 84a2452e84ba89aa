"""The serving side of the stack under Pulumi's mocks: the account deployed models run as has exactly the two
grants serving needs, nothing anywhere is public, the endpoints deployments use are declared and labelled,
and the adapter picks both up from the stack's outputs."""

from __future__ import annotations

import re
from typing import Any

from infra.config import OWNERSHIP_LABELS
from infra.outputs import SERVING_SERVICE_ACCOUNT_EMAIL, StackOutputs
from infra.plan import run_program_under_mocks
from infra.stack_files import StackConfig
from tests.infra.conftest import config, declare

ACCOUNT = "gcp:serviceaccount/account:Account"
BUCKET_IAM = "gcp:storage/bucketIAMMember:BucketIAMMember"
PROJECT_IAM = "gcp:projects/iAMMember:IAMMember"
ENDPOINT = "gcp:vertex/aiEndpoint:AiEndpoint"
SERVING = "serviceAccount:tunedeck-tuning-serve@my-gcp-project.iam.gserviceaccount.com"
PUBLIC = {"allUsers", "allAuthenticatedUsers"}


def _members(value: Any) -> list[str]:
    """Every IAM `member`/`members` anywhere in a resource's inputs."""
    if isinstance(value, dict):
        found = [value["member"]] if isinstance(value.get("member"), str) else []
        found += (
            [m for m in value.get("members", []) if isinstance(m, str)]
            if isinstance(value.get("members"), list)
            else []
        )
        return found + [m for item in value.values() for m in _members(item)]
    if isinstance(value, list):
        return [m for item in value for m in _members(item)]
    return []


def test_the_serving_account_reads_the_bucket_and_writes_logs_and_nothing_more() -> None:
    recorder = declare(config())
    accounts = {r.inputs["accountId"] for r in recorder.of_type(ACCOUNT)}
    assert accounts == {"tunedeck-tuning", "tunedeck-tuning-serve"}
    bucket = [
        (r.inputs["bucket"], r.inputs["role"]) for r in recorder.of_type(BUCKET_IAM) if r.inputs["member"] == SERVING
    ]
    assert bucket == [("tunedeck-my-gcp-project", "roles/storage.objectViewer")]
    project = [r.inputs["role"] for r in recorder.of_type(PROJECT_IAM) if r.inputs["member"] == SERVING]
    assert project == ["roles/logging.logWriter"]


def test_nothing_in_the_stack_is_public() -> None:
    recorder = declare(config(endpoints=[{"name": "serving"}], billingAccount="012345-6789AB-CDEF01", budgetAmount=5))
    members = [m for resource in recorder.custom() for m in _members(resource.inputs)]
    assert members, "the program grants to members; finding none means this test looks in the wrong place"
    assert not PUBLIC & set(members)
    assert all(m.startswith("serviceAccount:") for m in members)


def test_endpoints_for_deployments_are_declared_labelled_and_exported_with_the_serving_account() -> None:
    base = {"gcp:project": "my-gcp-project", "gcp:region": "us-central1", "tunedeck:endpoints": '[{"name": "serving"}]'}
    recorder, outputs = run_program_under_mocks(StackConfig("tunedeck", "test", base, frozenset()))
    (endpoint,) = recorder.of_type(ENDPOINT)
    assert endpoint.inputs["displayName"] == "serving" and endpoint.labels == dict(OWNERSHIP_LABELS)
    assert outputs[SERVING_SERVICE_ACCOUNT_EMAIL] == SERVING.removeprefix("serviceAccount:")
    (name,) = outputs["endpoint_names"]

    # What `tunedeck endpoints deploy` then uses: the stack's endpoint, and the serving account to run as.
    from providers.vertex.config import from_mapping

    vertex = from_mapping(dict(StackOutputs.from_outputs("test", outputs, "pulumi")))
    assert vertex.endpoints == (name,) and vertex.serving_service_account == outputs[SERVING_SERVICE_ACCOUNT_EMAIL]


def test_a_stack_from_before_the_serving_account_still_reads() -> None:
    old = {
        "project": "p-123456",
        "region": "us-central1",
        "bucket_name": "b",
        "bucket_uri": "gs://b",
        "service_account_email": "t@p-123456.iam.gserviceaccount.com",
        "endpoint_names": [],
        "dataset_prefix": "datasets/",
    }
    outputs = StackOutputs.from_outputs("old", old, "saved")
    assert outputs.serving_service_account_email == "" and outputs.as_outputs() == old


def test_the_serving_account_id_stays_a_valid_account_id() -> None:
    long_id = config(serviceAccountId="a" * 29 + "z").serving_account_id
    assert len(long_id) <= 30 and re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", long_id)
