"""Translates Pulumi Automation API exceptions into tunedeck's infra errors, each with a title and a hint."""

from __future__ import annotations

import re

from infra.errors import (
    InfraConfigError,
    InfraError,
    InfraProgramError,
    PulumiCommandError,
    PulumiNotInstalledError,
    StackBusyError,
    StackMissingError,
)

_CONFIG_ERROR = re.compile(r"InfraConfigError: (.+)")
_PASSPHRASE = re.compile(r"passphrase must be set|incorrect passphrase", re.IGNORECASE)
_CREDENTIALS = re.compile(r"could not find default credentials|oauth2: cannot fetch token|invalid_grant", re.IGNORECASE)


def _stderr(exc: BaseException) -> str:
    # CommandError keeps only a formatted string; its text ends with the CLI's stderr.
    text = str(exc)
    return text.split(" stderr:", 1)[1].strip() if " stderr:" in text else text.strip()


def _tail(text: str, lines: int = 6) -> str:
    kept = [line for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def map_automation_error(exc: BaseException, stack: str, backend_url: str = "") -> InfraError | None:
    """Our error for `exc`, or None when it is not a Pulumi failure (a bug: let it surface as is)."""
    from pulumi.automation import errors as auto_errors  # deferred with the rest of the Automation API

    if isinstance(exc, InfraError):
        return exc
    if isinstance(exc, FileNotFoundError):
        # PulumiCommand runs `pulumi version` first: a missing binary surfaces as FileNotFoundError.
        return PulumiNotInstalledError()
    if isinstance(exc, auto_errors.InvalidVersionError):
        return PulumiCommandError(f"The installed Pulumi CLI is too old for this SDK: {exc}", "Upgrade the Pulumi CLI.")
    if not isinstance(exc, auto_errors.CommandError):
        return None
    stderr = _stderr(exc)
    if isinstance(exc, auto_errors.ConcurrentUpdateError):
        return StackBusyError(
            f"Another update is running on stack {stack!r}.",
            f"Wait for it to finish. If none is running (a crash left the lock), run `pulumi cancel --stack {stack}`.",
        )
    if isinstance(exc, auto_errors.StackNotFoundError):
        return StackMissingError(
            f"Stack {stack!r} does not exist in {backend_url or 'the configured backend'}.",
            f"Create it with `tunedeck infra up --stack {stack}`, or check [infra] backend_url / PULUMI_BACKEND_URL.",
        )
    if isinstance(exc, auto_errors.CompilationError):
        return InfraProgramError("The infra program did not compile.", _tail(stderr))
    config_error = _CONFIG_ERROR.search(stderr + "\n" + str(exc))
    if config_error:
        return InfraConfigError(config_error.group(1).strip(), "Fix the key in Pulumi.<stack>.yaml; see Pulumi.yaml.")
    if isinstance(exc, auto_errors.RuntimeError | auto_errors.InlineSourceRuntimeError):
        return InfraProgramError("The infra program raised an error.", _tail(stderr))
    if _PASSPHRASE.search(stderr):
        return PulumiCommandError(
            "Pulumi needs the passphrase that encrypts this stack's secrets.",
            "Set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) in the environment and run again.",
        )
    if _CREDENTIALS.search(stderr):
        return PulumiCommandError(
            "Pulumi could not authenticate to Google Cloud.",
            "Run `gcloud auth application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS) and run again; "
            "`tunedeck infra plan --offline` needs no credentials.",
        )
    return PulumiCommandError(f"Pulumi failed on stack {stack!r}.", _tail(stderr) or str(exc))
