"""Atomic file writes: a temp file beside the target, fsync, then rename.

A symlink is written through: the file it points to is replaced (atomically, in its own directory) and the
link stays a link. Failures to create or replace the file become `UnwritableOutputError` (exit 2) naming the
path and the reason, never an OSError traceback.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from tunedeck.errors import UsageError


class UnwritableOutputError(UsageError):
    """The output cannot be written where asked: a path under a file, no permission, a read-only place."""


def unwritable(path: Path, exc: OSError) -> UnwritableOutputError:
    reason = exc.strerror or str(exc)
    where = Path(exc.filename) if isinstance(exc.filename, str) else path
    if isinstance(exc, NotADirectoryError):
        reason = f"{_first_file_above(path) or where} is a file, not a directory"
    elif isinstance(exc, PermissionError):
        reason = f"no permission to write in {where.parent if where == path else where}"
    return UnwritableOutputError(
        f"Cannot write {path}: {reason}.", "Choose an output path inside a directory you can write to."
    )


def _first_file_above(path: Path) -> Path | None:
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            return parent
    return None


def write_through(path: str | os.PathLike[str]) -> Path:
    """The file a write to `path` should replace: the final target of a symlink, else `path` itself."""
    target = Path(path)
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def _new_file_mode(existing: Path) -> int:
    """Keep a replaced file's permissions; a new file gets what the umask allows (mkstemp alone gives 0600)."""
    try:
        return stat.S_IMODE(existing.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # Reading the umask without setting it (os.umask is process-wide and racy): Linux shows it in /proc.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o077  # unknown: the private choice


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Yield a file to write; on success it replaces `path` in one rename, on error nothing is left behind."""
    shown = Path(path)
    target = write_through(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise unwritable(shown, exc) from exc
    try:
        text_mode = "b" not in mode
        handle: IO
        with os.fdopen(fd, mode, encoding=encoding if text_mode else None, newline="" if text_mode else None) as handle:
            yield handle
            try:  # where a full disk usually shows: the buffered tail goes out here
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as exc:
                raise unwritable(shown, exc) from exc
        try:
            os.chmod(tmp_name, _new_file_mode(target))
            os.replace(tmp_name, target)
        except OSError as exc:
            raise unwritable(shown, exc) from exc
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_writer(path, "wb", encoding=None) as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_writer(path, "w") as handle:
        handle.write(text)
