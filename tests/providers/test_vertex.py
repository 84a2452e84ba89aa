"""Vertex adapter against the loopback fake Vertex REST server: tuning jobs (google-genai), endpoints and
teardown (aiplatform REST), state mapping, billing notes and error translation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from providers import errors
from providers.base import CLIENT_KEY_LABEL, JobState, TuningSpec
from providers.vertex.adapter import VertexProvider
from providers.vertex.config import VertexConfig
from tests.providers.conftest import free_port
from tests.providers.fake_vertex import FakeVertex, fake_vertex_server
from tests.providers.vertex_support import SA, SPEC, vertex_config


@pytest.fixture
def fake() -> Iterator[FakeVertex]:
    with fake_vertex_server() as server:
        yield server


def _config(url: str, **extra: Any) -> VertexConfig:
    return vertex_config(url, **extra)


@pytest.fixture
def vertex(fake: FakeVertex) -> VertexProvider:
    return VertexProvider(_config(fake.url, service_account=SA))


def test_create_job_sends_the_documented_tuning_request(vertex: VertexProvider, fake: FakeVertex) -> None:
    job = vertex.create_job(SPEC)
    assert job.id.startswith("projects/tunedeck-test/locations/us-central1/tuningJobs/")
    assert job.status.state is JobState.QUEUED and job.status.raw_state == "JOB_STATE_PENDING"
    (body,) = fake.tune_requests
    assert body["baseModel"] == "gemini-2.5-flash"
    assert body["supervisedTuningSpec"] == {
        "trainingDatasetUri": "gs://b/train.jsonl",
        "validationDatasetUri": "gs://b/valid.jsonl",
        "hyperParameters": {"epochCount": 3, "learningRateMultiplier": 0.5, "adapterSize": "ADAPTER_SIZE_FOUR"},
    }
    assert body["tunedModelDisplayName"] == "helpdesk"
    assert body["serviceAccount"] == "tuner@tunedeck-test.iam.gserviceaccount.com"
    assert body["labels"] == {"managed-by": "tunedeck", CLIENT_KEY_LABEL: "0b5c-key", "team": "support"}
    assert set(fake.auth_headers) == {"Bearer test-token"}


def test_resubmitting_the_same_client_key_adopts_the_existing_job(vertex: VertexProvider, fake: FakeVertex) -> None:
    first = vertex.create_job(SPEC)
    again = vertex.create_job(SPEC)
    assert again.id == first.id and len(fake.tune_requests) == 1
    assert [j.id for j in vertex.find_jobs_by_client_key("0b5c-key")] == [first.id]
    assert vertex.find_jobs_by_client_key("someone-else") == []


@pytest.mark.parametrize(
    ("state", "detail", "expected", "detail_text"),
    [
        ("JOB_STATE_RUNNING", "TUNING_JOB_STATE_WAITING_FOR_CAPACITY", JobState.QUEUED, "capacity"),
        ("JOB_STATE_RUNNING", "TUNING_JOB_STATE_PROCESSING_DATASET", JobState.VALIDATING, "dataset"),
        ("JOB_STATE_RUNNING", "TUNING_JOB_STATE_TUNING", JobState.RUNNING, "tuning"),
        ("JOB_STATE_EXPIRED", None, JobState.FAILED, "expired"),
        ("JOB_STATE_PARTIALLY_SUCCEEDED", None, JobState.SUCCEEDED, "partially"),
        ("JOB_STATE_PAUSED", None, JobState.PAUSED, "paused"),
    ],
)
def test_vertex_states_map_and_keep_the_raw_state(
    vertex: VertexProvider, fake: FakeVertex, state: str, detail: str | None, expected: JobState, detail_text: str
) -> None:
    job = vertex.create_job(SPEC)
    fake.set_job(job.id, state=state, tuning_job_state=detail)
    status = vertex.get_job(job.id).status
    assert (status.state, status.raw_state) == (expected, state)
    assert detail_text in status.detail


def test_succeeded_job_exposes_tuned_model_checkpoints_and_milestones(vertex: VertexProvider, fake: FakeVertex) -> None:
    from google.genai import types

    job = vertex.create_job(SPEC)
    endpoint = "projects/tunedeck-test/locations/us-central1/endpoints/555"
    fake.set_job(
        job.id,
        state="JOB_STATE_SUCCEEDED",
        start_time=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        end_time=datetime(2026, 11, 25, 11, 0, tzinfo=UTC),
        tuned_model=types.TunedModel(
            model="projects/tunedeck-test/locations/us-central1/models/77@1",
            endpoint=endpoint,
            checkpoints=[
                types.TunedModelCheckpoint(checkpoint_id="2", epoch=2, step=20, endpoint=endpoint + "-c2"),
                types.TunedModelCheckpoint(checkpoint_id="1", epoch=1, step=10, endpoint=endpoint + "-c1"),
            ],
        ),
    )
    done = vertex.get_job(job.id)
    assert done.status.state is JobState.SUCCEEDED and done.fine_tuned_model == endpoint
    assert [m.id for m in vertex.list_models()] == ["projects/tunedeck-test/locations/us-central1/models/77@1"]
    assert [(c.id, c.step, c.model) for c in vertex.list_checkpoints(job.id)] == [
        ("1", 10, endpoint + "-c1"),
        ("2", 20, endpoint + "-c2"),
    ]
    events = vertex.list_events(job.id)
    assert [e.id.split("#")[1] for e in events] == ["created", "started", "ended"]
    assert vertex.list_events(job.id, after=events[0].id) == events[1:]


def test_cancel_is_asynchronous_and_ends_cancelled_not_failed(vertex: VertexProvider, fake: FakeVertex) -> None:
    job = vertex.create_job(SPEC)
    cancelling = vertex.cancel_job(job.id)
    # Vertex cancels in the background: right after the call the job is still cancelling, not finished.
    assert (cancelling.status.state, cancelling.status.raw_state) == (JobState.RUNNING, "JOB_STATE_CANCELLING")
    done = vertex.get_job(job.id)
    assert done.status.state is JobState.CANCELLED
    assert fake.jobs[job.id].error is not None and fake.jobs[job.id].error.code == 1  # as Vertex reports it
    assert done.error is None  # the user's decision, not a failure
    ended = vertex.list_events(job.id)[-1]
    assert (ended.level, ended.message) == ("info", "Cancelled")


def test_chat_streams_from_the_tuned_endpoint(vertex: VertexProvider, fake: FakeVertex) -> None:
    from providers.base import ChatMessage

    chunks = list(
        vertex.chat(
            "projects/tunedeck-test/locations/us-central1/endpoints/555",
            [ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")],
        )
    )
    assert "".join(c.text for c in chunks) == "Tuned hello"
    assert (chunks[-1].finish_reason, chunks[-1].prompt_tokens, chunks[-1].completion_tokens) == ("stop", 5, 2)


# -- endpoints ----------------------------------------------------------------------------------------------


def _endpoints(fake: FakeVertex) -> dict[str, str]:
    from google.cloud import aiplatform_v1 as v1

    parent = fake.parent
    dedicated = v1.Endpoint(
        name=f"{parent}/endpoints/1",
        display_name="llama-gpu",
        labels={"managed-by": "tunedeck"},
        deployed_models=[
            v1.DeployedModel(
                id="dm1",
                model=f"{parent}/models/11",
                dedicated_resources=v1.DedicatedResources(
                    machine_spec=v1.MachineSpec(
                        machine_type="n1-standard-4",
                        accelerator_type=v1.AcceleratorType.NVIDIA_TESLA_T4,
                        accelerator_count=1,
                    ),
                    min_replica_count=2,
                    max_replica_count=3,
                ),
            )
        ],
    )
    shared = v1.Endpoint(
        name=f"{parent}/endpoints/2",
        display_name="gemini-tuned",
        deployed_models=[v1.DeployedModel(id="dm2", model=f"{parent}/models/77")],
    )
    unknown = v1.Endpoint(
        name=f"{parent}/endpoints/3",
        display_name="exotic",
        deployed_models=[
            v1.DeployedModel(
                id="dm3",
                model=f"{parent}/models/12",
                dedicated_resources=v1.DedicatedResources(
                    machine_spec=v1.MachineSpec(machine_type="z9-mega-1"), min_replica_count=1, max_replica_count=1
                ),
            )
        ],
    )
    empty = v1.Endpoint(name=f"{parent}/endpoints/4", display_name="empty")
    return {e.display_name: fake.add_endpoint(e) for e in (dedicated, shared, unknown, empty)}


def test_list_endpoints_prices_what_bills_by_the_hour(vertex: VertexProvider, fake: FakeVertex) -> None:
    names = _endpoints(fake)
    found = {e.display_name: e for e in vertex.list_endpoints()}
    gpu = found["llama-gpu"]
    # n1-standard-4 (0.2190) + one T4 (0.4025), two replicas minimum, from endpoint_rates.toml.
    assert gpu.hourly_rate_usd == pytest.approx(2 * (0.2190 + 0.4025))
    assert (gpu.machine_type, gpu.replicas, gpu.id) == ("n1-standard-4 + 1× NVIDIA_TESLA_T4", 2, names["llama-gpu"])
    assert "undeploy to stop the charge" in gpu.note and "may scale to 3" in gpu.note
    assert gpu.owned_by_tunedeck
    gemini = found["gemini-tuned"]
    assert gemini.hourly_rate_usd is None and "per token" in gemini.note
    assert found["exotic"].hourly_rate_usd is None and "unknown rate" in found["exotic"].note
    assert found["empty"].hourly_rate_usd == 0.0 and "costs nothing" in found["empty"].note


def test_user_rates_override_the_shipped_table(fake: FakeVertex) -> None:
    _endpoints(fake)
    provider = VertexProvider(_config(fake.url), rate_overrides={"z9-mega-1": {"usd_per_hour": 9.5}})
    assert {e.display_name: e.hourly_rate_usd for e in provider.list_endpoints()}["exotic"] == 9.5


def test_teardown_undeploys_every_model_then_deletes(vertex: VertexProvider, fake: FakeVertex) -> None:
    names = _endpoints(fake)
    vertex.teardown_endpoint(names["llama-gpu"])
    assert fake.undeployed == [(names["llama-gpu"], "dm1", {})]
    assert names["llama-gpu"] in fake.deleted
    assert names["llama-gpu"] not in {e.id for e in vertex.list_endpoints()}
    with pytest.raises(errors.NotFoundError):
        vertex.teardown_endpoint(names["llama-gpu"])


# -- errors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["get_job", "list_endpoints"])
def test_errors_translate_on_both_sdks(vertex: VertexProvider, fake: FakeVertex, call: str) -> None:
    def run() -> object:
        return vertex.get_job(f"{fake.parent}/tuningJobs/1") if call == "get_job" else vertex.list_endpoints()

    fake.fail_next = [(401, "UNAUTHENTICATED", {})]
    with pytest.raises(errors.AuthenticationError) as auth:
        run()
    assert "gcloud auth application-default login" in auth.value.hint
    fake.fail_next = [(429, "RESOURCE_EXHAUSTED", {"Retry-After": "12"})]
    with pytest.raises(errors.RateLimitedError) as limited:
        run()
    assert limited.value.retry_after == 12.0
    fake.fail_next = [(503, "UNAVAILABLE", {})]
    with pytest.raises(errors.UnavailableError):
        run()


def test_connection_refused_is_unavailable() -> None:
    provider = VertexProvider(_config(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(errors.UnavailableError):
        provider.get_job("projects/tunedeck-test/locations/us-central1/tuningJobs/1")
    with pytest.raises(errors.UnavailableError):
        provider.list_endpoints()


def test_unknown_adapter_size_is_refused_before_any_request(vertex: VertexProvider, fake: FakeVertex) -> None:
    spec = TuningSpec(base_model="gemini-2.5-flash", training_file="gs://b/t.jsonl", adapter_size=3)
    with pytest.raises(errors.InvalidRequestError, match="adapter size 3"):
        vertex.create_job(spec)
    assert json.dumps(fake.tune_requests) == "[]"
