"""One small error tree for every provider: each SDK's exceptions are translated into these at the boundary.

Every message is scrubbed of anything key-shaped as the error is built, so no adapter can leak a credential
that a server echoed back (in a 401 body, say) into the terminal, `--json`, a log or the store.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable

from tunedeck.errors import TunedeckError
from tunedeck.exitcodes import ExitCode

REDACTED = "[redacted]"

# Credential shapes seen in provider error bodies. Each pattern keeps a harmless label (group "label") and
# replaces the secret itself; ordered from the most specific.
_SECRET_PATTERNS: tuple[re.Pattern[str], ...] = (
    # Whatever follows an Authorization scheme, however short (a local backend's key can be anything).
    re.compile(r"(?P<label>\b(?:Bearer|Basic|Token)\s+)(?!\[redacted\])[^\s\"',;}\]]+", re.IGNORECASE),
    # OpenAI (sk-, sk-proj-, sk-svcacct-) and Anthropic (sk-ant-api03-) keys, also as OpenAI masks them (sk-ab***yz).
    re.compile(r"(?P<label>)\bsk-[A-Za-z0-9_\-*]{6,}"),
    # Google API keys and OAuth access tokens.
    re.compile(r"(?P<label>)\bAIza[0-9A-Za-z_\-]{20,}"),
    re.compile(r"(?P<label>)\bya29\.[0-9A-Za-z_\-.]{10,}"),
    # JSON Web Tokens (service-account assertions, id tokens).
    re.compile(r"(?P<label>)\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"),
    # A long opaque value after a word that names a secret: "API key provided: 3f9a…", "token=…", "secret: …".
    # Not tunedeck's own idempotency key ("client key tdk-…"): it is an id users need to see.
    re.compile(
        r"(?P<label>(?<!client )(?<!client-)(?<!client_)"
        r"\b(?:api[_\- ]?key|key|token|secret|password|passwd|credential)s?\b[\"']?"
        r"(?:\s+(?:provided|is|was|given))?\s*[:=]?\s*[\"']?)"
        r"(?!tdk-)(?=[A-Za-z0-9+/_\-.=*]{16,})(?=[^\s\"']*\d)[A-Za-z0-9+/_\-.=*]{16,}",
        re.IGNORECASE,
    ),
)


def redact_secrets(text: str, known: Iterable[str] = ()) -> str:
    """`text` with every key-shaped substring (and every exact `known` secret) replaced by "[redacted]"."""
    if not text:
        return text
    for secret in known:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda match: match.group("label") + REDACTED, text)
    return text


def redact_exception(exc: BaseException, known: Iterable[str] = ()) -> None:
    """Redact an SDK exception in place: it stays chained under our error (`raise ... from exc`), and whatever
    prints that chain (a log with exc_info, a crash log, TUNEDECK_DEBUG) shows its message."""
    known = list(known)
    exc.args = tuple(redact_secrets(arg, known) if isinstance(arg, str) else arg for arg in exc.args)
    message = getattr(exc, "message", None)
    if isinstance(message, str):
        # A read-only property on some SDK class would refuse: args already cover str(exc) then.
        with contextlib.suppress(AttributeError):
            exc.message = redact_secrets(message, known)  # type: ignore[attr-defined]


class ProviderError(TunedeckError):
    """Something a provider refused or failed to do. `provider` names which one."""

    def __init__(self, title: str, hint: str = "", *, provider: str = "", status: int | None = None) -> None:
        super().__init__(redact_secrets(title), redact_secrets(hint))
        self.provider = provider
        self.status = status


class AuthenticationError(ProviderError):
    """No key, a wrong key, or credentials without the needed permission."""


class NotEligibleError(ProviderError):
    """The account may not use this feature (e.g. OpenAI's fine-tuning wind-down)."""


class NotSupportedError(ProviderError):
    """The provider has no such capability (e.g. fine-tuning Claude)."""


class InvalidRequestError(ProviderError):
    """The provider rejected the request or its data as malformed."""


class NotFoundError(ProviderError):
    """The job, file, model or endpoint does not exist (any more)."""


class RateLimitedError(ProviderError):
    """429: slow down. `retry_after` is the provider's advice in seconds, when given."""

    def __init__(self, title: str, hint: str = "", *, provider: str = "", retry_after: float | None = None) -> None:
        super().__init__(title, hint, provider=provider, status=429)
        self.retry_after = retry_after


class UnavailableError(ProviderError):
    """The provider could not be reached or answered 5xx: the state of remote work is unknown, not failed."""

    exit_code = ExitCode.UNAVAILABLE


class ConfigurationError(ProviderError):
    """tunedeck lacks a setting the provider needs (a project, a bucket): fix config.toml or the stack."""

    exit_code = ExitCode.USAGE
