"""CLI output conventions: data (and `--json`) to stdout, progress and diagnostics to stderr.

Errors have one shape everywhere: a title and a hint on stderr and, when `--json` is on the command line,
`{"error": {"title", "hint", "code"}}` on stdout too, so a script reading stdout always gets a JSON document.
"""

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


def error_document(title: str, hint: str, code: int) -> dict[str, Any]:
    """The `--json` form of every error: the same fields as the human form, plus the exit code."""
    return {"error": {"title": title, "hint": hint, "code": code}}


def report_error(error: TunedeckError, *, as_json: bool = False) -> None:
    """An error as its title and hint on stderr; escaped, since titles quote user text such as "[datasets/]".

    With `as_json` the same error is also written to stdout as `{"error": {...}}`."""
    report(error.title, error.hint, int(error.exit_code), as_json=as_json)


def report(title: str, hint: str, code: int, *, as_json: bool = False) -> None:
    if as_json:
        emit_json(error_document(title, hint, code))
    stderr.print(f"[bold red]error:[/] {escape(title)}", highlight=False, soft_wrap=True)
    if hint:
        stderr.print(f"[yellow]hint:[/] {escape(hint)}", highlight=False, soft_wrap=True)


def _default(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)
