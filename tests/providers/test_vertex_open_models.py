"""Open-model tuning on Vertex through the adapter: the dataset converted to the chat format open-model tuning
reads (on the real fake-gcs-server), the request Vertex documents (mode, learning rate, batch size, output in
the stack's bucket), then states, the tuned weights and checkpoints, against the strict loopback stand-in."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from providers import errors
from providers.base import JobState, TuningSpec
from providers.vertex import open_models
from providers.vertex.adapter import VertexProvider
from providers.vertex.gcs import upload_dataset
from tests.providers.conftest import FakeGCS
from tests.providers.fake_vertex import FakeVertex, fake_vertex_server
from tests.providers.vertex_support import vertex_config

LLAMA = "meta/llama3_1@llama-3.1-8b-instruct"
ROWS = [
    {
        "systemInstruction": {"parts": [{"text": "You are Byte from IT."}]},
        "contents": [
            {"role": "user", "parts": [{"text": f"Printer {i} is jammed"}]},
            {"role": "model", "parts": [{"text": "Happy to help! Open tray 2."}]},
        ],
    }
    for i in range(5)
]


@pytest.fixture
def fake() -> Iterator[FakeVertex]:
    with fake_vertex_server() as server:
        yield server


@pytest.fixture
def bucket(fake_gcs: FakeGCS) -> str:
    name = f"tunedeck-{uuid.uuid4().hex[:12]}"
    fake_gcs.client().create_bucket(name)
    return name


@pytest.fixture
def vertex(fake: FakeVertex, fake_gcs: FakeGCS, bucket: str) -> VertexProvider:
    return VertexProvider(vertex_config(fake.url, bucket=bucket, storage_endpoint=fake_gcs.url))


def _vertex_file(tmp_path: Path, vertex: VertexProvider) -> str:
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
    return vertex.upload_dataset(path)


def _read(fake_gcs: FakeGCS, uri: str) -> list[dict[str, object]]:
    bucket, _, name = uri.removeprefix("gs://").partition("/")
    text = fake_gcs.client().bucket(bucket).blob(name).download_as_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_an_open_model_job_gets_chat_data_and_the_documented_open_model_fields(
    vertex: VertexProvider, fake: FakeVertex, fake_gcs: FakeGCS, bucket: str, tmp_path: Path
) -> None:
    training = _vertex_file(tmp_path, vertex)
    spec = TuningSpec(
        base_model=LLAMA,
        training_file=training,
        n_epochs=2,
        batch_size=8,
        learning_rate_multiplier=0.5,
        adapter_size=16,
        client_key="tdk-open-1",
        suffix="byte",
    )
    job = vertex.create_job(spec)
    assert job.status.state is JobState.QUEUED
    (body,) = fake.tune_requests
    assert body["baseModel"] == LLAMA
    assert body["outputUri"] == f"gs://{bucket}/tunedeck/tuned-models/tdk-open-1"
    tuned = body["supervisedTuningSpec"]
    assert tuned["tuningMode"] == "TUNING_MODE_PEFT_ADAPTER"
    # Open models take an absolute learning rate: the documented starting rate (2e-4) scaled by the multiplier.
    assert tuned["hyperParameters"] == {
        "epochCount": 2,
        "learningRate": pytest.approx(1e-4),
        "batchSize": 8,
        "adapterSize": "ADAPTER_SIZE_SIXTEEN",
    }
    converted = tuned["trainingDatasetUri"]
    assert converted != training and converted.endswith("/train.messages.jsonl")
    first = _read(fake_gcs, converted)[0]
    assert first["messages"] == [
        {"role": "system", "content": "You are Byte from IT."},
        {"role": "user", "content": "Printer 0 is jammed"},
        {"role": "assistant", "content": "Happy to help! Open tray 2."},
    ]


def test_chat_format_data_is_used_as_uploaded(vertex: VertexProvider, fake: FakeVertex, tmp_path: Path) -> None:
    path = tmp_path / "chat.jsonl"
    path.write_text(
        json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})
    )
    uri = vertex.upload_dataset(path)
    vertex.create_job(TuningSpec(base_model="qwen/qwen3@qwen3-8b", training_file=uri, client_key="tdk-open-2"))
    tuned = fake.tune_requests[0]["supervisedTuningSpec"]
    assert tuned["trainingDatasetUri"] == uri
    assert tuned["tuningMode"] == "TUNING_MODE_FULL"  # Qwen 3 8B is full-only on Vertex
    assert tuned["hyperParameters"]["learningRate"] == pytest.approx(5e-5)


def test_open_model_job_states_weights_and_checkpoints(
    vertex: VertexProvider, fake: FakeVertex, tmp_path: Path
) -> None:
    from google.genai import types

    training = _vertex_file(tmp_path, vertex)
    job = vertex.create_job(TuningSpec(base_model=LLAMA, training_file=training, client_key="tdk-open-3"))
    fake.set_job(job.id, state="JOB_STATE_RUNNING", tuning_job_state="TUNING_JOB_STATE_TUNING")
    assert vertex.get_job(job.id).status.state is JobState.RUNNING
    fake.set_job(
        job.id,
        state="JOB_STATE_SUCCEEDED",
        start_time=datetime(2026, 11, 25, 10, tzinfo=UTC),
        end_time=datetime(2026, 11, 25, 12, tzinfo=UTC),
        tuned_model=types.TunedModel(
            checkpoints=[types.TunedModelCheckpoint(checkpoint_id="1", epoch=1, step=40)],
        ),
        tuning_data_stats=types.TuningDataStats(
            supervised_tuning_data_stats=types.SupervisedTuningDataStats(
                tuning_dataset_example_count=5, tuning_step_count=40, total_billable_token_count=1200
            )
        ),
    )
    done = vertex.get_job(job.id)
    weights = f"{fake.jobs[job.id].output_uri}/{open_models.ARTIFACT_SUFFIX}"
    assert done.status.state is JobState.SUCCEEDED and done.fine_tuned_model == weights
    assert done.trained_tokens == 1200
    assert [(c.id, c.step) for c in vertex.list_checkpoints(job.id)] == [("1", 40)]
    dataset = [e for e in vertex.list_events(job.id) if e.metrics]
    assert dataset[0].metrics == {"examples": 5.0, "steps": 40.0, "billable_tokens": 1200.0}
    (model,) = vertex.list_models()
    assert (model.id, model.base_model, model.job_id) == (weights, LLAMA, job.id)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"base_model": "qwen/qwen3@qwen3-8b", "tuning_mode": "lora"}, "only with full"),
        ({"base_model": "qwen/qwen3@qwen3-8b", "adapter_size": 8}, "only with full"),
        ({"base_model": "meta/llama3_1@llama-9-unknown"}, "as of"),
        ({"base_model": "gemini-2.5-flash", "batch_size": 8}, "batch size"),
        ({"base_model": "gemini-2.5-flash", "tuning_mode": "full"}, "parameter-efficient only"),
        ({"base_model": "google/gemma4@gemma-4-e2b-it", "learning_rate_multiplier": 2.0}, "nothing to scale"),
    ],
)
def test_what_vertex_would_refuse_is_refused_before_any_request(
    vertex: VertexProvider, fake: FakeVertex, changes: dict[str, object], message: str
) -> None:
    spec = dataclasses.replace(TuningSpec(base_model=LLAMA, training_file="gs://b/chat.jsonl"), **changes)  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidRequestError, match=message):
        vertex.create_job(spec)
    assert fake.tune_requests == []


def test_open_models_need_a_supported_region(fake: FakeVertex) -> None:
    provider = VertexProvider(vertex_config(fake.url, region="southamerica-east1"))
    with pytest.raises(errors.InvalidRequestError, match="global"):
        provider.create_job(TuningSpec(base_model=LLAMA, training_file="http://not-gcs/train.jsonl"))


def test_the_open_model_list_is_dated_sourced_and_extensible() -> None:
    assert open_models.as_of() and open_models.source().startswith("https://")
    shipped = open_models.supported()
    assert shipped[LLAMA].modes == ("lora", "full") and shipped[LLAMA].serving is not None
    added = open_models.supported({"acme/tiny@tiny-1b": {"name": "Tiny", "modes": ["full"]}})
    assert added["acme/tiny@tiny-1b"].modes == ("full",) and LLAMA in added
    assert open_models.serving_container().image_uri.startswith("us-docker.pkg.dev/vertex-ai/")


def test_upload_dataset_round_trip_is_unchanged(vertex: VertexProvider, tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n")
    assert upload_dataset(vertex.config, path) == vertex.upload_dataset(path)


def test_every_default_serving_machine_is_priced_or_listed_as_unpriced() -> None:
    # The rate shown before deploying comes from endpoint_rates.toml; a default machine it cannot price must be
    # in its `unpriced` list, so the gap is deliberate and the plan says "unknown" rather than guessing.
    import tomllib
    from importlib import resources

    from tunedeck.costs.endpoint_rates import vertex_node_rate

    table = tomllib.loads(resources.files("tunedeck.costs").joinpath("endpoint_rates.toml").read_text())
    unpriced = set(table["unpriced"]["machine_types"]) | set(table["unpriced"]["accelerators"])
    for model in open_models.supported().values():
        assert model.serving is not None, model.id
        serving = model.serving
        rate = vertex_node_rate(serving.machine_type, serving.accelerator_type, serving.accelerator_count)
        if rate is None:
            assert {serving.machine_type, serving.accelerator_type} & unpriced, model.id
    for name in table["unpriced"]["machine_types"]:
        assert vertex_node_rate(name) is None
