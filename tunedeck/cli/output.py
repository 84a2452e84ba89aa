"""CLI output conventions: data (and `--json`) to stdout, progress and diagnostics to stderr."""

from __future__ import annotations

import sys
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape

from tunedeck.errors import TunedeckError

# Diagnostics, progress bars and human summaries of errors go to stderr so stdout stays parseable.
stderr = Console(stderr=True)
stdout = Console()


def emit_json(data: Any) -> None:
    """Write one JSON document to stdout (pydantic models and dataclasses welcome)."""
    sys.stdout.write(orjson.dumps(data, default=_default, option=orjson.OPT_INDENT_2).decode() + "\n")
    sys.stdout.flush()


def report_error(error: TunedeckError) -> None:
    """An error as its title and hint on stderr; escaped, since titles quote user text such as "[datasets/]"."""
    stderr.print(f"[bold red]error:[/] {escape(error.title)}", highlight=False, soft_wrap=True)
    if error.hint:
        stderr.print(f"[yellow]hint:[/] {escape(error.hint)}", highlight=False, soft_wrap=True)


def _default(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)
