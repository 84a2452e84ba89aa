"""Provider error text never carries a credential (issue 14, item 8): a loopback server that echoes the key it
was sent in its error body, driven through the real adapters and the real CLI, must leave no trace of the key
on stderr, in `--json` output, in the store or in the exception chain a log would print. The hint for a
custom `base_url` names the key actually sent there."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from providers import errors
from providers.errors import redact_secrets
from providers.openai_adapter import OpenAIConfig, OpenAIProvider
from tests.conftest import REPO_ROOT
from tests.data.helpers import run_cli
from tests.providers.stub_http import serve_on_loopback

PROXY_KEY = "sk-proxy-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
LOCAL_KEY = "plain words local key 7"  # a local backend's key can be any text: only an exact match finds it


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Incorrect API key provided: Bearer sk-proj-abcDEF1234567890xyz. See docs.", "Incorrect API key provided"),
        ("Incorrect API key provided: sk-ab***************************wxyz.", "Incorrect API key provided"),
        ("invalid x-api-key sk-ant-api03-AbCdEf_123456-XYZ", "invalid x-api-key"),
        ("API key not valid: key=AIzaSyA1234567890abcdefghijklmnopqrstuv", "API key not valid"),
        ("Request had invalid authentication credentials: ya29.a0AfB_byC1234567890abcdef", "invalid authentication"),
        ('{"api_key": "0123456789abcdef0123456789abcdef"}', '"api_key"'),
        ("token: 3q2+7w/AAAABBBBCCCCDDDD1==", "token"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic"),
        ("secret=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk", "secret"),
    ],
)
def test_key_shaped_text_is_redacted(text: str, kept: str) -> None:
    redacted = redact_secrets(text)
    assert "[redacted]" in redacted and kept in redacted
    assert not any(secret in redacted for secret in ("sk-", "AIza", "ya29.", "dXNlcjpw", "0123456789abcdef0", "eyJ"))


@pytest.mark.parametrize(
    "text",
    [
        "The model gpt-4o-mini-2024-07-18 does not exist",
        "job ftjob-abc123def456ghi789 failed: training file file-XyZ123 has 3 errors",
        "API key not valid. Please pass a valid API key.",
        "Bearer",
        "no job carries client key tdk-0f1e2d3c4b5a69788796a5b4c3d2e1f0",  # our idempotency key is an id
        "label tunedeck-client-key=tdk-0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_secrets(text) == text


def test_every_provider_error_is_redacted_when_built() -> None:
    error = errors.AuthenticationError(f"Rejected: Bearer {PROXY_KEY}", f"key={PROXY_KEY}", provider="x")
    assert PROXY_KEY not in str(error) and PROXY_KEY not in repr(error.args)
    assert redact_secrets(f"Bearer {LOCAL_KEY}: key {LOCAL_KEY} refused", [LOCAL_KEY]) == (
        "Bearer [redacted]: key [redacted] refused"
    )


@dataclass
class Echo:
    """An OpenAI-compatible server that refuses jobs and loaded-model listings by echoing the caller's key."""

    url: str = ""
    seen_keys: list[str] = field(default_factory=list)


@pytest.fixture
def echo() -> Iterator[Echo]:
    state = Echo()

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: Any) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _refuse(self) -> None:
            sent = self.headers.get("authorization", "")
            state.seen_keys.append(sent)
            key = sent.removeprefix("Bearer ")
            message = f"Incorrect API key provided: {sent}. Key {key} is not valid here."
            self._send(401, {"error": {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}})

        def do_GET(self) -> None:
            if self.path.startswith("/v1/fine_tuning/jobs"):
                self._send(200, {"object": "list", "data": [], "has_more": False})
            else:
                self._refuse()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.path.startswith("/v1/files"):
                self._send(200, {"id": "file-1", "object": "file", "bytes": 10, "created_at": 1764000000,
                                 "filename": "train.jsonl", "purpose": "fine-tune", "status": "processed"})  # fmt: skip
            else:
                self._refuse()

        def do_DELETE(self) -> None:
            self._refuse()

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve_on_loopback(Handler) as url:
        state.url = url
        yield state


def _config(home: Path, text: str) -> None:
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text)


def _store_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (home / "data").glob("tunedeck.db*"))


def test_submit_against_an_echoing_server_leaks_nothing(
    echo: Echo, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(isolated_home, f'[openai]\nbase_url = "{echo.url}/v1"\napi_key_name = "local"\nmax_retries = 0\n')
    monkeypatch.setenv("TUNEDECK_LOCAL_API_KEY", PROXY_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-key-never-sent-0000000000")
    dataset = REPO_ROOT / "examples" / "helpdesk.jsonl"
    code, out, err = run_cli(
        "jobs", "submit", str(dataset), "--provider", "openai", "--model", "gpt-4o-mini-2024-07-18", "--yes", "--json"
    )
    assert echo.seen_keys == [f"Bearer {PROXY_KEY}"]  # the server really was sent the key, and echoed it
    assert code == 1, err
    error = json.loads(out)["error"]
    assert "rejected the credentials" in error["title"] and "[redacted]" in error["title"]
    for text in (out, err, error["title"]):
        assert PROXY_KEY not in text and "sk-proxy" not in text
    # The hint names the key that was sent there, not OPENAI_API_KEY.
    assert "api_key_name = 'local'" in error["hint"] and "TUNEDECK_LOCAL_API_KEY" in error["hint"]
    assert "Set OPENAI_API_KEY" not in error["hint"]
    stored = _store_bytes(isolated_home)
    assert b"rejected the credentials" in stored  # the refusal was recorded ...
    assert PROXY_KEY.encode() not in stored and b"sk-proxy" not in stored  # ... without the key


def test_the_exception_chain_a_log_would_print_is_redacted(echo: Echo, caplog: pytest.LogCaptureFixture) -> None:
    provider = OpenAIProvider(OpenAIConfig(api_key=SecretStr(PROXY_KEY), base_url=echo.url + "/v1", max_retries=0))
    with pytest.raises(errors.AuthenticationError) as caught:
        provider.delete_model("ft:x")
    printed = "".join(traceback.format_exception(caught.value))
    assert "Incorrect API key provided" in printed and PROXY_KEY not in printed
    with caplog.at_level(logging.WARNING):
        logging.getLogger("tunedeck.test").warning("tick failed", exc_info=caught.value)
    assert PROXY_KEY not in caplog.text


def test_endpoints_list_json_with_a_free_text_local_key(
    echo: Echo, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(isolated_home, f'[local]\nbase_url = "{echo.url}/v1"\n')
    monkeypatch.setenv("TUNEDECK_LOCAL_API_KEY", LOCAL_KEY)
    code, out, err = run_cli("endpoints", "list", "--json")
    assert echo.seen_keys and LOCAL_KEY in echo.seen_keys[0]
    assert code == 0, err
    listed = json.loads(out)
    assert "Incorrect API key provided" in listed["errors"]["local"]
    for text in (out, err):
        assert LOCAL_KEY not in text and "local key 7" not in text


def test_a_custom_base_url_without_a_named_key_says_so(echo: Echo) -> None:
    from providers.registry import get_provider
    from tunedeck.settings import load_settings

    provider = get_provider("openai", load_settings(), base_url=echo.url + "/v1", max_retries=0)
    with pytest.raises(errors.AuthenticationError) as caught:
        provider.list_models()
    assert "received no key" in caught.value.hint and "api_key_name" in caught.value.hint
    assert echo.seen_keys == ["Bearer tunedeck-no-key"]
