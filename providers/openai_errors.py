"""Translate the `openai` SDK's exceptions (also raised by the local backend, which speaks its API) into ours."""

from __future__ import annotations

from typing import Any

from providers import errors
from providers.translate import ProviderHints, error_for_status, unreachable

OPENAI_HINTS = ProviderHints(
    label="OpenAI",
    auth="Set OPENAI_API_KEY (or store the key with `keyring set tunedeck openai`) and check it at "
    "https://platform.openai.com/api-keys.",
    unavailable="See https://status.openai.com.",
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
    exc: BaseException, provider: str, hints: ProviderHints, *, fine_tuning: bool = False
) -> errors.ProviderError:
    """`fine_tuning=True` for calls that create or manage jobs, where a 403 may mean OpenAI's wind-down."""
    import openai  # deferred: ~350 ms, but only reached once a request already went through the SDK

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
        )
    if isinstance(exc, openai.APITimeoutError):
        return unreachable(provider, hints, "the request timed out")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        return unreachable(provider, hints, str(cause) if cause else exc.message)
    if isinstance(exc, openai.APIError):
        return errors.ProviderError(f"{hints.label}: {exc.message}", provider=provider)
    return errors.ProviderError(f"{hints.label}: {exc}", provider=provider)
