"""`convert_file`: rewrite a dataset in another format, streaming, atomically, reporting what could not be carried."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
from pydantic import BaseModel

from tunedeck.data.csvio import CHAT_HEADER, example_to_row
from tunedeck.data.formats import DatasetFormat
from tunedeck.data.issues import Issue
from tunedeck.data.paths import refuse_overwriting_input
from tunedeck.data.reader import iter_examples, resolve_format
from tunedeck.data.writers import JSONL_WRITERS, NOTES, csv_row_notes
from tunedeck.events import ProgressAdvanced, Publish, ignore
from tunedeck.util.atomic import atomic_writer

_SAMPLE_LINES = 10
_PROGRESS_EVERY = 2048


class ConversionNote(BaseModel):
    """Something the target format could not hold, how often, and the first input lines where it happened."""

    code: str
    message: str
    count: int
    lines: list[int]


class ConvertResult(BaseModel):
    input_path: str
    output_path: str
    input_format: str
    output_format: str
    n_read: int
    """Examples in the input (blank lines and a CSV header excluded)."""
    n_written: int
    n_skipped: int
    """Examples not written: unreadable ones (see `input_errors`) and ones the target cannot represent."""
    notes: list[ConversionNote]
    input_errors: list[Issue]

    @property
    def lossless(self) -> bool:
        return not self.notes and not self.input_errors


def convert_file(
    source: str | Path,
    target: str | Path,
    to: DatasetFormat | str,
    fmt: DatasetFormat | str | None = None,
    *,
    progress: Publish = ignore,
) -> ConvertResult:
    """Convert `source` to `to`, written atomically to `target`; refuses to overwrite the input."""
    source, target, to = Path(source), Path(target), DatasetFormat(to)
    refuse_overwriting_input(source, target)
    resolved = resolve_format(source, fmt, DatasetFormat.OPENAI_CHAT)
    total = source.stat().st_size
    seen: dict[str, list[int]] = {}  # note code → [count, sample lines...]
    errors: list[Issue] = []
    n_read = n_written = 0
    done = 0

    def note(code: str, line: int) -> None:
        entry = seen.setdefault(code, [0])
        entry[0] += 1
        if len(entry) <= _SAMPLE_LINES:
            entry.append(line)

    mode = "w" if to is DatasetFormat.CSV else "wb"
    with atomic_writer(target, mode, encoding="utf-8" if mode == "w" else None) as handle:
        writer = csv.writer(handle) if to is DatasetFormat.CSV else None
        if writer is not None:
            writer.writerow(CHAT_HEADER)
        for record in iter_examples(source, resolved):
            done += record.n_bytes
            if record.blank or record.header:
                errors.extend(p for p in record.problems if p.severity == "error")  # a CSV header nobody can read
                continue
            n_read += 1
            if n_read % _PROGRESS_EVERY == 0:
                progress(ProgressAdvanced("Converting", done, total, "B"))
            if record.example is None or record.has_error:
                errors.extend(p for p in record.problems if p.severity == "error")
                continue
            if writer is not None:
                row = example_to_row(record.example)
                if row is None:
                    note("multi-turn-skipped", record.line)
                    continue
                notes = csv_row_notes(record.example)
                writer.writerow(row)
            else:
                out, notes = JSONL_WRITERS[to](record.example)
                if out is None:
                    for code in notes:
                        note(code, record.line)
                    continue
                handle.write(orjson.dumps(out) + b"\n")
            n_written += 1
            for code in notes:
                note(code, record.line)
    progress(ProgressAdvanced("Converting", total, total, "B"))
    return ConvertResult(
        input_path=str(source),
        output_path=str(target),
        input_format=resolved.value,
        output_format=to.value,
        n_read=n_read,
        n_written=n_written,
        n_skipped=n_read - n_written,
        notes=[
            ConversionNote(code=code, message=NOTES[code], count=entry[0], lines=entry[1:])
            for code, entry in sorted(seen.items())
        ],
        input_errors=errors,
    )
