"""OpenAI adapter specifics on the wire: the create request, job states (pausing/paused/unknown), metrics
events, models with their shutdown_date, deleting a model. Replies are OpenAI's documented JSON shapes,
validated against the SDK's own types before the stub serves them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from providers.base import CLIENT_KEY_LABEL, JobState, TuningSpec
from providers.openai_adapter import OpenAIConfig, OpenAIProvider
from tests.providers.stub_http import Reply, StubServer, stub_server


def _job(status: str = "queued", **extra: Any) -> dict[str, Any]:
    from openai.types.fine_tuning import FineTuningJob

    body = {
        "id": "ftjob-1", "object": "fine_tuning.job", "created_at": 1764000000, "finished_at": None,
        "error": None, "fine_tuned_model": None, "hyperparameters": {"n_epochs": 3}, "model": "gpt-4.1-mini",
        "organization_id": "org-1", "result_files": [], "seed": 7, "status": status, "trained_tokens": None,
        "training_file": "file-t", "validation_file": "file-v",
        "metadata": {"managed-by": "tunedeck", CLIENT_KEY_LABEL: "k-1"}, **extra,
    }  # fmt: skip
    FineTuningJob.model_validate(body)  # the stub only ever answers what the SDK itself accepts
    return body


def _page(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "data": items, "has_more": False}


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with stub_server() as server:
        yield server


@pytest.fixture
def openai_provider(stub: StubServer) -> OpenAIProvider:
    return OpenAIProvider(OpenAIConfig(api_key=SecretStr("sk-t"), base_url=stub.url + "/v1", max_retries=0))


def test_create_sends_supervised_method_and_everything_else(stub: StubServer, openai_provider: OpenAIProvider) -> None:
    stub.replies["GET /v1/fine_tuning/jobs"] = Reply(body=_page([]))
    stub.replies["POST /v1/fine_tuning/jobs"] = Reply(body=_job())
    spec = TuningSpec(base_model="gpt-4.1-mini", training_file="file-t", validation_file="file-v", suffix="desk",
                      n_epochs=3, batch_size="auto", learning_rate_multiplier=0.5, seed=7, client_key="k-1",
                      labels={"team": "support"})  # fmt: skip
    job = openai_provider.create_job(spec)
    lookup, create = stub.requests
    assert "metadata%5Btunedeck-client-key%5D=k-1" in lookup.path  # the idempotency check came first
    body = json.loads(create.body)
    assert body["method"] == {"type": "supervised", "supervised": {"hyperparameters": {
        "n_epochs": 3, "batch_size": "auto", "learning_rate_multiplier": 0.5}}}  # fmt: skip
    assert (body["model"], body["training_file"], body["validation_file"]) == ("gpt-4.1-mini", "file-t", "file-v")
    assert (body["suffix"], body["seed"]) == ("desk", 7)
    assert body["metadata"] == {"team": "support", "managed-by": "tunedeck", CLIENT_KEY_LABEL: "k-1"}
    assert job.status.state is JobState.QUEUED and job.labels[CLIENT_KEY_LABEL] == "k-1"


@pytest.mark.parametrize(
    ("raw", "state"),
    [("validating_files", JobState.VALIDATING), ("pausing", JobState.RUNNING), ("paused", JobState.PAUSED),
     ("succeeded", JobState.SUCCEEDED), ("teleporting", JobState.UNKNOWN)],
)  # fmt: skip
def test_states_keep_the_raw_value(
    stub: StubServer, openai_provider: OpenAIProvider, raw: str, state: JobState
) -> None:
    body = _job()
    body["status"] = raw  # including states newer than this SDK's Literal
    stub.default = Reply(body=body)
    status = openai_provider.get_job("ftjob-1").status
    assert (status.state, status.raw_state) == (state, raw)


def test_metrics_events_and_time_order(stub: StubServer, openai_provider: OpenAIProvider) -> None:
    newest_first = [
        {"id": "ev-3", "object": "fine_tuning.job.event", "created_at": 1764000300, "level": "info",
         "message": "Step 2/2: training loss=0.50", "type": "metrics",
         "data": {"step": 2, "train_loss": 0.5, "valid_loss": 0.7, "train_mean_token_accuracy": 0.8}},
        {"id": "ev-2", "object": "fine_tuning.job.event", "created_at": 1764000200, "level": "info",
         "message": "Step 1/2", "type": "metrics", "data": {"step": 1, "train_loss": 1.5}},
        {"id": "ev-1", "object": "fine_tuning.job.event", "created_at": 1764000100, "level": "info",
         "message": "Validating training file", "type": "message"},
    ]  # fmt: skip
    stub.default = Reply(body=_page(newest_first))
    events = openai_provider.list_events("ftjob-1")
    assert [e.id for e in events] == ["ev-1", "ev-2", "ev-3"]
    assert events[0].metrics is None
    assert events[2].metrics == {"step": 2.0, "train_loss": 0.5, "valid_loss": 0.7, "train_mean_token_accuracy": 0.8}
    assert [e.id for e in openai_provider.list_events("ftjob-1", after="ev-2")] == ["ev-3"]


def test_models_show_their_shutdown_date(stub: StubServer, openai_provider: OpenAIProvider) -> None:
    stub.default = Reply(body=_page([
        {"id": "ft:gpt-4.1-mini:org:desk:abc", "object": "model", "created": 1764000000, "owned_by": "org-1",
         "shutdown_date": "2027-10-14"},
        {"id": "gpt-4.1-mini", "object": "model", "created": 1700000000, "owned_by": "system"},
    ]))  # fmt: skip
    models = {m.id: m for m in openai_provider.list_models()}
    assert models["ft:gpt-4.1-mini:org:desk:abc"].shutdown_date == "2027-10-14"
    assert models["ft:gpt-4.1-mini:org:desk:abc"].fine_tuned
    assert models["gpt-4.1-mini"].shutdown_date is None and not models["gpt-4.1-mini"].fine_tuned


def test_delete_model(stub: StubServer, openai_provider: OpenAIProvider) -> None:
    stub.default = Reply(body={"id": "ft:gpt-4.1-mini:org:desk:abc", "object": "model", "deleted": True})
    openai_provider.delete_model("ft:gpt-4.1-mini:org:desk:abc")
    assert (stub.requests[0].method, stub.requests[0].path) == ("DELETE", "/v1/models/ft:gpt-4.1-mini:org:desk:abc")
