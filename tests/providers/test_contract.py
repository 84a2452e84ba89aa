"""One contract every provider adapter passes, run against real servers on loopback:

- openai: the OpenAI adapter (official SDK) against the local backend's OpenAI-compatible server;
- local: the local adapter against the same server (plus its loaded-model endpoints);
- vertex: the Vertex adapter against fake-gcs-server and the fake Vertex REST server;
- anthropic: the Anthropic adapter (official SDK) against the local backend's /v1/messages.
The local server is the real app (HTTP, job queue, worker processes, chat engine); only training is short.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from providers import errors
from providers.base import (
    CLIENT_KEY_LABEL,
    MANAGED_BY_LABEL,
    Capabilities,
    ChatMessage,
    JobState,
    Provider,
    ProviderJob,
    TuningSpec,
)
from providers.registry import available_providers
from tests.conftest import MODEL_CACHE
from tests.providers.conftest import FakeGCS, free_port
from tests.providers.fake_vertex import FakeVertex, fake_vertex_server
from tests.providers.local_fixtures import SLOW_SEED, ThreadServer

BASE = "smollm2-135m-instruct"
ROWS = [
    json.dumps(
        {"messages": [{"role": "user", "content": f"Ping {i}?"}, {"role": "assistant", "content": f"Pong {i}."}]}
    )
    for i in range(12)
]


@dataclass
class Subject:
    provider: Provider
    base_model: str
    chat_model: str
    finish: Callable[[ProviderJob], None]
    """Drive a created job to success (or wait for it)."""
    unreachable: Provider
    """The same adapter configured at a port nobody listens on."""


def _closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    server = ThreadServer(tmp_path_factory.mktemp("contract-backend"), MODEL_CACHE)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fake_vertex() -> Iterator[FakeVertex]:
    with fake_vertex_server() as server:
        yield server


def _wait_finished(provider: Provider) -> Callable[[ProviderJob], None]:
    def finish(job: ProviderJob) -> None:
        deadline = time.monotonic() + 120
        while not provider.get_job(job.id).status.state.finished:
            assert time.monotonic() < deadline, "job did not finish in 120 s"
            time.sleep(0.1)

    return finish


def _openai_subject(server: ThreadServer) -> Subject:
    from providers.openai_adapter import OpenAIConfig, OpenAIProvider

    def make(url: str) -> Provider:
        return OpenAIProvider(OpenAIConfig(base_url=url, max_retries=0, timeout_s=120))

    provider = make(server.base_url)
    return Subject(provider, BASE, BASE, _wait_finished(provider), make(_closed_port_url() + "/v1"))


def _local_subject(server: ThreadServer) -> Subject:
    from providers.local import LocalConfig, LocalProvider

    def make(url: str) -> Provider:
        return LocalProvider(LocalConfig(data_dir=Path("unused"), cache_dir=MODEL_CACHE, base_url=url, max_retries=0))

    provider = make(server.base_url)
    return Subject(provider, BASE, BASE, _wait_finished(provider), make(_closed_port_url() + "/v1"))


def _anthropic_subject(server: ThreadServer) -> Subject:
    from providers.anthropic_adapter import AnthropicConfig, AnthropicProvider

    def make(url: str) -> Provider:
        return AnthropicProvider(AnthropicConfig(base_url=url, max_retries=0, timeout_s=120))

    # The Anthropic SDK appends /v1/messages to the root URL itself.
    provider = make(server.base_url.removesuffix("/v1"))
    return Subject(provider, "", BASE, lambda job: None, make(_closed_port_url()))


def _vertex_subject(fake: FakeVertex, gcs: FakeGCS) -> Subject:
    from google.genai import types
    from google.oauth2.credentials import Credentials

    from providers.vertex.adapter import VertexProvider
    from providers.vertex.config import VertexConfig

    bucket = f"contract-{uuid.uuid4().hex[:10]}"
    gcs.client().create_bucket(bucket)

    def make(url: str) -> Provider:
        return VertexProvider(VertexConfig(
            project=fake.project, region=fake.location, bucket=bucket, api_endpoint=url,
            storage_endpoint=gcs.url, credentials=Credentials(token="test-token"), max_retries=0, timeout_s=10,
        ))  # fmt: skip

    def finish(job: ProviderJob) -> None:
        endpoint = f"{fake.parent}/endpoints/{fake.new_id()}"
        now = datetime.now(UTC)
        checkpoint = types.TunedModelCheckpoint(checkpoint_id="1", epoch=1, step=4, endpoint=endpoint)
        fake.set_job(job.id, state="JOB_STATE_SUCCEEDED", start_time=now, end_time=now,
                     tuned_model=types.TunedModel(model=f"{fake.parent}/models/9", endpoint=endpoint,
                                                  checkpoints=[checkpoint]))  # fmt: skip

    return Subject(make(fake.url), "gemini-2.5-flash", f"{fake.parent}/endpoints/1", finish, make(_closed_port_url()))


@pytest.fixture(params=["openai", "local", "vertex", "anthropic"])
def subject(request: pytest.FixtureRequest) -> Subject:
    if request.param == "vertex":
        return _vertex_subject(request.getfixturevalue("fake_vertex"), request.getfixturevalue("fake_gcs"))
    server = request.getfixturevalue("local_server")
    return {"openai": _openai_subject, "local": _local_subject, "anthropic": _anthropic_subject}[request.param](server)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    return path


def _spec(subject: Subject, file_id: str, **extra: Any) -> TuningSpec:
    return TuningSpec(base_model=subject.base_model, training_file=file_id, suffix="contract", n_epochs=1,
                      client_key=str(uuid.uuid4()), labels={"purpose": "contract"}, **extra)  # fmt: skip


def test_declares_itself_with_capabilities_as_data(subject: Subject) -> None:
    provider = subject.provider
    assert isinstance(provider, Provider)
    assert provider.name in available_providers()
    assert isinstance(provider.capabilities, Capabilities)


def test_fine_tuning_round_trip(subject: Subject, dataset: Path) -> None:
    provider = subject.provider
    if not provider.capabilities.fine_tuning:
        with pytest.raises(errors.NotSupportedError):
            provider.create_job(_spec(subject, "file-x"))
        with pytest.raises(errors.NotSupportedError):
            provider.upload_dataset(dataset)
        return
    file_id = provider.upload_dataset(dataset)
    spec = _spec(subject, file_id)
    job = provider.create_job(spec)
    assert job.provider == provider.name and job.id
    assert job.status.state not in (JobState.UNKNOWN, JobState.FAILED) and job.status.raw_state
    assert job.labels[MANAGED_BY_LABEL] == "tunedeck" and job.labels[CLIENT_KEY_LABEL] == spec.client_key

    assert provider.create_job(spec).id == job.id  # the same client_key never submits twice
    assert [j.id for j in provider.find_jobs_by_client_key(spec.client_key)] == [job.id]
    assert provider.find_jobs_by_client_key(str(uuid.uuid4())) == []
    assert job.id in {j.id for j in provider.list_jobs()}

    subject.finish(job)
    done = provider.get_job(job.id)
    assert done.status.state is JobState.SUCCEEDED and done.fine_tuned_model
    if provider.capabilities.checkpoints:
        steps = [c.step for c in provider.list_checkpoints(job.id)]
        assert steps and steps == sorted(steps)
    events = provider.list_events(job.id)
    assert events and [e.created_at for e in events] == sorted(e.created_at for e in events)
    assert provider.list_events(job.id, after=events[-1].id) == []


def test_cancel_reaches_a_cancelled_state(subject: Subject, dataset: Path) -> None:
    provider = subject.provider
    if not provider.capabilities.fine_tuning:
        with pytest.raises(errors.NotSupportedError):
            provider.cancel_job("job-1")
        return
    job = provider.create_job(_spec(subject, provider.upload_dataset(dataset), seed=SLOW_SEED))
    provider.cancel_job(job.id)
    deadline = time.monotonic() + 60
    while (state := provider.get_job(job.id).status.state) is not JobState.CANCELLED:
        assert not state.finished, f"cancelled job ended {state}"
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_a_missing_job_is_not_found(subject: Subject) -> None:
    if not subject.provider.capabilities.fine_tuning:
        with pytest.raises(errors.NotSupportedError):
            subject.provider.get_job("ftjob-does-not-exist")
        return
    missing = "ftjob-does-not-exist"
    if subject.provider.name == "vertex":
        missing = "projects/tunedeck-test/locations/us-central1/tuningJobs/1"
    with pytest.raises(errors.NotFoundError):
        subject.provider.get_job(missing)


def test_chat_streams_text_then_a_final_chunk(subject: Subject) -> None:
    provider = subject.provider
    assert provider.capabilities.chat and provider.capabilities.streaming
    chunks = list(provider.chat(subject.chat_model, [ChatMessage("system", "Answer briefly."),
                                                     ChatMessage("user", "Say hello.")], max_tokens=8))  # fmt: skip
    assert "".join(c.text for c in chunks).strip()
    last = chunks[-1]
    assert last.finish_reason in {"stop", "length"}
    # prompt_tokens: reported, not necessarily right: the local /v1/messages stream currently says 0 input
    # tokens in message_start (its first engine chunk carries no count), which the Anthropic SDK passes on.
    assert last.prompt_tokens is not None
    assert last.completion_tokens and last.completion_tokens <= 8
    assert all(c.finish_reason is None for c in chunks[:-1])


def test_endpoints_say_what_bills_by_the_hour(subject: Subject) -> None:
    provider = subject.provider
    found = provider.list_endpoints()
    for endpoint in found:
        assert endpoint.provider == provider.name and endpoint.note
        if not provider.capabilities.hourly_endpoints:
            assert endpoint.hourly_rate_usd in (0.0, None)
    if provider.name == "local":
        assert BASE in {e.id for e in found}  # loaded by the chat test through this same server
        provider.teardown_endpoint(BASE)
        assert BASE not in {e.id for e in provider.list_endpoints()}
    elif not found and not provider.capabilities.hourly_endpoints:
        with pytest.raises(errors.NotSupportedError):
            provider.teardown_endpoint("anything")


def test_unreachable_is_unavailable_not_failed(subject: Subject) -> None:
    provider = subject.unreachable
    with pytest.raises(errors.UnavailableError) as caught:
        if provider.capabilities.fine_tuning:
            provider.list_jobs()
        else:
            list(provider.chat(subject.chat_model, [ChatMessage("user", "hi")]))
    assert caught.value.exit_code == 3
