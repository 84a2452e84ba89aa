"""`convert_file`: rewrite a dataset in another format, streaming, atomically, reporting what could not be carried.

The output follows `tunedeck.util.outputs`: a file appears whole or not at all (an existing one is replaced
only with `overwrite=True`), a stream (`-`, a FIFO) is written as it goes, and an input with nothing that can
be written leaves no output at all.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import orjson
from pydantic import BaseModel

from tunedeck.data.csvio import CHAT_HEADER, example_to_row
from tunedeck.data.formats import DatasetFormat
from tunedeck.data.issues import Issue
from tunedeck.data.paths import refuse_overwriting_input
from tunedeck.data.reader import iter_examples, resolve_format
from tunedeck.data.writers import JSONL_WRITERS, NOTES, csv_row_notes
from tunedeck.errors import TunedeckError
from tunedeck.events import ProgressAdvanced, Publish, ignore
from tunedeck.exitcodes import ExitCode
from tunedeck.util.outputs import Output, resolve_output

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
    overwrite: bool = False,
) -> ConvertResult:
    """Convert `source` to `to`, written atomically to `target`; refuses to overwrite the input.

    Raises TunedeckError (exit 1) and writes nothing when no example can be written; an existing file at
    `target` is replaced only with `overwrite`; Ctrl-C raises TunedeckError (exit 4) saying what was kept.
    """
    source, target, to = Path(source), Path(target), DatasetFormat(to)
    refuse_overwriting_input(source, target)
    resolved = resolve_format(source, fmt, DatasetFormat.OPENAI_CHAT)
    output = resolve_output(target, overwrite=overwrite)
    total = source.stat().st_size
    seen: dict[str, list[int]] = {}  # note code → [count, sample lines...]
    errors: list[Issue] = []
    counts = {"read": 0, "written": 0}
    done = 0

    def note(code: str, line: int) -> None:
        entry = seen.setdefault(code, [0])
        entry[0] += 1
        if len(entry) <= _SAMPLE_LINES:
            entry.append(line)

    def rows() -> Iterator[bytes | list[str]]:
        """What to write, one example at a time (a JSONL line or a CSV row); counts and notes on the way."""
        nonlocal done
        for record in iter_examples(source, resolved):
            done += record.n_bytes
            if record.blank or record.header:
                errors.extend(p for p in record.problems if p.severity == "error")  # a CSV header nobody can read
                continue
            counts["read"] += 1
            if counts["read"] % _PROGRESS_EVERY == 0:
                progress(ProgressAdvanced("Converting", done, total, "B"))
            if record.example is None or record.has_error:
                errors.extend(p for p in record.problems if p.severity == "error")
                continue
            row: bytes | list[str] | None
            if to is DatasetFormat.CSV:
                row, notes = example_to_row(record.example), csv_row_notes(record.example)
                if row is None:
                    notes = {"multi-turn-skipped"}
            else:
                out, notes = JSONL_WRITERS[to](record.example)
                row = None if out is None else orjson.dumps(out) + b"\n"
            for code in notes:
                note(code, record.line)
            if row is not None:
                yield row

    try:
        _write(output, to, rows(), counts, source, errors)
    except KeyboardInterrupt:
        raise _interrupted(output, counts["written"]) from None
    progress(ProgressAdvanced("Converting", total, total, "B"))
    return ConvertResult(
        input_path=str(source),
        output_path=str(target),
        input_format=resolved.value,
        output_format=to.value,
        n_read=counts["read"],
        n_written=counts["written"],
        n_skipped=counts["read"] - counts["written"],
        notes=[
            ConversionNote(code=code, message=NOTES[code], count=entry[0], lines=entry[1:])
            for code, entry in sorted(seen.items())
        ],
        input_errors=errors,
    )


def _write(
    output: Output, to: DatasetFormat, rows: Iterator[bytes | list[str]], counts: dict[str, int], source: Path,
    errors: list[Issue],
) -> None:  # fmt: skip
    """Write every row; the CSV header only with the first one, so an input with nothing usable writes nothing."""
    with output.open("w" if to is DatasetFormat.CSV else "wb") as handle:
        writer = csv.writer(handle) if to is DatasetFormat.CSV else None
        for row in rows:
            if writer is None:
                handle.write(row)
            else:
                if counts["written"] == 0:
                    writer.writerow(CHAT_HEADER)
                writer.writerow(row)
            counts["written"] += 1
        if counts["written"] == 0:
            # Raised inside the block: the temp file is discarded, so no empty or header-only file appears.
            raise nothing_usable(source, f"nothing was written to {output}", errors, counts["read"], to)


def looks_binary(path: Path) -> bool:
    """A NUL byte near the start: no text dataset has one (UTF-16 files included, which are not accepted)."""
    try:
        with path.open("rb") as handle:
            return b"\x00" in handle.read(8192)
    except OSError:
        return False


def nothing_usable(
    source: Path, consequence: str, errors: list[Issue], n_read: int, to: DatasetFormat | None = None
) -> TunedeckError:
    """The exit-1 error of a dataset with no usable example, naming its first problems."""
    if n_read == 0:
        kind = "no examples"
    elif to is not None and not errors:
        kind = f"no example that can be written as {to.value}"
    elif looks_binary(source):
        kind = "no usable example: it looks like a binary file, not JSONL or CSV"
    else:
        kind = "no usable example"
    first = "; ".join(f"line {e.line}: {e.message.rstrip('.')}" for e in errors[:3])
    more = f" (and {len(errors) - 3:,} more)" if len(errors) > 3 else ""
    return TunedeckError(
        f"{source} has {kind}; {consequence}.",
        (f"First problems: {first}{more}. " if first else "")
        + f"Run `tunedeck data validate {source}` for the full report.",
    )


def _interrupted(output: Output, written: int) -> TunedeckError:
    if output.is_stream:
        kept = f"{written:,} example(s) had already been written to {output}"
    elif output.replaces:
        kept = f"{output} was not replaced and is as it was"
    else:
        kept = f"nothing was written to {output}"
    return TunedeckError(
        f"Interrupted: {kept}.", "Run the command again to convert the whole file.", exit_code=ExitCode.CANCELLED
    )
