"""The root of tunedeck's error tree: every error carries a human title and a hint."""

from __future__ import annotations

from tunedeck.exitcodes import ExitCode


class TunedeckError(Exception):
    """An error the user can act on. `title` says what went wrong, `hint` what to do about it."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(self, title: str, hint: str = "", *, exit_code: ExitCode | None = None) -> None:
        super().__init__(title)
        self.title = title
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return f"{self.title} {self.hint}".strip() if self.hint else self.title


class UsageError(TunedeckError):
    exit_code = ExitCode.USAGE


class UnreadableInputError(TunedeckError):
    """A file that cannot be read at all (missing, a directory, no permission)."""

    exit_code = ExitCode.USAGE


class UnavailableError(TunedeckError):
    exit_code = ExitCode.UNAVAILABLE
