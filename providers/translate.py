"""Shared steps for turning an HTTP failure (status, message, headers) into our error tree, for any SDK.

Messages pass through `redact_secrets` (see providers/errors.py) here and again when any ProviderError is
built, so a server that echoes a credential never gets it shown, logged or stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from providers import errors
from providers.errors import redact_secrets

# OpenAI's self-serve fine-tuning wind-down (announced 2026): the dates users need to plan around.
OPENAI_NEW_ORGS_BLOCKED_SINCE = "2026-05-07"
OPENAI_LAST_DAY_FOR_NEW_JOBS = "2027-01-06"

_NOT_ELIGIBLE = re.compile(
    r"not (be )?eligible|no longer (available|supported|accept)|fine[- ]?tuning (is )?(not available|unavailable|"
    r"disabled|not enabled)|does not have access to fine[- ]?tun",
    re.IGNORECASE,
)
_NOT_ELIGIBLE_CODES = {"not_eligible", "fine_tuning_not_available", "fine_tuning_unavailable", "fine_tuning_disabled"}


@dataclass(frozen=True)
class ProviderHints:
    """What to tell the user for each failure class of one provider."""

    label: str
    """The provider's human name, e.g. "OpenAI"."""
    auth: str
    unavailable: str


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from `retry-after-ms`, `Retry-After` as seconds, or `Retry-After` as an HTTP date."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    if ms := lowered.get("retry-after-ms"):
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def is_not_eligible(message: str, code: str | None = None) -> bool:
    return (code or "") in _NOT_ELIGIBLE_CODES or bool(_NOT_ELIGIBLE.search(message or ""))


def openai_not_eligible(provider: str, message: str, *, refused_create: bool = False) -> errors.NotEligibleError:
    """OpenAI's wind-down refusal, explained. `refused_create`: a plain 403 on `fine_tuning.jobs.create`, whose
    wording was never seen from the real API (the one public report shows "permission denied"), so the
    hint also names the other cause a 403 there can have."""
    detail = redact_secrets(message.strip())
    title = (
        "OpenAI refused to start a fine-tuning job (HTTP 403): " + (detail or "permission denied.")
        if refused_create
        else "OpenAI refused to fine-tune for this account: " + (detail or "not eligible.")
    )
    hint = (
        "OpenAI is winding down self-serve fine-tuning: organizations created on or after "
        f"{OPENAI_NEW_ORGS_BLOCKED_SINCE} cannot start jobs, and no new job can start after "
        f"{OPENAI_LAST_DAY_FOR_NEW_JOBS}. Models you already tuned keep answering until their base model's "
        "shutdown_date (`tunedeck models --provider openai` shows it). To keep tuning, use Vertex AI "
        "(--provider vertex, supervised tuning of Gemini) or the local backend (--provider local)."
    )
    if refused_create:
        hint += (
            " If your organization is older than that, the key may instead lack the fine-tuning permission: "
            "check its project and role at https://platform.openai.com/settings."
        )
    return errors.NotEligibleError(title, hint, provider=provider, status=403)


def error_for_status(
    provider: str,
    hints: ProviderHints,
    status: int,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    code: str | None = None,
    fine_tuning: bool = False,
    secrets: Iterable[str] = (),
) -> errors.ProviderError:
    """One translation table for every SDK: the status decides the class, the provider decides the hint.

    `secrets`: the credentials actually sent, removed verbatim first (they may have any shape)."""
    detail = redact_secrets((message or "").strip(), secrets) or f"HTTP {status}"
    if fine_tuning and status in (400, 403, 404) and is_not_eligible(detail, code):
        return openai_not_eligible(provider, detail)
    if status == 401:
        return errors.AuthenticationError(
            f"{hints.label} rejected the credentials: {detail}", hints.auth, provider=provider, status=status
        )
    if status == 403:
        return errors.AuthenticationError(
            f"{hints.label} denied permission: {detail}",
            "The credentials work but lack permission for this action. " + hints.auth,
            provider=provider,
            status=status,
        )
    if status == 404:
        return errors.NotFoundError(
            f"{hints.label}: not found: {detail}",
            "Check the id; it may have been deleted or belong to another project or account.",
            provider=provider,
            status=status,
        )
    if status == 429:
        retry_after = parse_retry_after(headers)
        wait = f"Wait {retry_after:.0f} s and retry." if retry_after is not None else "Wait a little and retry."
        return errors.RateLimitedError(
            f"{hints.label} is rate-limiting requests: {detail}",
            wait + " If this persists, check your quota.",
            provider=provider,
            retry_after=retry_after,
        )
    if status >= 500:
        return errors.UnavailableError(
            f"{hints.label} failed with HTTP {status}: {detail}",
            "This is on the provider's side; remote jobs are unaffected or their state is unknown. "
            + hints.unavailable,
            provider=provider,
            status=status,
        )
    if status in (400, 409, 413, 415, 422):
        return errors.InvalidRequestError(
            f"{hints.label} rejected the request: {detail}",
            "Fix the request or the data it names, then retry.",
            provider=provider,
            status=status,
        )
    return errors.ProviderError(f"{hints.label} answered HTTP {status}: {detail}", provider=provider, status=status)


def unreachable(
    provider: str, hints: ProviderHints, detail: str, secrets: Iterable[str] = ()
) -> errors.UnavailableError:
    return errors.UnavailableError(
        f"Could not reach {hints.label}: {redact_secrets(detail, secrets)}",
        "Check the network (or that the server is running); the state of remote jobs is unknown, not failed. "
        + hints.unavailable,
        provider=provider,
    )
