"""CSV datasets: RFC 4180 records (quoted commas, multi-line fields, a BOM) read as a stream, with line numbers.

The header names the columns: `input_text,output_text` (or `prompt,completion`) for instruction pairs,
`system,user,assistant` (system optional) for single-turn chats. Order is free; names are case-insensitive.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from tunedeck.data.issues import Code, Issue, issue
from tunedeck.data.model import Example, Message

# Long assistant answers easily pass csv's default 128 KiB field limit.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

_LAYOUTS: tuple[tuple[str, ...], ...] = (
    ("input_text", "output_text"),
    ("prompt", "completion"),
    ("user", "assistant"),
)
CHAT_HEADER = ("system", "user", "assistant")


@dataclass(slots=True)
class CsvRow:
    line: int
    """Line where the record starts (1-based)."""
    fields: list[str] | None
    """None for a blank line or a record csv could not split."""
    raw: bytes
    problems: list[Issue]
    n_bytes: int


def iter_rows(handle: IO[bytes]) -> Iterator[CsvRow]:
    """Every record with its starting line and raw bytes; undecodable bytes become an issue, not a crash."""
    consumed: list[bytes] = []
    bad_utf8: list[int] = []
    state = {"line": 0}

    def lines() -> Iterator[str]:
        for raw in handle:
            state["line"] += 1
            consumed.append(raw)
            if state["line"] == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                bad_utf8.append(state["line"])
                yield raw.decode("utf-8", errors="replace")

    reader = csv.reader(lines())
    start = 1
    while True:
        try:
            fields: list[str] | None = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            fields = None
            problems = [issue(start, Code.CSV_COLUMN_COUNT, f"The record cannot be split into fields ({exc}).")]
        else:
            problems = []
        raw = b"".join(consumed)
        consumed.clear()
        problems += [
            issue(start, Code.INVALID_UTF8, f"Line {n} is not valid UTF-8; save the file as UTF-8.") for n in bad_utf8
        ]
        bad_utf8.clear()
        if fields == [] or (fields is not None and not raw.strip()):
            fields = None
        yield CsvRow(line=start, fields=fields, raw=raw, problems=problems, n_bytes=len(raw))
        start = state["line"] + 1


def header_layout(fields: list[str]) -> tuple[str, ...] | None:
    """The recognised column layout of a header row, or None."""
    names = [name.strip().lower() for name in fields]
    for layout in _LAYOUTS:
        if all(name in names for name in layout):
            return ("system", *layout) if layout == ("user", "assistant") and "system" in names else layout
    return None


def row_to_example(header: list[str], layout: tuple[str, ...], row: CsvRow) -> tuple[Example | None, list[Issue]]:
    assert row.fields is not None
    if len(row.fields) != len(header):
        message = (
            f"The record has {len(row.fields)} columns but the header has {len(header)}; "
            "quote fields that contain commas or line breaks with double quotes."
        )
        return None, [issue(row.line, Code.CSV_COLUMN_COUNT, message)]
    names = [name.strip().lower() for name in header]
    values = {name: row.fields[names.index(name)] for name in layout}
    user_key, assistant_key = layout[-2], layout[-1]
    system = values.get("system") or None
    messages = [Message("user", values[user_key]), Message("assistant", values[assistant_key])]
    return Example(system=system, messages=messages), []


def example_to_row(example: Example) -> list[str] | None:
    """A single-turn chat as (system, user, assistant); None when it has more turns than that."""
    roles = example.roles()
    if roles != ["user", "assistant"]:
        return None
    return [example.system or "", example.messages[0].content, example.messages[1].content]
