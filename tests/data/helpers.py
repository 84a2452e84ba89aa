"""Builders for the small datasets the data tests write into tmp_path."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

SYSTEM = "You are a concise support assistant."


def chat(i: int, system: str | None = SYSTEM, **extra: Any) -> dict[str, Any]:
    messages: list[dict[str, Any]] = [] if system is None else [{"role": "system", "content": system}]
    messages += [
        {"role": "user", "content": f"Question number {i}: where is my order?"},
        {"role": "assistant", "content": f"Answer {i}: it ships tomorrow."},
    ]
    return {"messages": messages, **extra}


def write_lines(path: Path, lines: list[Any]) -> Path:
    """Each item: a dict/list (dumped as JSON), a str (written as is) or bytes (raw)."""
    with path.open("wb") as out:
        for line in lines:
            if isinstance(line, bytes):
                out.write(line + b"\n")
            elif isinstance(line, str):
                out.write(line.encode() + b"\n")
            else:
                out.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
    return path


def good_file(path: Path, n: int = 12, start: int = 0) -> Path:
    return write_lines(path, [chat(i) for i in range(start, start + n)])


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    """The real entry path (`tunedeck.cli.main.run` without its sys.exit) in-process: (exit code, stdout, stderr)."""
    from tunedeck.cli.errorpath import execute
    from tunedeck.cli.main import app

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = execute(app, [str(arg) for arg in args])
    return code, out.getvalue(), err.getvalue()
