"""`split_file`: a deterministic train/validation split that never puts the same example on both sides.

Two streaming passes: the first fingerprints every example, the seed shuffles the distinct
fingerprints and picks whole groups of duplicates for validation; the second copies each record's
original bytes to its side, so the outputs keep the input's format exactly.
"""

from __future__ import annotations

import random
from pathlib import Path

from pydantic import BaseModel

from tunedeck.data.convert import nothing_usable
from tunedeck.data.formats import DatasetFormat
from tunedeck.data.issues import Issue
from tunedeck.data.paths import refuse_overwriting_input
from tunedeck.data.reader import iter_examples, resolve_format
from tunedeck.errors import TunedeckError, UsageError
from tunedeck.events import ProgressAdvanced, Publish, ignore
from tunedeck.exitcodes import ExitCode
from tunedeck.util.outputs import Output, resolve_output


class SplitResult(BaseModel):
    input_path: str
    format: str
    train_path: str
    validation_path: str
    n_train: int
    n_validation: int
    n_skipped: int
    """Records left out because they have errors (see `skipped`)."""
    duplicates: int
    """Examples that repeat an earlier one; each group of copies stays on one side."""
    seed: int
    skipped: list[Issue]


def default_outputs(source: Path, fmt: DatasetFormat) -> tuple[Path, Path]:
    suffix = ".csv" if fmt is DatasetFormat.CSV else ".jsonl"
    return (
        source.with_name(f"{source.stem}.train{suffix}"),
        source.with_name(f"{source.stem}.validation{suffix}"),
    )


def _choose(groups: dict[int, int], fraction: float, seed: int) -> set[int]:
    """Fingerprints for validation: shuffled groups taken until the share is reached, never all of them."""
    total = sum(groups.values())
    want = max(1, round(total * fraction)) if total >= 2 else 0
    order = list(groups)
    random.Random(seed).shuffle(order)
    chosen: set[int] = set()
    taken = 0
    for digest in order:
        if taken >= want:
            break
        if taken + groups[digest] >= total:
            continue  # the training side must keep at least one example
        chosen.add(digest)
        taken += groups[digest]
    return chosen


def split_file(
    source: str | Path,
    validation: float = 0.1,
    seed: int = 0,
    train_out: str | Path | None = None,
    validation_out: str | Path | None = None,
    fmt: DatasetFormat | str | None = None,
    *,
    progress: Publish = ignore,
    overwrite: bool = False,
) -> SplitResult:
    """Split `source` into two files written atomically; the same seed always gives the same split.

    Existing output files are replaced only with `overwrite`; `-` or a FIFO streams. Ctrl-C raises
    TunedeckError (exit 4) saying what was kept.
    """
    if not 0 < validation < 1:
        raise UsageError(f"--validation {validation} is not a fraction between 0 and 1.", "Use e.g. 0.1 for 10%.")
    source = Path(source)
    resolved = resolve_format(source, fmt, DatasetFormat.OPENAI_CHAT)
    default_train, default_validation = default_outputs(source, resolved)
    train_path = Path(train_out) if train_out is not None else default_train
    validation_path = Path(validation_out) if validation_out is not None else default_validation
    refuse_overwriting_input(source, train_path, validation_path)
    outputs = resolve_output(train_path, overwrite=overwrite), resolve_output(validation_path, overwrite=overwrite)
    if outputs[0].fd is not None and outputs[0].fd == outputs[1].fd:
        raise UsageError(f"Both outputs go to {outputs[0]}.", "Give each output its own destination.")
    total = source.stat().st_size

    groups: dict[int, int] = {}
    skipped: list[Issue] = []
    done = 0
    for record in iter_examples(source, resolved):
        done += record.n_bytes
        if record.example is not None and not record.has_error:
            digest = record.example.digest()
            groups[digest] = groups.get(digest, 0) + 1
        else:
            skipped.extend(p for p in record.problems if p.severity == "error")
        if record.line % 4096 == 0:
            progress(ProgressAdvanced("Splitting (pass 1 of 2)", done, total, "B"))
    n_examples = sum(groups.values())
    if n_examples == 0:
        raise nothing_usable(source, "nothing was written", skipped, n_read=len(skipped))
    if n_examples < 2:
        raise TunedeckError(
            f"{source} has {n_examples} usable example(s); a split needs at least 2. Nothing was written.",
            f"Run `tunedeck data validate {source}` to see what is wrong.",
        )
    chosen = _choose(groups, validation, seed)
    try:
        n_train, n_validation = _write(source, resolved, outputs, chosen, total, progress)
    except KeyboardInterrupt:
        raise _interrupted(outputs) from None
    progress(ProgressAdvanced("Splitting (pass 2 of 2)", total, total, "B"))
    return SplitResult(
        input_path=str(source),
        format=resolved.value,
        train_path=str(train_path),
        validation_path=str(validation_path),
        n_train=n_train,
        n_validation=n_validation,
        n_skipped=len({issue.line for issue in skipped}),
        duplicates=n_examples - len(groups),
        seed=seed,
        skipped=skipped,
    )


def _write(
    source: Path,
    fmt: DatasetFormat,
    outputs: tuple[Output, Output],
    chosen: set[int],
    total: int,
    progress: Publish,
) -> tuple[int, int]:
    """The second pass: each usable record's bytes to its side (a CSV header to both). Returns the counts."""
    n_train = n_validation = 0
    done = 0
    with outputs[0].open("wb") as train, outputs[1].open("wb") as held_out:
        for record in iter_examples(source, fmt):
            done += record.n_bytes
            raw = record.raw if record.raw.endswith(b"\n") else record.raw + b"\n"
            if record.header:
                train.write(raw)
                held_out.write(raw)
            elif record.example is not None and not record.has_error:
                if record.example.digest() in chosen:
                    held_out.write(raw)
                    n_validation += 1
                else:
                    train.write(raw)
                    n_train += 1
            if record.line % 4096 == 0:
                progress(ProgressAdvanced("Splitting (pass 2 of 2)", done, total, "B"))
    return n_train, n_validation


def _interrupted(outputs: tuple[Output, Output]) -> TunedeckError:
    files = [str(o) for o in outputs if not o.is_stream]
    streams = [str(o) for o in outputs if o.is_stream]
    kept = []
    if files:
        kept.append(
            f"{' and '.join(files)} {'was' if len(files) == 1 else 'were'} not written (any earlier file "
            "there is as it was)"
        )
    if streams:
        kept.append(f"part of the split had already gone to {' and '.join(streams)}")
    return TunedeckError(
        f"Interrupted: {'; '.join(kept)}.",
        "Run the command again to split the whole file.",
        exit_code=ExitCode.CANCELLED,
    )
