"""A fine-tuning create is sent once (issue 14, item 0, OpenAI half): the SDK's own retries are off for it, so a
create the server accepted but answered late never becomes a second paid job; tunedeck's reconcile finds the
first one instead. A 403 on the create call itself is explained as OpenAI's fine-tuning wind-down."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from pydantic import SecretStr

from providers import errors
from providers.base import CLIENT_KEY_LABEL, TuningSpec
from providers.openai_adapter import OpenAIConfig, OpenAIProvider
from tests.providers.stub_http import serve_on_loopback

SLOW_S = 1.5
"""How late the stand-in answers a create: well past the client's timeout below."""
CLIENT_TIMEOUT_S = 0.5


@dataclass
class StandIn:
    """OpenAI's fine-tuning endpoints, with a create that is accepted at once but answered late (or refused)."""

    url: str = ""
    jobs: list[dict[str, Any]] = field(default_factory=list)
    creates: int = 0
    refuse_create: tuple[int, dict[str, Any]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def _job(number: int, metadata: dict[str, str]) -> dict[str, Any]:
    return {
        "id": f"ftjob-{number}", "object": "fine_tuning.job", "created_at": 1764000000 + number,
        "finished_at": None, "error": None, "fine_tuned_model": None, "hyperparameters": {"n_epochs": 1},
        "model": "gpt-4.1-mini", "organization_id": "org-1", "result_files": [], "seed": 1,
        "status": "queued", "trained_tokens": None, "training_file": "file-t", "validation_file": None,
        "metadata": metadata,
    }  # fmt: skip


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    state = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: Any) -> None:
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up waiting: exactly the case under test

        def do_GET(self) -> None:
            url = urlparse(self.path)
            wanted = parse_qs(url.query).get(f"metadata[{CLIENT_KEY_LABEL}]")
            with state.lock:
                found = [j for j in state.jobs if not wanted or j["metadata"].get(CLIENT_KEY_LABEL) == wanted[0]]
            self._send(200, {"object": "list", "data": found, "has_more": False})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
            with state.lock:
                state.creates += 1
                refusal = state.refuse_create
                if refusal is None:
                    job = _job(len(state.jobs) + 1, body.get("metadata") or {})
                    state.jobs.append(job)  # accepted and stored: it will run, and bill, whatever happens next
            if refusal is not None:
                self._send(*refusal)
                return
            time.sleep(SLOW_S)
            self._send(200, job)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve_on_loopback(Handler) as url:
        state.url = url
        yield state


def _provider(stand_in: StandIn, **config: Any) -> OpenAIProvider:
    # max_retries=2 is the SDK's default and tunedeck's: the create call must ignore it.
    settings = {"api_key": SecretStr("sk-test"), "base_url": stand_in.url + "/v1", "max_retries": 2}
    return OpenAIProvider(OpenAIConfig(**{**settings, "timeout_s": CLIENT_TIMEOUT_S, **config}))


SPEC = TuningSpec(base_model="gpt-4.1-mini", training_file="file-t", n_epochs=1, client_key="td-key-1")


def test_a_create_answered_late_is_sent_once_and_reconciled(stand_in: StandIn) -> None:
    provider = _provider(stand_in)
    with pytest.raises(errors.UnavailableError) as caught:
        provider.create_job(SPEC)
    assert "timed out" in caught.value.title and caught.value.exit_code == 3
    time.sleep(SLOW_S)  # let the stand-in finish answering into the closed connection
    assert stand_in.creates == 1 and len(stand_in.jobs) == 1
    # tunedeck's own retry: the lookup by client key finds the job the first attempt created.
    job = provider.create_job(SPEC)
    assert job.id == "ftjob-1" and job.labels[CLIENT_KEY_LABEL] == "td-key-1"
    assert stand_in.creates == 1 and len(stand_in.jobs) == 1


def test_other_calls_keep_the_configured_retries(stand_in: StandIn) -> None:
    # Only the create is special: a read may be retried freely (here it simply succeeds).
    provider = _provider(stand_in)
    assert provider.list_jobs() == []


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"message": "permission denied", "type": "invalid_request_error", "param": None, "code": None}},
        {"error": {"message": "You do not have access to this resource.", "type": "x", "param": None, "code": None}},
        {},
    ],
)
def test_a_403_on_create_is_explained_as_the_wind_down(stand_in: StandIn, body: dict[str, Any]) -> None:
    stand_in.refuse_create = (403, body)
    with pytest.raises(errors.NotEligibleError) as caught:
        _provider(stand_in).create_job(SPEC)
    text = str(caught.value)
    assert "refused to start a fine-tuning job (HTTP 403)" in caught.value.title
    assert "2026-05-07" in text and "2027-01-06" in text
    assert "--provider vertex" in text and "--provider local" in text
    assert "permission" in caught.value.hint  # the other cause a 403 can have is named too
    assert stand_in.creates == 1


def test_a_403_elsewhere_stays_a_permission_error(stand_in: StandIn) -> None:
    # A custom OpenAI-compatible server is not OpenAI: its 403 on create is just a 403.
    stand_in.refuse_create = (403, {"error": {"message": "permission denied"}})

    class NotOpenAI(OpenAIProvider):
        name = "local"

    provider = NotOpenAI(OpenAIConfig(api_key=SecretStr("k"), base_url=stand_in.url + "/v1", timeout_s=5))
    with pytest.raises(errors.AuthenticationError) as caught:
        provider.create_job(SPEC)
    assert not isinstance(caught.value, errors.NotEligibleError)
