"""Anthropic adapter: streaming chat against a loopback server emitting the SDK's own event types, and the
plain refusal to fine-tune."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from providers import errors
from providers.anthropic_adapter import AnthropicConfig, AnthropicProvider
from providers.base import ChatMessage, TuningSpec
from providers.registry import get_provider
from tests.providers.stub_http import Reply, StubServer, stub_server
from tunedeck.settings import load_settings


def _events(words: list[str]) -> list[tuple[str, str]]:
    from anthropic import types as t

    message = t.Message(
        id="msg_1",
        type="message",
        role="assistant",
        model="claude-test",
        content=[],
        stop_reason=None,
        stop_sequence=None,
        usage=t.Usage(input_tokens=11, output_tokens=0),
    )
    events: list[t.RawMessageStreamEvent] = [
        t.RawMessageStartEvent(type="message_start", message=message),
        t.RawContentBlockStartEvent(
            type="content_block_start", index=0, content_block=t.TextBlock(type="text", text="")
        ),
    ]
    for word in words:
        events.append(
            t.RawContentBlockDeltaEvent(
                type="content_block_delta", index=0, delta=t.TextDelta(type="text_delta", text=word)
            )
        )
    events += [
        t.RawContentBlockStopEvent(type="content_block_stop", index=0),
        t.RawMessageDeltaEvent(
            type="message_delta",
            delta=t.raw_message_delta_event.Delta(stop_reason="end_turn", stop_sequence=None),
            usage=t.MessageDeltaUsage(output_tokens=len(words)),
        ),
        t.RawMessageStopEvent(type="message_stop"),
    ]
    return [(e.type, e.model_dump_json(exclude_none=True)) for e in events]


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with stub_server() as server:
        yield server


def _provider(stub: StubServer) -> AnthropicProvider:
    return AnthropicProvider(AnthropicConfig(api_key=SecretStr("sk-ant-test"), base_url=stub.url, max_retries=0))


def test_chat_streams_text_then_usage_and_sends_system_apart(stub: StubServer) -> None:
    stub.default = Reply(events=_events(["Hello", " there", "!"]))
    messages = [ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")]
    chunks = list(_provider(stub).chat("claude-test", messages, max_tokens=32))
    assert "".join(c.text for c in chunks) == "Hello there!"
    assert [c.text for c in chunks[:-1]] == ["Hello", " there", "!"]
    last = chunks[-1]
    assert (last.finish_reason, last.prompt_tokens, last.completion_tokens) == ("stop", 11, 3)
    sent = json.loads(stub.requests[0].body)
    assert sent["system"] == "Be brief." and sent["messages"] == [{"role": "user", "content": "Hi"}]
    assert sent["stream"] is True and sent["max_tokens"] == 32
    # This SDK generation sends the key as a bearer token; older ones used x-api-key.
    assert any("sk-ant-test" in v for v in stub.requests[0].headers.values())


def test_errors_translate(stub: StubServer) -> None:
    stub.default = Reply(
        429, {"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}, {"retry-after": "3"}
    )
    with pytest.raises(errors.RateLimitedError) as caught:
        list(_provider(stub).chat("claude-test", [ChatMessage("user", "Hi")]))
    assert caught.value.retry_after == 3.0
    stub.default = Reply(401, {"type": "error", "error": {"type": "authentication_error", "message": "bad key"}})
    with pytest.raises(errors.AuthenticationError, match="bad key") as auth:
        list(_provider(stub).chat("claude-test", [ChatMessage("user", "Hi")]))
    assert "ANTHROPIC_API_KEY" in auth.value.hint
    stub.default = Reply(529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    with pytest.raises(errors.UnavailableError):
        list(_provider(stub).chat("claude-test", [ChatMessage("user", "Hi")]))


def test_fine_tuning_is_refused_plainly_with_the_profile_path(tmp_path: Path) -> None:
    provider = AnthropicProvider(AnthropicConfig())
    assert provider.capabilities.fine_tuning is False
    for attempt in (
        lambda: provider.create_job(TuningSpec(base_model="claude-x", training_file="f")),
        lambda: provider.upload_dataset(tmp_path / "train.jsonl"),
        lambda: provider.get_job("job"),
    ):
        with pytest.raises(errors.NotSupportedError) as caught:
            attempt()
        assert "no public fine-tuning" in caught.value.title
        assert "tunedeck profile chat NAME" in caught.value.hint


def test_custom_base_url_never_receives_the_real_key(stub: StubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-real")
    stub.default = Reply(events=_events(["ok"]))
    list(
        get_provider("anthropic", load_settings(), base_url=stub.url, max_retries=0).chat(
            "m", [ChatMessage("user", "x")]
        )
    )
    headers = stub.requests[0].headers
    assert all("sk-ant-real" not in v for v in headers.values())
    assert any("tunedeck-no-key" in v for v in headers.values())  # the capture does see credentials


def test_the_official_host_gets_the_key_however_its_url_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-real")
    for base_url in ("https://api.anthropic.com", "https://api.anthropic.com/"):
        provider = get_provider("anthropic", load_settings(), base_url=base_url)
        assert isinstance(provider, AnthropicProvider) and provider.config.api_key is not None
        assert provider.config.api_key.get_secret_value() == "sk-ant-real"
    assert not AnthropicConfig(base_url="https://api.anthropic.com.evil.example").is_official
