"""CLI output conventions: data (and `--json`) to stdout, progress and diagnostics to stderr."""

from __future__ import annotations

import sys
from typing import Any

import orjson
from rich.console import Console

# Diagnostics, progress bars and human summaries of errors go to stderr so stdout stays parseable.
stderr = Console(stderr=True)
stdout = Console()


def emit_json(data: Any) -> None:
    """Write one JSON document to stdout (pydantic models and dataclasses welcome)."""
    sys.stdout.write(orjson.dumps(data, default=_default, option=orjson.OPT_INDENT_2).decode() + "\n")
    sys.stdout.flush()


def _default(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)
