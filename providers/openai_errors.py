"""Translate the `openai` SDK's exceptions (also raised by the local backend, which speaks its API) into ours."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from providers import errors
from providers.errors import redact_exception
from providers.translate import ProviderHints, error_for_status, redact_secrets, unreachable

OPENAI_HINTS = ProviderHints(
    label="OpenAI",
    auth="Set OPENAI_API_KEY (or store the key with `keyring set tunedeck openai`) and check it at "
    "https://platform.openai.com/api-keys.",
    unavailable="See https://status.openai.com.",
)


def custom_url_hints(base_url: str, sent_key: bool, key_name: str | None, key_env: str | None) -> ProviderHints:
    """Hints for an OpenAI-compatible server that is not OpenAI: it never gets OPENAI_API_KEY, so the hint
    names the key it actually received (the entry named by `[openai] api_key_name`, or `api_key` itself)."""
    where = f"{key_env} or `keyring set tunedeck {key_name}`" if key_env else f"`keyring set tunedeck {key_name}`"
    if not sent_key and key_name:
        auth = (
            f"{base_url} received no key: [openai] api_key_name = {key_name!r} names a secret that is not set "
            f"({where})."
        )
    elif not sent_key:
        auth = (
            f"{base_url} received no key (OPENAI_API_KEY is never sent to a custom base_url): name the key it "
            "expects with [openai] api_key_name in config.toml."
        )
    elif key_name:
        auth = (
            f"{base_url} received the key named by [openai] api_key_name = {key_name!r} ({where}); "
            "check that it is the one this server expects. OPENAI_API_KEY is never sent to a custom base_url."
        )
    else:
        auth = f"{base_url} received the key given as `api_key` (under [openai] in config.toml); check it there."
    return ProviderHints(
        label=f"The OpenAI-compatible server at {base_url}",
        auth=auth,
        unavailable="Check that the server is running and that [openai] base_url is right.",
    )


LOCAL_HINTS = ProviderHints(
    label="The local backend",
    auth="The local server was started with an API key: set TUNEDECK_LOCAL_API_KEY to the same value.",
    unavailable="Start it with `tunedeck serve`, or let tunedeck start it (see `<data_dir>/local-backend/`).",
)


def _body_error(body: object) -> tuple[str | None, str | None]:
    """(message, code) from an OpenAI-style error body: {"error": {"message", "code"}} or the inner dict."""
    if isinstance(body, dict):
        inner: Any = body.get("error", body)
        if isinstance(inner, dict):
            message, code = inner.get("message"), inner.get("code")
            return (str(message) if message else None, str(code) if code else None)
        if isinstance(inner, str):
            return inner, None
    return None, None


def translate_openai_error(
    exc: BaseException,
    provider: str,
    hints: ProviderHints,
    *,
    fine_tuning: bool = False,
    secrets: Iterable[str] = (),
) -> errors.ProviderError:
    """`fine_tuning=True` for calls that create or manage jobs, where a 403 may mean OpenAI's wind-down.

    `secrets`: the key sent, removed verbatim from our error and from `exc` (which stays chained to it)."""
    import openai  # deferred: ~350 ms, but only reached once a request already went through the SDK

    secrets = [secret for secret in secrets if secret]
    redact_exception(exc, secrets)

    if isinstance(exc, openai.APIStatusError):
        message, code = _body_error(exc.body)
        return error_for_status(
            provider,
            hints,
            exc.status_code,
            message or exc.message,
            headers=dict(exc.response.headers),
            code=code or (str(exc.code) if getattr(exc, "code", None) else None),
            fine_tuning=fine_tuning,
            secrets=secrets,
        )
    if isinstance(exc, openai.APITimeoutError):
        return unreachable(provider, hints, "the request timed out")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        return unreachable(provider, hints, str(cause) if cause else exc.message, secrets)
    text = exc.message if isinstance(exc, openai.APIError) else str(exc)
    return errors.ProviderError(f"{hints.label}: {redact_secrets(text, secrets)}", provider=provider)
