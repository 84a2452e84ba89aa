"""Schemathesis against the real local server on loopback, driven by the server's own OpenAPI document.

Every operation gets schema-valid and schema-violating requests (Schemathesis' positive and negative modes). Any
request must get a 2xx, or a 4xx whose body is the documented error (OpenAI's shape; Anthropic's under
/v1/messages); never a 5xx, never a hang (each call has a timeout), and the server must still answer /health
afterwards. Bodies are also checked against the responses the document declares.

The default run is bounded and repeatable (a fixed number of examples per operation and mode, derandomised:
well under two minutes); `pytest --fuzz-long` runs many more, randomised. The trainer is the fast fake and the
chat engine a stand-in, as in the other server tests: nothing here loads a model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from localbackend.server.app import create_app
from localbackend.server.state import ServerConfig
from tests.backend.fake_engine import EchoEngine
from tests.backend.test_server_support import ThreadServer, jsonl, raw
from tests.conftest import MODEL_CACHE

EXAMPLES, LONG_EXAMPLES = 8, 300
CALL_TIMEOUT_S = 30
MAX_UPLOAD = 256 * 1024
# The document the server publishes at /openapi.json; building the app does not start it.
DOCUMENT = create_app(ServerConfig(data_dir=Path("/nonexistent"), cache_dir=MODEL_CACHE)).openapi()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    config = ServerConfig(
        data_dir=tmp_path_factory.mktemp("fuzz"), cache_dir=MODEL_CACHE, max_upload_bytes=MAX_UPLOAD,
        max_body_bytes=MAX_UPLOAD, train_fn="tests.backend.test_server_support:fake_train",
    )  # fmt: skip
    srv = ThreadServer(config, engine=EchoEngine())
    # Something real to find: a file and a finished job, so ids in examples can hit existing objects.
    files = {
        "file": ("seed.jsonl", jsonl([[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]]))
    }
    raw(srv.base_url, "POST", "/v1/files", files=files, data={"purpose": "fine-tune"})
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


def assert_error_shape(label: str, response: Any) -> None:
    """A 4xx carries the error body its API documents."""
    body = json.loads(response.content)
    if " /v1/messages" in label:
        assert body["type"] == "error" and isinstance(body["error"]["message"], str), body
        assert isinstance(body["error"]["type"], str), body
        return
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, body
    assert isinstance(error["message"], str) and error["message"] and isinstance(error["type"], str), body
    assert all(error[key] is None or isinstance(error[key], str) for key in ("param", "code")), body


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_any_request_gets_a_2xx_or_a_documented_4xx(
    label: str, mode: GenerationMode, server: ThreadServer, session: requests.Session, request: pytest.FixtureRequest
) -> None:
    long = bool(request.config.getoption("--fuzz-long"))
    root = server.base_url.removesuffix("/v1")

    @settings(
        max_examples=LONG_EXAMPLES if long else EXAMPLES,
        derandomize=not long,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink] if long else [Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=OPERATIONS[label].as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(base_url=root, session=session, timeout=CALL_TIMEOUT_S)
        assert 200 <= response.status_code < 300 or 400 <= response.status_code < 500, response.text[:500]
        if response.status_code >= 400:
            assert_error_shape(label, response)
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        pytest.skip("no request can violate this operation's schema (its only input is a free-form string)")


# Schemathesis writes every string as valid UTF-8, so it never sends what broke the server in issue 14: a lone
# surrogate escape (`"\\ud800"`) or NUL inside an otherwise valid request. This puts one into a valid body.
JSON_BODY_OPERATIONS = sorted(
    label for label, op in OPERATIONS.items() if any(b.media_type == "application/json" for b in op.body)
)
BAD_TEXT = st.sampled_from(["\ud800", "\udfff", "a\udc80b", "\x00", "x\x00y"])


KEY = object()


def _strings(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths to every string in a JSON document, keys included (a key's path ends with the marker `KEY`)."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, child in value.items():
            yield (*path, KEY, key)
            yield from _strings(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _strings(child, (*path, index))


def _replace(document: Any, path: tuple[Any, ...], bad: str) -> Any:
    if not path:
        return bad
    if path[0] is KEY:
        return {(bad if key == path[1] else key): child for key, child in document.items()}
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[path[0]] = _replace(document[path[0]], path[1:], bad)
    return copy


@pytest.mark.parametrize("label", JSON_BODY_OPERATIONS)
def test_a_lone_surrogate_or_nul_anywhere_in_a_valid_body_is_a_400(
    label: str, server: ThreadServer, session: requests.Session, request: pytest.FixtureRequest
) -> None:
    long = bool(request.config.getoption("--fuzz-long"))
    operation = OPERATIONS[label]
    url = server.base_url.removesuffix("/v1") + operation.path

    @settings(max_examples=LONG_EXAMPLES if long else EXAMPLES, derandomize=not long, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=operation.as_strategy(), bad=BAD_TEXT, data=st.data())
    def run(case: Any, bad: str, data: st.DataObject) -> None:
        places = list(_strings(case.body))
        assume(places)
        place = data.draw(st.sampled_from(places))
        body = _replace(case.body, place, bad)
        # json.dumps writes a lone surrogate as its \\u escape, exactly as a client's JSON would carry it.
        response = session.request(operation.method.upper(), url, data=json.dumps(body), timeout=CALL_TIMEOUT_S,
                                   headers={"content-type": "application/json"})  # fmt: skip
        assert response.status_code == 400, response.text[:500]  # refused at the edge, before any other check
        assert_error_shape(label, response)
        assert "surrogate" in response.text or "NUL" in response.text, response.text[:500]

    run()


def test_the_server_still_answers_after_the_fuzzing(server: ThreadServer) -> None:
    assert raw(server.base_url, "GET", "/health").json() == {"status": "ok"}
    assert raw(server.base_url, "GET", "/v1/models").status_code == 200


def test_the_published_document_describes_errors_as_the_server_sends_them(server: ThreadServer) -> None:
    document = raw(server.base_url, "GET", "/openapi.json").json()
    assert document == json.loads(json.dumps(DOCUMENT))
    for path, operations in document["paths"].items():
        for operation in operations.values():
            assert "422" not in operation["responses"], path
            if path != "/health":
                assert "4XX" in operation["responses"], path
