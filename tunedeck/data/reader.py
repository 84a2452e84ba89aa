"""Stream a dataset file record by record, whatever its format, with 1-based line numbers and problems.

Nothing is loaded whole: memory stays flat however large the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from tunedeck.data.checks import check_example
from tunedeck.data.csvio import header_layout, iter_rows, row_to_example
from tunedeck.data.formats import DatasetFormat, detect_format
from tunedeck.data.issues import Code, Issue, issue
from tunedeck.data.model import Example
from tunedeck.data.parse import PARSERS
from tunedeck.data.rules import rules_for
from tunedeck.errors import TunedeckError, UnreadableInputError


@dataclass(slots=True)
class Record:
    """One line (JSONL) or record (CSV): the example when it could be read, and what is wrong with it."""

    line: int
    example: Example | None
    problems: list[Issue] = field(default_factory=list)
    raw: bytes = b""
    """The record's original bytes, line ending included (split copies them verbatim)."""
    n_bytes: int = 0
    blank: bool = False
    header: bool = False

    @property
    def has_error(self) -> bool:
        return bool(self.problems) and any(problem.severity == "error" for problem in self.problems)


def open_dataset(path: Path) -> IO[bytes]:
    """Open for reading or raise UnreadableInputError (exit 2) with a plain reason."""
    try:
        if path.is_dir():
            raise UnreadableInputError(f"{path} is a directory, not a dataset file.", "Pass the path of a file.")
        return path.open("rb")
    except FileNotFoundError as exc:
        raise UnreadableInputError(f"{path} does not exist.", "Check the path.") from exc
    except PermissionError as exc:
        raise UnreadableInputError(
            f"{path} cannot be read: permission denied.", "Check the file's permissions."
        ) from exc
    except OSError as exc:
        raise UnreadableInputError(f"{path} cannot be read: {exc.strerror}.", "Check the path.") from exc


def _read_failed(path: Path, exc: OSError) -> UnreadableInputError:
    """A file that opened but fails when read (/proc/self/mem, a failing disk): exit 2, not a traceback."""
    return UnreadableInputError(
        f"{path} cannot be read: {exc.strerror or exc}.", "Pass a regular dataset file (JSONL or CSV)."
    )


def resolve_format(path: Path, fmt: DatasetFormat | str | None, default: DatasetFormat) -> DatasetFormat:
    if fmt is not None:
        return DatasetFormat(fmt)
    open_dataset(path).close()
    try:
        return detect_format(path) or default
    except OSError as exc:
        raise _read_failed(path, exc) from exc


def _decode(raw: bytes, line: int) -> tuple[Any, Issue | None]:
    try:
        return orjson.loads(raw), None
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            return None, issue(
                line, Code.INVALID_UTF8, f"Byte {bad.start + 1} is not valid UTF-8; save the file as UTF-8."
            )
        return None, issue(line, Code.INVALID_JSON, f"Not valid JSON ({exc.msg}); each line must be one JSON object.")


def _iter_jsonl(handle: IO[bytes], fmt: DatasetFormat) -> Iterator[Record]:
    parse = PARSERS[fmt]
    loads = orjson.loads
    for line, raw in enumerate(handle, 1):
        text = raw.removeprefix(b"\xef\xbb\xbf") if line == 1 else raw
        try:
            # The common case first: a line that decodes is never blank.
            value = loads(text)
        except orjson.JSONDecodeError:
            if not text.strip():
                warning = issue(line, Code.BLANK_LINE, "Blank line; remove it (it is skipped).")
                yield Record(line, None, [warning], raw, len(raw), blank=True)
                continue
            value, problem = _decode(text, line)
            if problem is not None:
                yield Record(line, None, [problem], raw, len(raw))
                continue
        if not isinstance(value, dict):
            kind = "an array" if isinstance(value, list) else type(value).__name__
            message = f"The line is {kind}, not a JSON object; each line must be one {{...}} example."
            yield Record(line, None, [issue(line, Code.NOT_AN_OBJECT, message)], raw, len(raw))
        else:
            example, problems = parse(value, line)
            yield Record(line, example, problems, raw, len(raw))


def _iter_csv(handle: IO[bytes]) -> Iterator[Record]:
    header: list[str] | None = None
    layout: tuple[str, ...] | None = None
    for row in iter_rows(handle):
        if row.fields is None:
            problems = row.problems or [issue(row.line, Code.BLANK_LINE, "Blank line; remove it (it is skipped).")]
            yield Record(row.line, None, problems, row.raw, row.n_bytes, blank=not row.problems)
            continue
        if header is None:
            header, layout = row.fields, header_layout(row.fields)
            problems = list(row.problems)
            if layout is None:
                message = (
                    f"The header {','.join(row.fields)!r} names no known columns; use input_text,output_text "
                    "or system,user,assistant."
                )
                problems.append(issue(row.line, Code.CSV_BAD_HEADER, message))
            yield Record(row.line, None, problems, row.raw, row.n_bytes, header=True)
            continue
        if layout is None:
            # Without a usable header no record can be read; the header error already says why.
            yield Record(row.line, None, row.problems, row.raw, row.n_bytes)
            continue
        example, problems = row_to_example(header, layout, row)
        yield Record(row.line, example, row.problems + problems, row.raw, row.n_bytes)


def iter_examples(path: str | Path, fmt: DatasetFormat | str | None = None) -> Iterator[Record]:
    """Every record of the file in order, format detected unless given. Raises UnreadableInputError.

    Each record carries its structural problems (JSON, types, roles, CSV columns); the provider's
    training checks are added by `validate_file`.
    """
    path = Path(path)
    resolved = resolve_format(path, fmt, DatasetFormat.OPENAI_CHAT)
    with open_dataset(path) as handle:
        try:
            if resolved is DatasetFormat.CSV:
                yield from _iter_csv(handle)
            else:
                yield from _iter_jsonl(handle, resolved)
        except OSError as exc:  # only reading happens in here: the consumer's own errors never enter
            raise _read_failed(path, exc) from exc


def load_conversations(path: str | Path, fmt: DatasetFormat | str | None = None) -> list[list[dict[str, Any]]]:
    """Every example as OpenAI chat messages (system first). Raises TunedeckError listing the problems.

    "Problems" are the errors `validate_file(provider="local")` reports per record (warnings pass).

    For trainers that need the whole dataset in memory; everything else should stream.
    """
    rules = rules_for("local")
    conversations: list[list[dict[str, Any]]] = []
    errors: list[Issue] = []
    for record in iter_examples(path, fmt):
        problems = record.problems
        if record.example is not None and not record.has_error:
            problems = problems + check_example(record.example, record.line, rules)
        found = [problem for problem in problems if problem.severity == "error"]
        errors.extend(found)
        if record.example is not None and not found:
            conversations.append(record.example.to_openai_messages())
    if errors:
        listed = "; ".join(f"line {e.line}: {e.message}" for e in errors[:10])
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        raise TunedeckError(
            f"{path} has {len(errors)} problem(s): {listed}{more}",
            f"Run `tunedeck data validate {path}` for the full report.",
        )
    if not conversations:
        raise TunedeckError(f"{path} contains no examples.", "Add at least one conversation.")
    return conversations
