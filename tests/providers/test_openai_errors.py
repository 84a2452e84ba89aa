"""OpenAI adapter error translation and key hygiene, against a loopback stub speaking OpenAI's error shapes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from providers import errors
from providers.openai_adapter import OpenAIConfig, OpenAIProvider
from providers.registry import get_provider
from tests.providers.conftest import free_port
from tests.providers.stub_http import Reply, StubServer, stub_server
from tunedeck.settings import load_settings

REAL_KEY = "sk-real-user-key-never-leaves-for-custom-urls"


def _error(message: str, code: str | None = None, type_: str = "invalid_request_error") -> dict[str, object]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with stub_server() as server:
        yield server


def _provider(stub: StubServer) -> OpenAIProvider:
    from pydantic import SecretStr

    return OpenAIProvider(OpenAIConfig(api_key=SecretStr("sk-test"), base_url=stub.url + "/v1", max_retries=0))


def test_401_becomes_authentication_error_with_a_hint(stub: StubServer) -> None:
    stub.default = Reply(401, _error("Incorrect API key provided", "invalid_api_key"))
    with pytest.raises(errors.AuthenticationError) as caught:
        _provider(stub).list_jobs()
    assert "Incorrect API key" in caught.value.title
    # The stub is a custom base_url: its hint names the key sent there (here `api_key`), not OPENAI_API_KEY,
    # which only OpenAI's own host ever receives.
    assert "`api_key`" in caught.value.hint and "OPENAI_API_KEY" not in caught.value.hint
    assert "OPENAI_API_KEY" in OpenAIProvider(OpenAIConfig()).error_hints.auth
    assert caught.value.status == 401 and caught.value.provider == "openai"


def test_429_carries_retry_after_seconds(stub: StubServer) -> None:
    stub.default = Reply(429, _error("Rate limit reached", "rate_limit_exceeded"), {"Retry-After": "7"})
    with pytest.raises(errors.RateLimitedError) as caught:
        _provider(stub).get_job("ftjob-1")
    assert caught.value.retry_after == 7.0
    assert "7 s" in caught.value.hint


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_unavailable_not_failed(stub: StubServer, status: int) -> None:
    stub.default = Reply(status, _error("upstream exploded", type_="server_error"))
    with pytest.raises(errors.UnavailableError) as caught:
        _provider(stub).get_job("ftjob-1")
    assert caught.value.exit_code == 3
    assert "unknown" in caught.value.hint


def test_connection_refused_is_unavailable() -> None:
    provider = OpenAIProvider(OpenAIConfig(base_url=f"http://127.0.0.1:{free_port()}/v1", max_retries=0, timeout_s=5))
    with pytest.raises(errors.UnavailableError, match="Could not reach"):
        provider.list_jobs()


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, _error("Your organization is not eligible for fine-tuning.", "not_eligible")),
        (403, _error("Fine-tuning is no longer available for new organizations.")),
        (400, _error("Fine-tuning is not available for this account", "fine_tuning_not_available")),
    ],
)
@pytest.mark.parametrize("call", ["list_jobs", "list_events", "list_checkpoints"])
def test_fine_tuning_not_eligible_explains_the_wind_down(stub: StubServer, status: int, body: dict, call: str) -> None:
    stub.default = Reply(status, body)
    provider = _provider(stub)
    with pytest.raises(errors.NotEligibleError) as caught:
        provider.list_jobs() if call == "list_jobs" else getattr(provider, call)("ftjob-1")
    text = str(caught.value)
    assert "2027-01-06" in text and "2026-05-07" in text
    assert "--provider vertex" in text and "--provider local" in text
    assert "shutdown_date" in text


def test_plain_403_outside_eligibility_stays_a_permission_error(stub: StubServer) -> None:
    stub.default = Reply(403, _error("You are not allowed to sample from this model", "model_not_found"))
    with pytest.raises(errors.AuthenticationError):
        _provider(stub).get_job("ftjob-1")


def _auth_headers(stub: StubServer) -> list[str]:
    return [r.headers.get("authorization", "") for r in stub.requests]


def test_custom_base_url_never_receives_the_real_openai_key(stub: StubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", REAL_KEY)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-real")
    stub.default = Reply(200, {"object": "list", "data": [], "has_more": False})
    get_provider("openai", load_settings(), base_url=stub.url + "/v1").list_jobs()
    assert stub.requests, "the stub saw no request"
    for request in stub.requests:
        assert all(REAL_KEY not in value and "org-real" not in value for value in request.headers.values())
    assert _auth_headers(stub) == ["Bearer tunedeck-no-key"]


def test_custom_base_url_gets_only_the_key_meant_for_it(stub: StubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", REAL_KEY)
    stub.default = Reply(200, {"object": "list", "data": [], "has_more": False})
    get_provider("openai", load_settings(), base_url=stub.url + "/v1", api_key="sk-proxy").list_jobs()
    assert _auth_headers(stub) == ["Bearer sk-proxy"]


def test_official_url_uses_the_real_key_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", REAL_KEY)
    provider = get_provider("openai", load_settings())
    assert isinstance(provider, OpenAIProvider)
    assert provider.config.api_key is not None and provider.config.api_key.get_secret_value() == REAL_KEY


def test_missing_key_for_openai_is_an_authentication_error_before_any_request() -> None:
    with pytest.raises(errors.AuthenticationError, match="No OpenAI API key"):
        get_provider("openai", load_settings()).list_jobs()


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(errors.NotSupportedError) as caught:
        get_provider("bedrock", load_settings())
    assert "openai" in caught.value.hint and "local" in caught.value.hint
