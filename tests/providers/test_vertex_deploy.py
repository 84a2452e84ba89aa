"""Deploying a tuned open model to a dedicated Vertex endpoint through the adapter, against the strict stand-in:
the plan and its rate, upload with the serving container, endpoint and deployment with the chosen machine,
operations awaited with progress, a half-way failure that leaves everything recorded, and teardown that removes
only what tunedeck made."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from providers import errors
from providers.base import MANAGED_BY_LABEL, CreatedResource, DeploySpec
from providers.vertex import open_models
from providers.vertex.adapter import VertexProvider
from tests.providers.fake_vertex import FakeVertex, fake_vertex_server
from tests.providers.vertex_support import vertex_config

LLAMA = "meta/llama3_1@llama-3.1-8b-instruct"
L4_NODE = 0.5672 + 0.6440  # g2-standard-12 + one NVIDIA_L4, from endpoint_rates.toml


@pytest.fixture
def fake() -> Iterator[FakeVertex]:
    with fake_vertex_server() as server:
        yield server


@pytest.fixture
def vertex(fake: FakeVertex) -> VertexProvider:
    return VertexProvider(
        vertex_config(fake.url, serving_service_account="serve@tunedeck-test.iam.gserviceaccount.com")
    )


def _tuned(fake: FakeVertex, base: str = LLAMA) -> str:
    """A succeeded open-model job; returns its weights folder (the model name tunedeck shows)."""
    output = "gs://b/tunedeck/tuned-models/tdk-job"
    fake.add_job(base_model=base, output_uri=output, labels={MANAGED_BY_LABEL: "tunedeck"})
    return f"{output}/{open_models.ARTIFACT_SUFFIX}"


def test_the_plan_names_the_machine_and_its_rate_before_anything_is_created(
    vertex: VertexProvider, fake: FakeVertex
) -> None:
    weights = _tuned(fake)
    plan = vertex.plan_deployment(DeploySpec(weights, deploy_key="tdk-d1", max_replicas=3))
    assert (plan.machine_type, plan.accelerator_type, plan.accelerator_count) == ("g2-standard-12", "NVIDIA_L4", 1)
    assert plan.hourly and plan.hourly_rate_usd == pytest.approx(L4_NODE)
    assert "as of" in plan.rate_note and "may scale to 3 replicas" in plan.rate_note
    assert plan.endpoint is None and plan.base_model == LLAMA and plan.details["weights"] == weights
    assert fake.uploads == [] and fake.created_endpoints == []


def test_an_unpriced_machine_is_said_plainly_and_a_bad_accelerator_refused(
    vertex: VertexProvider, fake: FakeVertex
) -> None:
    weights = _tuned(fake)
    plan = vertex.plan_deployment(
        DeploySpec(weights, machine_type="a3-highgpu-8g", accelerator_type="NVIDIA_H100_80GB", accelerator_count=8)
    )
    assert plan.hourly_rate_usd is None and "unknown" in plan.rate_note
    with pytest.raises(errors.InvalidRequestError, match="no accelerator"):
        vertex.plan_deployment(
            DeploySpec(weights, machine_type="g2-standard-12", accelerator_type="GTX", accelerator_count=1)
        )


def test_a_tuned_gemini_model_has_nothing_to_deploy(vertex: VertexProvider, fake: FakeVertex) -> None:
    from google.genai import types

    endpoint = f"{fake.parent}/endpoints/555"
    fake.add_job(
        base_model="gemini-2.5-flash",
        tuned_model=types.TunedModel(model=f"{fake.parent}/models/7@1", endpoint=endpoint),
    )
    with pytest.raises(errors.NotSupportedError, match="per token"):
        vertex.plan_deployment(DeploySpec(endpoint))


def test_deploy_uploads_creates_an_endpoint_deploys_and_reports_each_resource(
    vertex: VertexProvider, fake: FakeVertex
) -> None:
    from google.cloud import aiplatform_v1 as v1

    fake.op_polls = 3  # every operation is still running on its first two polls
    weights = _tuned(fake)
    plan = vertex.plan_deployment(DeploySpec(weights, deploy_key="tdk-d2", min_replicas=1, max_replicas=2))
    progress: list[str] = []
    created: list[CreatedResource] = []
    deployment = vertex.deploy_model(plan, progress.append, created.append)

    (upload,) = fake.uploads
    container = upload["model"]["containerSpec"]
    assert upload["modelId"] == "tdk-d2" and container["imageUri"] == open_models.serving_container().image_uri
    assert f"--model={weights}" in container["args"] and container["healthRoute"] == "/ping"
    assert upload["model"]["labels"] == {
        MANAGED_BY_LABEL: "tunedeck",
        "tunedeck-deploy": "tdk-d2",
        "tunedeck-serving": "copy",
    }
    (created_endpoint,) = fake.created_endpoints
    assert created_endpoint["endpointId"] == "tdk-d2" and created_endpoint["labels"][MANAGED_BY_LABEL] == "tunedeck"
    (request,) = fake.deploy_requests
    dedicated = request["deployedModel"]["dedicatedResources"]
    # aiplatform sends enums as integers (`$alt=json;enum-encoding=int`), as it does to Vertex.
    assert dedicated["machineSpec"] == {
        "machineType": "g2-standard-12",
        "acceleratorType": int(v1.AcceleratorType.NVIDIA_L4),
        "acceleratorCount": 1,
    }
    assert (dedicated["minReplicaCount"], dedicated["maxReplicaCount"]) == (1, 2)
    assert request["trafficSplit"] == {"0": 100}
    assert request["deployedModel"]["serviceAccount"] == "serve@tunedeck-test.iam.gserviceaccount.com"

    endpoint = f"{fake.parent}/endpoints/tdk-d2"
    assert deployment.endpoint_id == endpoint and deployment.serving_model == f"{fake.parent}/models/tdk-d2"
    assert [c.kind for c in created] == ["model", "endpoint", "deployed-model"]
    assert any("waiting" in line for line in progress) and progress[-1].startswith("deploy on g2-standard-12: done")
    (listed,) = vertex.list_endpoints()
    assert listed.id == endpoint and listed.owned_by_tunedeck and listed.replicas == 1
    assert listed.machine_type == "g2-standard-12 + 1× NVIDIA_L4" and listed.hourly_rate_usd == pytest.approx(L4_NODE)


def test_a_deploy_that_fails_half_way_has_reported_what_it_made_and_teardown_removes_it(
    vertex: VertexProvider, fake: FakeVertex
) -> None:
    foreign = fake.add_model("999", display_name="someone else's")
    weights = _tuned(fake)
    plan = vertex.plan_deployment(DeploySpec(weights, deploy_key="tdk-d3"))
    fake.fail_next_deploy = (8, "Quota exceeded for NVIDIA_L4 in us-central1")
    created: list[CreatedResource] = []
    with pytest.raises(errors.ProviderError, match="Quota"):
        vertex.deploy_model(plan, None, created.append)
    assert [(c.kind, c.name.rsplit("/", 1)[-1]) for c in created] == [("model", "tdk-d3"), ("endpoint", "tdk-d3")]

    retried = vertex.deploy_model(plan)  # the same key: the first attempt's model and endpoint are reused
    assert len(fake.models) == 2 and len(fake.endpoints) == 1 and retried.endpoint_id.endswith("/tdk-d3")

    vertex.teardown_endpoint(retried.endpoint_id)
    assert fake.endpoints == {} and list(fake.models) == [foreign]  # the serving copy went; the foreign model stayed


def test_deploy_to_the_stacks_endpoint_keeps_it_and_refuses_a_foreign_one(fake: FakeVertex) -> None:
    from google.cloud import aiplatform_v1 as v1

    stack = fake.add_endpoint(
        v1.Endpoint(name=f"{fake.parent}/endpoints/42", display_name="serving", labels={MANAGED_BY_LABEL: "tunedeck"})
    )
    foreign = fake.add_endpoint(v1.Endpoint(name=f"{fake.parent}/endpoints/43", display_name="theirs"))
    vertex = VertexProvider(vertex_config(fake.url, endpoints=(stack,)))
    weights = _tuned(fake)
    plan = vertex.plan_deployment(DeploySpec(weights, deploy_key="tdk-d4"))
    assert plan.endpoint == stack
    deployment = vertex.deploy_model(plan)
    assert deployment.endpoint_id == stack and fake.created_endpoints == []
    vertex.teardown_endpoint(stack)
    assert stack in fake.endpoints and not fake.endpoints[stack].deployed_models

    with pytest.raises(errors.InvalidRequestError, match="not created by tunedeck"):
        vertex.deploy_model(dataclasses.replace(plan, endpoint=foreign, deploy_key="tdk-d5"))
    assert len(fake.uploads) == 1  # refused before uploading anything for it


def test_teardown_after_a_failed_deploy_also_removes_the_serving_copy(vertex: VertexProvider, fake: FakeVertex) -> None:
    weights = _tuned(fake)
    plan = vertex.plan_deployment(DeploySpec(weights, deploy_key="tdk-d6"))
    fake.fail_next_deploy = (8, "Quota exceeded")
    with pytest.raises(errors.ProviderError):
        vertex.deploy_model(plan)
    assert f"{fake.parent}/models/tdk-d6@1" in fake.models  # uploaded, never deployed
    vertex.teardown_endpoint(f"{fake.parent}/endpoints/tdk-d6")
    assert fake.endpoints == {} and fake.models == {}
