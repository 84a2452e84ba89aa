"""Facts about the user that the application stores and injects: a plain text file, one fact per line.

Writes are atomic (temp file + rename) and serialised with a lock file, so two `remember`s at once
never lose a fact and a crash never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from tunedeck.errors import UsageError
from tunedeck.profiles.schema import Profile
from tunedeck.settings import Settings
from tunedeck.util.atomic import atomic_write_text

HEADER = "# Facts tunedeck injects into this profile's prompt, one per line. Edit freely.\n"


def memory_file(profile: Profile, settings: Settings) -> Path:
    if profile.memory.file is not None:
        return profile.memory.file
    return settings.data_dir / "profiles" / "memory" / f"{profile.name}.txt"


def read_facts(path: Path) -> list[str]:
    """Stored facts, skipping blank lines and `#` comments; a leading `- ` (Markdown list) is dropped."""
    return [fact for _line, fact in _parse(_lines(path))]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.is_file() else []


def _parse(lines: list[str]) -> list[tuple[int, str]]:
    """(line index, fact) pairs, so edits keep the user's comments and layout."""
    facts = []
    for index, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        facts.append((index, line[2:].strip() if line.startswith("- ") else line))
    return facts


def all_facts(profile: Profile, settings: Settings) -> list[str]:
    """Inline facts first (the profile author's), then remembered ones, without duplicates."""
    seen: dict[str, None] = {}
    for fact in [*profile.memory.facts, *read_facts(memory_file(profile, settings))]:
        seen.setdefault(fact.strip(), None)
    return [fact for fact in seen if fact]


def remember(path: Path, fact: str) -> list[str]:
    """Append one fact (newlines collapse: a fact is one line); returns the stored facts."""
    fact = " ".join(fact.split())
    if not fact:
        raise UsageError("A fact cannot be empty.", 'Example: tunedeck profile remember helpdesk "I use a Mac"')
    with _locked(path):
        lines = _lines(path) or [HEADER.rstrip("\n")]
        if fact not in [known for _i, known in _parse(lines)]:
            lines.append(fact)
            _write(path, lines)
        return [known for _i, known in _parse(lines)]


def forget(path: Path, which: str) -> tuple[str, list[str]]:
    """Remove a stored fact by its 1-based number or its exact text (case-insensitive)."""
    with _locked(path):
        lines = _lines(path)
        parsed = _parse(lines)
        line_index, removed = parsed[_match([fact for _i, fact in parsed], which)]
        del lines[line_index]
        _write(path, lines)
        return removed, [fact for _i, fact in _parse(lines)]


def _match(facts: list[str], which: str) -> int:
    which = which.strip()
    if which.isdigit() and 1 <= int(which) <= len(facts):
        return int(which) - 1
    exact = [i for i, fact in enumerate(facts) if fact.casefold() == which.casefold()]
    if exact:
        return exact[0]
    partial = [i for i, fact in enumerate(facts) if which.casefold() in fact.casefold()]
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise UsageError(f"{len(partial)} facts contain {which!r}.", "Give the fact's number from `profile show`.")
    raise UsageError(
        f"No stored fact matches {which!r}.",
        "Facts written inline in the profile file are removed by editing the file.",
    )


def _write(path: Path, lines: list[str]) -> None:
    atomic_write_text(path, "".join(f"{line}\n" for line in lines))


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on a sidecar file: the facts file itself is replaced, so it cannot hold the lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(f".{path.name}.lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            import fcntl  # POSIX only; elsewhere the atomic rename alone still prevents torn files
        except ImportError:
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
