"""Process exit codes shared by every `tunedeck` command."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    """The command did what was asked."""
    BAD_INPUT = 1
    """The input or the job is bad (validation errors, a failed job, a refused request)."""
    USAGE = 2
    """The command was misused, or a file cannot be read at all."""
    UNAVAILABLE = 3
    """A needed service or tool is missing or unreachable (no Pulumi CLI, provider outage)."""
    CANCELLED = 4
    """The user declined a confirmation or interrupted the command."""
