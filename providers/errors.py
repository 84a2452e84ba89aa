"""One small error tree for every provider: each SDK's exceptions are translated into these at the boundary."""

from __future__ import annotations

from tunedeck.errors import TunedeckError
from tunedeck.exitcodes import ExitCode


class ProviderError(TunedeckError):
    """Something a provider refused or failed to do. `provider` names which one."""

    def __init__(self, title: str, hint: str = "", *, provider: str = "", status: int | None = None) -> None:
        super().__init__(title, hint)
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
