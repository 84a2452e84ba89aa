"""Chat with a tuned open model deployed on a dedicated Vertex endpoint: `endpoints.predict` with the vLLM
container's chat-completions instances (providers/vertex/open_chat.py), against the strict stand-in — through the
adapter (by endpoint, by serving copy and by the weights folder `models list` shows), and end to end through
`tunedeck endpoints test` and `tunedeck chat --model`. A tuned Gemini model still goes through google-genai."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from providers import errors
from providers.base import MANAGED_BY_LABEL, ChatMessage, DeploySpec
from providers.vertex import open_models
from providers.vertex.adapter import VertexProvider
from tests.cli.test_jobs_cli import run
from tests.providers.fake_vertex import FakeVertex, fake_vertex_server
from tests.providers.vertex_support import vertex_config
from tunedeck.exitcodes import ExitCode
from tunedeck.workspace import Workspace

LLAMA = "meta/llama3_1@llama-3.1-8b-instruct"


@pytest.fixture
def fake() -> Iterator[FakeVertex]:
    with fake_vertex_server() as server:
        yield server


@pytest.fixture
def vertex(fake: FakeVertex) -> VertexProvider:
    return VertexProvider(vertex_config(fake.url))


def deployed(fake: FakeVertex, vertex: VertexProvider, key: str = "tdk-chat") -> tuple[str, str]:
    """(weights folder, endpoint) of an open model tuned and deployed through the adapter."""
    output = f"gs://b/tunedeck/tuned-models/{key}"
    fake.add_job(base_model=LLAMA, output_uri=output, labels={MANAGED_BY_LABEL: "tunedeck"})
    weights = f"{output}/{open_models.ARTIFACT_SUFFIX}"
    deployment = vertex.deploy_model(vertex.plan_deployment(DeploySpec(weights, deploy_key=key)))
    return weights, deployment.endpoint_id


def test_a_deployed_open_model_answers_through_predict_in_the_chat_format(
    fake: FakeVertex, vertex: VertexProvider
) -> None:
    weights, endpoint = deployed(fake, vertex)
    fresh = VertexProvider(vertex_config(fake.url))  # no cached look-up: found from the weights folder alone
    messages = [ChatMessage("system", "Be brief."), ChatMessage("user", "Say hi")]
    chunks = list(fresh.chat(weights, messages, max_tokens=16, temperature=0.2))
    assert "".join(c.text for c in chunks) == "Tuned hello"
    assert (chunks[-1].finish_reason, chunks[-1].prompt_tokens, chunks[-1].completion_tokens) == ("stop", 4, 2)
    (body,) = fake.predict_requests
    assert body == {
        "instances": [
            {
                "@requestFormat": "chatCompletions",
                "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi"}],
                "max_tokens": 16,
                "temperature": 0.2,
            }
        ]
    }
    assert fake.auth_headers[-1] == "Bearer test-token"
    for name in (endpoint, f"{fake.parent}/models/tdk-chat", f"{fake.parent}/models/tdk-chat@1"):
        assert "".join(c.text for c in vertex.chat(name, [ChatMessage("user", "hi")])) == "Tuned hello", name
    assert len(fake.predict_requests) == 4


def test_weights_that_nothing_serves_say_to_deploy_them(fake: FakeVertex, vertex: VertexProvider) -> None:
    with pytest.raises(errors.NotFoundError, match="not deployed") as caught:
        list(vertex.chat("gs://b/tunedeck/tuned-models/tdk-x/postprocess/node-0/checkpoints/final", []))
    assert "tunedeck endpoints deploy gs://b/" in caught.value.hint and fake.predict_requests == []


def test_a_tuned_gemini_model_still_streams_through_google_genai(fake: FakeVertex, vertex: VertexProvider) -> None:
    from google.cloud import aiplatform_v1 as v1

    # A tuned Gemini model's endpoint: its model is served per token (no dedicated resources).
    endpoint = fake.add_endpoint(
        v1.Endpoint(
            name=f"{fake.parent}/endpoints/555",
            deployed_models=[v1.DeployedModel(id="1", model=f"{fake.parent}/models/5@1")],
        )
    )
    chunks = list(vertex.chat(endpoint, [ChatMessage("user", "Hi")]))
    assert "".join(c.text for c in chunks) == "Tuned hello" and fake.predict_requests == []
    assert "".join(c.text for c in vertex.chat("gemini-2.5-flash", [ChatMessage("user", "Hi")])) == "Tuned hello"
    assert fake.predict_requests == []


def test_the_stand_in_refuses_what_vertex_refuses(fake: FakeVertex, vertex: VertexProvider) -> None:
    _, endpoint = deployed(fake, vertex)
    url = f"{fake.url}/v1/{endpoint}:predict"
    good = {"@requestFormat": "chatCompletions", "messages": [{"role": "user", "content": "hi"}]}
    refused = [
        {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},  # Gemini's body
        {"instances": [{"messages": [{"role": "user", "content": "hi"}]}]},  # no request format
        {"instances": [{**good, "max_tokens": 0}]},
        {"instances": [{**good, "messages": [{"role": "model", "content": "hi"}]}]},
        {"instances": [good], "parameters": {"stream": True}},
    ]
    for body in refused:
        answer = httpx.post(url, json=body)
        assert answer.status_code == 400 and answer.json()["error"]["status"] == "INVALID_ARGUMENT", body
    missing = f"{fake.url}/v1/{fake.parent}/endpoints/nope:predict"
    assert httpx.post(missing, json={"instances": [good]}).status_code == 404
    assert httpx.post(url, json={"instances": [good]}).status_code == 200
    assert fake.predict_requests == [{"instances": [good]}]


def test_an_endpoint_with_nothing_deployed_is_a_clear_error(fake: FakeVertex, vertex: VertexProvider) -> None:
    from google.cloud import aiplatform_v1 as v1

    _, endpoint = deployed(fake, vertex)
    target = fake.endpoints[endpoint]
    list(vertex.chat(endpoint, [ChatMessage("user", "hi")]))  # found and cached while deployed
    fake.endpoints[endpoint] = v1.Endpoint(name=target.name, labels=dict(target.labels))
    with pytest.raises(errors.InvalidRequestError, match="no deployed model"):
        list(vertex.chat(endpoint, [ChatMessage("user", "hi")]))


@pytest.fixture
def cli_fake(fake: FakeVertex, monkeypatch: pytest.MonkeyPatch, isolated_home: Path) -> FakeVertex:
    config = isolated_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[vertex]\nproject = "tunedeck-test"\n')
    vertex = VertexProvider(vertex_config(fake.url))

    def factory(name: str) -> VertexProvider:
        if name != "vertex":
            raise errors.ConfigurationError(f"{name} is not set up in this test.", provider=name)
        return vertex

    monkeypatch.setattr("tunedeck.cli.context._open_default", lambda: Workspace.open(provider_factory=factory))
    return fake


def test_endpoints_test_and_chat_reach_a_model_deployed_with_the_cli(cli_fake: FakeVertex) -> None:
    fake = cli_fake
    output = "gs://b/tunedeck/tuned-models/tdk-e2e"
    fake.add_job(base_model=LLAMA, output_uri=output, labels={MANAGED_BY_LABEL: "tunedeck"})
    weights = f"{output}/{open_models.ARTIFACT_SUFFIX}"
    code, out, err = run("endpoints", "deploy", weights, "--provider", "vertex", "--yes", "--json")
    assert code == ExitCode.OK, err
    endpoint = json.loads(out)["endpoint_id"]

    code, out, err = run("endpoints", "test", endpoint, "--provider", "vertex", "--json")
    assert code == ExitCode.OK, err
    assert json.loads(out)["reply"] == "Tuned hello"

    code, out, err = run("chat", "--model", weights, "--provider", "vertex", "--message", "How do I reset?")
    assert code == ExitCode.OK, err
    assert out.strip() == "Tuned hello"
    assert [b["instances"][0]["messages"][-1]["content"] for b in fake.predict_requests] == [
        "Say hello in five words.",
        "How do I reset?",
    ]
