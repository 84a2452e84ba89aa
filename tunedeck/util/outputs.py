"""Where a command's output goes, as the user meant it.

- `-`, `/dev/stdout` (and `/dev/fd/N`, `/proc/self/fd/N`), a FIFO or a character device: a stream, written in
  place, never replaced by a regular file;
- a symlink: written through to its target, atomically there (the link stays);
- a regular file: replaced atomically, but an existing one only with consent (`overwrite=True`);
- a directory, a block device, a path under a file or in a place nobody can write: a clear error (exit 2).
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import re
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tunedeck.errors import UsageError
from tunedeck.util.atomic import UnwritableOutputError, atomic_writer, unwritable, write_through

STDOUT = "-"
_FD_PATH = re.compile(r"^/(?:dev/fd|proc/self/fd)/(\d+)$")
_NAMED_FDS = {"/dev/stdout": 1, "/dev/stderr": 2}


class OutputExistsError(UsageError):
    """The output is an existing regular file and replacing it was not allowed."""


@dataclass(frozen=True)
class Output:
    """A resolved output. `file` is what gets replaced (None for a stream); `fd` an inherited descriptor."""

    given: str
    file: Path | None = None
    stream: Path | None = None
    fd: int | None = None
    replaces: bool = False
    """An existing regular file will be replaced."""

    @property
    def is_stream(self) -> bool:
        return self.file is None

    @property
    def to_stdout(self) -> bool:
        return self.fd == 1

    def __str__(self) -> str:
        return "standard output" if self.to_stdout else self.given

    @contextlib.contextmanager
    def open(self, mode: str = "wb") -> Iterator[IO[Any]]:
        """A handle in `mode` ("w" text with newline="", or "wb"); a file appears only if the block succeeds."""
        if self.file is not None:
            with atomic_writer(self.file, mode, encoding=None if "b" in mode else "utf-8") as handle:
                yield handle
            return
        with self._binary_stream() as raw:
            if "b" in mode:
                yield raw
                raw.flush()
                return
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=True)
            try:
                yield text
                text.flush()
            finally:
                text.detach()  # the stream underneath is closed (or not: stdout) by its own owner

    @contextlib.contextmanager
    def _binary_stream(self) -> Iterator[IO[bytes]]:
        if self.fd == 1:
            sys.stdout.flush()
            buffer = getattr(sys.stdout, "buffer", None)
            yield buffer if buffer is not None else _TextSink(sys.stdout)  # type: ignore[misc]
            return
        try:
            if self.fd is not None:
                handle = os.fdopen(os.dup(self.fd), "wb")
            else:
                assert self.stream is not None
                handle = open(self.stream, "wb")  # noqa: SIM115 - closed below; a FIFO blocks until read
        except OSError as exc:
            raise unwritable(Path(self.given), exc) from exc
        with handle:
            yield handle


class _TextSink(io.RawIOBase):
    """Bytes into a text stream that has no binary buffer (stdout replaced in-process, e.g. by a test)."""

    def __init__(self, text: IO[str]) -> None:
        super().__init__()
        self._text = text
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._text.write(self._decoder.decode(bytes(data)))
        return len(data)

    def flush(self) -> None:
        self._text.flush()


def resolve_output(given: str | os.PathLike[str], *, overwrite: bool = False) -> Output:
    """Decide what writing to `given` means, before any work is done; raises a UsageError when it cannot."""
    text = os.fspath(given)
    if text == STDOUT:
        return Output(text, fd=1)
    fd = _NAMED_FDS.get(text)
    match = _FD_PATH.match(text)
    if fd is None and match:
        fd = int(match.group(1))
    if fd is not None:
        try:
            os.fstat(fd)
        except OSError as exc:
            raise UsageError(f"{text}: descriptor {fd} is not open.", "Write to a file or `-` instead.") from exc
        return Output(text, fd=fd)
    path = Path(text)
    target = write_through(path)
    try:
        info = target.stat()
    except FileNotFoundError:
        _check_new_file(path, target)
        return Output(text, file=target)
    except OSError as exc:  # a path under a file, a symlink loop, no permission to look
        raise unwritable(path, exc) from exc
    kind = info.st_mode
    if stat.S_ISDIR(kind):
        raise UsageError(f"{path} is a directory.", "Give a file path for the output.")
    if stat.S_ISFIFO(kind) or stat.S_ISCHR(kind) or stat.S_ISSOCK(kind):
        return Output(text, stream=target)
    if not stat.S_ISREG(kind):
        raise UsageError(
            f"{path} is a block device or another special file; tunedeck will not write a dataset over it.",
            "Write to a regular file, a FIFO or `-` (standard output).",
        )
    if not overwrite:
        shown = path if target == path else f"{path} (a link to {target})"
        raise OutputExistsError(
            f"{shown} already exists; it was left as it was.", "Pass --force to replace it, or choose another path."
        )
    return Output(text, file=target, replaces=True)


def _check_new_file(path: Path, target: Path) -> None:
    """A new file's nearest existing ancestor must be a directory we may write into."""
    for parent in target.parents:
        if not parent.exists():
            continue
        if not parent.is_dir():
            raise UnwritableOutputError(
                f"Cannot write {path}: {parent} is a file, not a directory.",
                "Choose an output path inside a directory.",
            )
        if not os.access(parent, os.W_OK | os.X_OK):
            raise UnwritableOutputError(
                f"Cannot write {path}: no permission to write in {parent}.",
                "Choose an output path inside a directory you can write to.",
            )
        return


def existing_files(*outputs: str | os.PathLike[str] | None) -> list[Path]:
    """The outputs that would replace an existing regular file (to ask before replacing them)."""
    found = []
    for given in outputs:
        if given is None or os.fspath(given) == STDOUT:
            continue
        with contextlib.suppress(OSError):
            target = write_through(given)
            if target.is_file() and not _FD_PATH.match(os.fspath(given)) and os.fspath(given) not in _NAMED_FDS:
                found.append(Path(given))
    return found
