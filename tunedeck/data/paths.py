"""Guards for output paths: never write over the input, never write two outputs to one file."""

from __future__ import annotations

import os
from pathlib import Path

from tunedeck.errors import UsageError


def same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def refuse_overwriting_input(source: Path, *outputs: Path) -> None:
    for out in outputs:
        if same_file(source, out):
            raise UsageError(f"{out} is the input file; refusing to overwrite it.", "Choose another output path.")
    for index, out in enumerate(outputs):
        for other in outputs[index + 1 :]:
            if same_file(out, other):
                raise UsageError(f"Two outputs point to {out}.", "Give each output its own path.")
    for out in outputs:
        if out.is_dir():
            raise UsageError(f"{out} is a directory.", "Give a file path for the output.")
