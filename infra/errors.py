"""Errors of the infra layer, each with a title and a hint, and the mapping from Pulumi's own exceptions."""

from __future__ import annotations

from tunedeck.errors import TunedeckError, UnavailableError, UsageError
from tunedeck.exitcodes import ExitCode

PULUMI_INSTALL_HINT = (
    "Install it with `curl -fsSL https://get.pulumi.com | sh` (or `brew install pulumi/tap/pulumi`), "
    "then run this again; `tunedeck infra plan` works without it."
)


class InfraError(TunedeckError):
    """Something about provisioning went wrong."""


class InfraConfigError(InfraError):
    """The stack's configuration is invalid: the message names the key and what it must be."""

    exit_code = ExitCode.BAD_INPUT


class PulumiNotInstalledError(InfraError, UnavailableError):
    exit_code = ExitCode.UNAVAILABLE

    def __init__(self) -> None:
        super().__init__("The Pulumi CLI is not installed (no `pulumi` on PATH).", PULUMI_INSTALL_HINT)


class StackBusyError(InfraError, UnavailableError):
    """Pulumi's ConcurrentUpdateError: the stack is locked by another update."""

    exit_code = ExitCode.UNAVAILABLE


class StackMissingError(InfraError, UsageError):
    exit_code = ExitCode.USAGE


class StackNotDeployedError(InfraError):
    """No outputs to read: the stack was never brought up (or was destroyed)."""

    exit_code = ExitCode.BAD_INPUT


class InfraProgramError(InfraError):
    """The Pulumi program itself failed (did not compile, or raised)."""

    exit_code = ExitCode.BAD_INPUT


class PulumiCommandError(InfraError):
    """Any other failure of the Pulumi CLI (credentials, backend, cloud API errors)."""

    exit_code = ExitCode.BAD_INPUT


class DestroyCancelledError(InfraError):
    exit_code = ExitCode.CANCELLED
