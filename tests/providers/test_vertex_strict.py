"""The Vertex adapter against a stand-in as strict as Vertex (see fake_vertex*.py): versioned model names, the
deploy precondition on deletes, traffic splits on undeploy, paging with no order, operations that are not done
at once, and one `api_endpoint` for both SDKs."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from providers import errors
from providers.base import MANAGED_BY_LABEL
from providers.vertex.adapter import VertexProvider
from providers.vertex.config import VertexConfig
from providers.vertex.endpoints import endpoint_client, split_without
from providers.vertex.tuning import genai_client
from tests.providers.fake_vertex import FakeVertex, fake_vertex_server
from tests.providers.vertex_support import vertex_config

OURS = {MANAGED_BY_LABEL: "tunedeck"}


@pytest.fixture
def fake() -> Iterator[FakeVertex]:
    with fake_vertex_server() as server:
        yield server


@pytest.fixture
def vertex(fake: FakeVertex) -> VertexProvider:
    return VertexProvider(vertex_config(fake.url))


def _deployed(dm_id: str, model: str, dedicated: bool = False) -> object:
    from google.cloud import aiplatform_v1 as v1

    resources = (
        v1.DedicatedResources(
            machine_spec=v1.MachineSpec(machine_type="n1-standard-4"), min_replica_count=1, max_replica_count=1
        )
        if dedicated
        else None
    )
    return v1.DeployedModel(id=dm_id, model=model, dedicated_resources=resources)


def _endpoint(fake: FakeVertex, number: int, models: dict[str, str], split: dict[str, int], **fields: object) -> str:
    from google.cloud import aiplatform_v1 as v1

    endpoint = v1.Endpoint(
        name=f"{fake.parent}/endpoints/{number}",
        display_name=f"ep-{number}",
        deployed_models=[_deployed(dm, model, dedicated=True) for dm, model in models.items()],
        traffic_split=split,
        **fields,
    )
    return fake.add_endpoint(endpoint)


# -- deleting a tuned model -----------------------------------------------------------------------------------


def test_a_tuned_gemini_model_is_undeployed_then_deleted_by_its_unversioned_name(
    vertex: VertexProvider, fake: FakeVertex
) -> None:
    # A tuned Gemini model: registry entry models/77 (version 1), served from its own tuning endpoint, which
    # carries the job's labels. Vertex refuses DeleteModel("…/models/77@1") and any delete while it is deployed.
    versioned = fake.add_model("77", display_name="helpdesk")
    tuning_endpoint = _endpoint(fake, 555, {"dm77": versioned}, {"dm77": 100}, labels=OURS)
    vertex.delete_model(versioned)
    assert [(e, dm) for e, dm, _ in fake.undeployed] == [(tuning_endpoint, "dm77")]
    assert fake.deleted == [tuning_endpoint, f"{fake.parent}/models/77"]
    assert fake.models == {} and fake.endpoints == {}


def test_one_version_of_several_goes_through_delete_model_version(vertex: VertexProvider, fake: FakeVertex) -> None:
    first = fake.add_model("78", version="1")
    second = fake.add_model("78", version="2")
    vertex.delete_model(first)
    assert fake.deleted == [first] and list(fake.models) == [second]


def test_a_foreign_endpoint_keeps_its_other_model_and_its_traffic(vertex: VertexProvider, fake: FakeVertex) -> None:
    ours = fake.add_model("79")
    theirs = fake.add_model("80")
    shared = _endpoint(fake, 600, {"dm-ours": ours, "dm-theirs": theirs}, {"dm-ours": 60, "dm-theirs": 40})
    vertex.delete_model(ours)
    assert fake.undeployed == [(shared, "dm-ours", {"dm-theirs": 100})]
    endpoint = fake.endpoints[shared]
    assert [d.id for d in endpoint.deployed_models] == ["dm-theirs"] and dict(endpoint.traffic_split) == {
        "dm-theirs": 100
    }
    assert shared not in fake.deleted and theirs in fake.models


def test_deleting_a_model_that_does_not_exist_is_not_found(vertex: VertexProvider, fake: FakeVertex) -> None:
    with pytest.raises(errors.NotFoundError):
        vertex.delete_model(f"{fake.parent}/models/404@1")


# -- teardown -----------------------------------------------------------------------------------------------


def test_teardown_reassigns_traffic_before_undeploying_from_a_split_endpoint(
    vertex: VertexProvider, fake: FakeVertex
) -> None:
    a, b = fake.add_model("81"), fake.add_model("82")
    name = _endpoint(fake, 700, {"dmA": a, "dmB": b}, {"dmA": 70, "dmB": 30}, labels=OURS)
    vertex.teardown_endpoint(name)
    assert fake.undeployed == [(name, "dmA", {"dmB": 100}), (name, "dmB", {})]
    assert name in fake.deleted and name not in fake.endpoints


def test_teardown_only_undeploys_from_the_stacks_own_endpoint(fake: FakeVertex) -> None:
    model = fake.add_model("83")
    name = _endpoint(fake, 701, {"dm1": model}, {"dm1": 100}, labels=OURS)
    VertexProvider(vertex_config(fake.url, endpoints=(name,))).teardown_endpoint(name)
    assert fake.undeployed == [(name, "dm1", {})]
    assert name in fake.endpoints and not fake.endpoints[name].deployed_models  # kept: Pulumi manages it


def test_operations_are_polled_until_done_under_their_resource(fake: FakeVertex) -> None:
    fake.op_polls = 4  # each operation answers "not done" three times before it completes
    model = fake.add_model("84")
    name = _endpoint(fake, 702, {"dm1": model}, {"dm1": 100}, labels=OURS)
    VertexProvider(vertex_config(fake.url)).teardown_endpoint(name)
    assert name not in fake.endpoints
    assert all(op.startswith(f"{name}/operations/") for op in fake.operations)  # nested, as Vertex names them


@pytest.mark.parametrize(
    ("current", "ids", "leaving", "expected"),
    [
        ({"a": 70, "b": 30}, ["a", "b"], "a", {"b": 100}),
        ({"a": 50, "b": 25, "c": 25}, ["a", "b", "c"], "a", {"b": 50, "c": 50}),
        ({"a": 34, "b": 33, "c": 33}, ["a", "b", "c"], "a", {"b": 50, "c": 50}),
        ({"a": 100}, ["a", "b"], "a", {"b": 100}),
        ({"a": 0, "b": 100}, ["a", "b"], "a", {}),
        ({"a": 100}, ["a"], "a", {}),
    ],
)
def test_split_without_always_sums_to_100_over_the_models_that_stay(
    current: dict[str, int], ids: list[str], leaving: str, expected: dict[str, int]
) -> None:
    assert split_without(current, ids, leaving) == expected


# -- tuning jobs: paging and order --------------------------------------------------------------------------


def test_list_reads_every_page_and_orders_by_creation_itself(vertex: VertexProvider, fake: FakeVertex) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    names = [fake.add_job(base_model="gemini-2.5-flash", create_time=start + timedelta(hours=i)) for i in range(8)]
    newest = list(reversed(names))[:3]
    assert [j.id for j in vertex.list_jobs(limit=3)] == newest
    assert len(fake.list_queries) == 3  # 8 jobs at most 3 a page: every page was read
    assert [q.get("pageToken") for q in fake.list_queries] == [None, ["3"], ["6"]]


def test_a_client_key_on_the_last_page_is_still_found(vertex: VertexProvider, fake: FakeVertex) -> None:
    for _ in range(7):
        fake.add_job(base_model="gemini-2.5-flash", labels={"tunedeck-client-key": "someone-else"})
    wanted = fake.add_job(base_model="gemini-2.5-flash", labels={"tunedeck-client-key": "tdk-mine"})
    assert [j.id for j in vertex.find_jobs_by_client_key("tdk-mine")] == [wanted]


# -- one api_endpoint for both SDKs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "genai_base", "aiplatform_host"),
    [
        ("europe-west4-aiplatform.googleapis.com", "https://europe-west4-aiplatform.googleapis.com", None),
        ("https://europe-west4-aiplatform.googleapis.com/", "https://europe-west4-aiplatform.googleapis.com", None),
        ("http://127.0.0.1:9", "http://127.0.0.1:9", "http://127.0.0.1:9"),
    ],
)
def test_one_api_endpoint_feeds_genai_base_url_and_aiplatform_host(
    setting: str, genai_base: str, aiplatform_host: str | None
) -> None:
    config = VertexConfig(project="p", region="europe-west4", api_endpoint=setting, credentials=_token())
    # genai joins paths onto base_url, so it must carry a scheme; aiplatform's REST transport takes the host.
    assert genai_client(config)._api_client._http_options.base_url.rstrip("/") == genai_base
    host = endpoint_client(config)._transport._host
    assert host == (aiplatform_host or "https://europe-west4-aiplatform.googleapis.com")


def test_without_an_api_endpoint_each_sdk_uses_the_regional_or_global_host() -> None:
    regional = VertexConfig(project="p", region="us-east5", credentials=_token())
    assert regional.aiplatform_endpoint == "us-east5-aiplatform.googleapis.com" and regional.genai_base_url is None
    assert VertexConfig(project="p", region="global").aiplatform_endpoint == "aiplatform.googleapis.com"


def _token() -> object:
    from google.oauth2.credentials import Credentials

    return Credentials(token="t")


# -- the stand-in's own strictness ------------------------------------------------------------------------------


def test_the_fake_sends_enum_names_unless_integers_are_asked_for(fake: FakeVertex) -> None:
    from google.cloud import aiplatform_v1 as v1

    endpoint = v1.Endpoint(
        name=f"{fake.parent}/endpoints/9",
        display_name="gpu",
        deployed_models=[
            v1.DeployedModel(
                id="d",
                model=f"{fake.parent}/models/1",
                dedicated_resources=v1.DedicatedResources(
                    machine_spec=v1.MachineSpec(
                        machine_type="g2-standard-12",
                        accelerator_type=v1.AcceleratorType.NVIDIA_L4,
                        accelerator_count=1,
                    ),
                    min_replica_count=1,
                    max_replica_count=1,
                ),
            )
        ],
    )
    fake.add_endpoint(endpoint)
    url = f"{fake.url}/v1/{endpoint.name}"

    def accelerator(query: str) -> object:
        with urllib.request.urlopen(url + query) as response:
            body = json.loads(response.read())
        return body["deployedModels"][0]["dedicatedResources"]["machineSpec"]["acceleratorType"]

    assert accelerator("") == "NVIDIA_L4"
    assert accelerator("?%24alt=json%3Benum-encoding%3Dint") == int(v1.AcceleratorType.NVIDIA_L4)
