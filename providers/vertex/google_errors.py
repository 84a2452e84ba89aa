"""Translate google-genai, google-api-core and google-auth exceptions into our error tree."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from providers import errors
from providers.translate import ProviderHints, error_for_status, unreachable

HINTS = ProviderHints(
    label="Vertex AI",
    auth="Run `gcloud auth application-default login` (or point GOOGLE_APPLICATION_CREDENTIALS at a key file) and "
    "check that the account has roles/aiplatform.user and storage access on the bucket.",
    unavailable="See https://status.cloud.google.com.",
)


def _headers(response: Any) -> dict[str, str]:
    headers = getattr(response, "headers", None)
    return dict(headers.items()) if headers is not None else {}


def translate_google_error(exc: BaseException) -> errors.ProviderError | None:
    """Our error for a Google SDK exception, or None when `exc` is not one we know (let it propagate)."""
    # deferred: ~150 ms and ~15 ms measured here; only reached once a Google SDK call already failed
    from google.api_core import exceptions as core
    from google.auth import exceptions as auth

    if isinstance(exc, auth.DefaultCredentialsError):
        return errors.AuthenticationError("No Google Cloud credentials were found.", HINTS.auth, provider="vertex")
    if isinstance(exc, auth.RefreshError):
        return errors.AuthenticationError(
            f"Google Cloud credentials could not be refreshed: {exc}", HINTS.auth, provider="vertex", status=401
        )
    if isinstance(exc, core.GoogleAPICallError) and exc.code is not None:
        response = getattr(exc, "response", None)
        return error_for_status("vertex", HINTS, int(exc.code), exc.message or str(exc), headers=_headers(response))
    if isinstance(exc, core.RetryError | core.ServiceUnavailable):
        return unreachable("vertex", HINTS, str(exc))
    try:
        from google.genai import errors as genai_errors  # deferred: ~300 ms measured here
    except ImportError:  # pragma: no cover - the vertex extra always brings it
        genai_errors = None  # type: ignore[assignment]
    if genai_errors is not None and isinstance(exc, genai_errors.APIError):
        return error_for_status(
            "vertex", HINTS, int(exc.code), exc.message or str(exc.details), headers=_headers(exc.response)
        )
    if isinstance(exc, ConnectionError | TimeoutError):
        return unreachable("vertex", HINTS, str(exc))
    name = type(exc).__module__.split(".")[0]
    # httpx/httpx2 (google-genai) and requests (google-cloud-*) transport failures: the network, not the request.
    if name in {"httpx", "httpx2", "requests", "urllib3"} and any(
        word in type(exc).__name__ for word in ("Connect", "Timeout", "Network", "Transport", "Protocol")
    ):
        return unreachable("vertex", HINTS, str(exc) or type(exc).__name__)
    return None


@contextmanager
def boundary() -> Iterator[None]:
    try:
        yield
    except errors.ProviderError:
        raise
    except Exception as exc:
        translated = translate_google_error(exc)
        if translated is None:
            raise
        raise translated from exc
