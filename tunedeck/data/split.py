"""`split_file`: a deterministic train/validation split that never puts the same example on both sides.

Two streaming passes: the first fingerprints every example, the seed shuffles the distinct
fingerprints and picks whole groups of duplicates for validation; the second copies each record's
original bytes to its side, so the outputs keep the input's format exactly.
"""

from __future__ import annotations

import random
from pathlib import Path

from pydantic import BaseModel

from tunedeck.data.formats import DatasetFormat
from tunedeck.data.issues import Issue
from tunedeck.data.paths import refuse_overwriting_input
from tunedeck.data.reader import iter_examples, resolve_format
from tunedeck.errors import TunedeckError, UsageError
from tunedeck.events import ProgressAdvanced, Publish, ignore
from tunedeck.util.atomic import atomic_writer


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
) -> SplitResult:
    """Split `source` into two files written atomically; the same seed always gives the same split."""
    if not 0 < validation < 1:
        raise UsageError(f"--validation {validation} is not a fraction between 0 and 1.", "Use e.g. 0.1 for 10%.")
    source = Path(source)
    resolved = resolve_format(source, fmt, DatasetFormat.OPENAI_CHAT)
    default_train, default_validation = default_outputs(source, resolved)
    train_path = Path(train_out) if train_out is not None else default_train
    validation_path = Path(validation_out) if validation_out is not None else default_validation
    refuse_overwriting_input(source, train_path, validation_path)
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
    if n_examples < 2:
        raise TunedeckError(
            f"{source} has {n_examples} usable example(s); a split needs at least 2.",
            f"Run `tunedeck data validate {source}` to see what is wrong.",
        )
    chosen = _choose(groups, validation, seed)

    n_train = n_validation = 0
    done = 0
    with (
        atomic_writer(train_path, "wb", encoding=None) as train,
        atomic_writer(validation_path, "wb", encoding=None) as held_out,
    ):
        for record in iter_examples(source, resolved):
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
