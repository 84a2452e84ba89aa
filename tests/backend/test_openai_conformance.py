"""Every body the local server sends on its OpenAI routes validates against OpenAI's own published schemas.

The schemas are test data: `openai-openapi-2.3.0.schemas.json` holds the part of `openapi.json` (version 2.3.0,
github.com/openai/openai-openapi, commit and roots recorded in its `_source`) that these endpoints answer with.
The document is OpenAPI 3.1 but still writes 3.0's `nullable: true` and boolean `exclusiveMinimum` in places;
`_to_json_schema` rewrites those two into JSON Schema 2020-12 before validating. Strictly typed clients generated
from the spec fail on a `null` where it says integer or number, so nothing here tolerates one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from localbackend.basemodel import BASE_MODEL_ID
from localbackend.server.state import ServerConfig
from tests.backend.fake_engine import EXPLODE, EchoEngine
from tests.backend.test_server_support import ThreadServer, jsonl, openai_client, raw, wait_until
from tests.conftest import MODEL_CACHE

SPEC_FILE = Path(__file__).with_name("openai-openapi-2.3.0.schemas.json")
SPEC_URI = "urn:openai-openapi:2.3.0"
GOOD = [[{"role": "user", "content": f"Q{i}?"}, {"role": "assistant", "content": f"A{i}."}] for i in range(4)]


def trainer_like_train(request: Any, emit: Any, should_stop: Any) -> dict[str, Any]:
    """The fake trainer's run, but its checkpoint carries the real trainer's metrics: the last step's, with
    `valid_loss: None` when there is no validation file (what made checkpoints fail the spec)."""
    from tests.backend.test_server_support import fake_train

    last: dict[str, Any] = {}

    def relay(event: dict[str, Any]) -> None:
        if event["type"] == "metrics":
            last.update({key: value for key, value in event.items() if key != "type"})
            if request.validation is not None:
                last.update(valid_loss=1.5, valid_mean_token_accuracy=0.5)
        elif event["type"] == "checkpoint":
            event = {**event, "metrics": dict(last)}
        emit(event)

    return fake_train(request, relay, should_stop)


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 leftovers → JSON Schema 2020-12: `nullable: true` adds null; a boolean `exclusiveMinimum`
    (or Maximum) turns its `minimum` (`maximum`) exclusive."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _to_json_schema(value) for key, value in node.items()}
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), bool) and node.pop(bound) and limit in node:
            node[bound] = node.pop(limit)
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    document = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    assert document["_source"]["version"] == "2.3.0"
    return {"components": _to_json_schema(document["components"])}


@pytest.fixture(scope="module")
def check(spec: dict[str, Any]) -> Any:
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, Resource(spec, specification=DRAFT202012))

    def validate(body: Any, schema_name: str) -> None:
        validator = Draft202012Validator({"$ref": f"{SPEC_URI}#/components/schemas/{schema_name}"}, registry=registry)
        problems = [
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(body)
        ]
        assert not problems, f"{schema_name} does not validate:\n" + "\n".join(problems) + f"\n{json.dumps(body)}"

    return validate


def test_the_3_0_leftovers_are_rewritten() -> None:
    converted = _to_json_schema({"type": "number", "minimum": 0, "exclusiveMinimum": True, "nullable": True})
    assert converted == {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "null"}]}
    assert _to_json_schema({"type": "string", "nullable": False}) == {"type": "string"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    config = ServerConfig(
        data_dir=tmp_path_factory.mktemp("conformance"), cache_dir=MODEL_CACHE,
        train_fn="tests.backend.test_openai_conformance:trainer_like_train",
    )  # fmt: skip
    srv = ThreadServer(config, engine=EchoEngine())
    yield srv
    srv.stop()


def call(server: ThreadServer, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
    response = raw(server.base_url, method, path, **kwargs)
    assert response.status_code == status, response.text
    return response.json()


def upload(server: ThreadServer, name: str) -> dict[str, Any]:
    files = {"file": (name, jsonl(GOOD))}
    return dict(call(server, "POST", "/v1/files", files=files, data={"purpose": "fine-tune"}))


def finished(server: ThreadServer, job_id: str) -> dict[str, Any]:
    def done() -> Any:
        job = call(server, "GET", f"/v1/fine_tuning/jobs/{job_id}")
        return job if job["status"] in {"succeeded", "failed", "cancelled"} else None

    return dict(wait_until(done, 60, f"{job_id} to finish"))


def test_file_bodies(server: ThreadServer, check: Any) -> None:
    created = upload(server, "conform.jsonl")
    check(created, "OpenAIFile")
    assert "expires_at" not in created and "status_details" not in created  # optional and not nullable: omitted
    check(call(server, "GET", f"/v1/files/{created['id']}"), "OpenAIFile")
    check(call(server, "GET", "/v1/files"), "ListFilesResponse")
    check(call(server, "GET", "/v1/files?purpose=batch"), "ListFilesResponse")  # an empty page
    check(call(server, "DELETE", f"/v1/files/{created['id']}"), "DeleteFileResponse")


def test_job_event_checkpoint_and_model_bodies(server: ThreadServer, check: Any) -> None:
    training, validation = upload(server, "t.jsonl")["id"], upload(server, "v.jsonl")["id"]
    plain = call(server, "POST", "/v1/fine_tuning/jobs", json={"model": BASE_MODEL_ID, "training_file": training})
    check(plain, "FineTuningJob")
    body = {"model": BASE_MODEL_ID, "training_file": training, "validation_file": validation, "suffix": "conf",
            "metadata": {"team": "qa"}, "method": {"type": "supervised", "supervised": {"hyperparameters": {
                "n_epochs": 2, "batch_size": 1, "learning_rate_multiplier": 0.5, "lora_rank": 4}}}}  # fmt: skip
    validated = call(server, "POST", "/v1/fine_tuning/jobs", json=body)
    check(validated, "FineTuningJob")
    failing = call(server, "POST", "/v1/fine_tuning/jobs", json={"model": BASE_MODEL_ID, "training_file": training,
                                                                 "seed": 777})  # fmt: skip
    for job in (plain, validated, failing):
        final = finished(server, job["id"])
        check(final, "FineTuningJob")
        check(call(server, "GET", f"/v1/fine_tuning/jobs/{job['id']}/events?limit=100"),
              "ListFineTuningJobEventsResponse")  # fmt: skip
        checkpoints = call(server, "GET", f"/v1/fine_tuning/jobs/{job['id']}/checkpoints")
        check(checkpoints, "ListFineTuningJobCheckpointsResponse")
        for checkpoint in checkpoints["data"]:
            assert None not in checkpoint["metrics"].values(), checkpoint  # absent metrics are omitted
    assert finished(server, failing["id"])["error"]["code"] == "training_failed"
    check(call(server, "GET", "/v1/fine_tuning/jobs?limit=100"), "ListPaginatedFineTuningJobsResponse")
    check(call(server, "GET", "/v1/fine_tuning/jobs?metadata[team]=qa"), "ListPaginatedFineTuningJobsResponse")

    queued = call(server, "POST", "/v1/fine_tuning/jobs", json={"model": BASE_MODEL_ID, "training_file": training})
    check(call(server, "POST", f"/v1/fine_tuning/jobs/{queued['id']}/cancel"), "FineTuningJob")

    models = call(server, "GET", "/v1/models")
    check(models, "ListModelsResponse")
    model_id = finished(server, plain["id"])["fine_tuned_model"]
    for name in (BASE_MODEL_ID, model_id):
        check(call(server, "GET", f"/v1/models/{name}"), "Model")
    check(call(server, "DELETE", f"/v1/models/{model_id}"), "DeleteModelResponse")


def test_chat_bodies_and_stream_chunks(server: ThreadServer, check: Any) -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "say three words"}]
    reply = call(server, "POST", "/v1/chat/completions", json={"model": BASE_MODEL_ID, "messages": messages})
    check(reply, "CreateChatCompletionResponse")
    for options in ({}, {"stream_options": {"include_usage": True}}, {"max_tokens": 1, "stop": ["three"]}):
        body = {"model": BASE_MODEL_ID, "messages": messages, "stream": True, **options}
        with httpx.stream("POST", server.base_url + "/chat/completions", json=body, timeout=60) as response:
            assert response.status_code == 200
            lines = [line for line in response.iter_lines() if line.startswith("data: ")]
        assert lines[-1] == "data: [DONE]"
        chunks = [json.loads(line[6:]) for line in lines[:-1]]
        assert len(chunks) >= 2
        for chunk in chunks:
            check(chunk, "CreateChatCompletionStreamResponse")


def test_an_error_in_the_middle_of_a_stream_is_an_error_body(server: ThreadServer, check: Any) -> None:
    body = {"model": BASE_MODEL_ID, "messages": [{"role": "user", "content": EXPLODE}], "stream": True}
    with httpx.stream("POST", server.base_url + "/chat/completions", json=body, timeout=60) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    check(json.loads(lines[-1][6:]), "ErrorResponse")
    check(json.loads(lines[0][6:]), "CreateChatCompletionStreamResponse")


def test_error_bodies(server: ThreadServer, check: Any, tmp_path: Path) -> None:
    cases = [
        ("POST", "/v1/chat/completions", 400, {"content": b"{oops", "headers": {"content-type": "application/json"}}),
        ("POST", "/v1/chat/completions", 400, {"json": {"model": BASE_MODEL_ID, "messages": []}}),
        ("POST", "/v1/chat/completions", 404, {"json": {"model": "nope", "messages": [{"role": "user"}]}}),
        ("POST", "/v1/fine_tuning/jobs", 400, {"json": {"model": BASE_MODEL_ID, "training_file": "file-nope"}}),
        ("GET", "/v1/fine_tuning/jobs/ftjob-nope", 404, {}),
        ("GET", "/v1/files?limit=0", 400, {}),
        ("GET", "/v1/nothing", 404, {}),
        ("PUT", "/v1/models", 405, {}),
        ("POST", "/v1/chat/completions", 413, {"content": b"x" * (9 * 2**20)}),
    ]  # fmt: skip
    for method, path, status, kwargs in cases:
        check(call(server, method, path, status, **kwargs), "ErrorResponse")
    keyed = ThreadServer(ServerConfig(data_dir=tmp_path / "keyed", cache_dir=MODEL_CACHE, api_key="k"))
    try:
        check(call(keyed, "GET", "/v1/models", 401), "ErrorResponse")
        assert openai_client(keyed.base_url, api_key="k").models.list().data
    finally:
        keyed.stop()
