"""Options and arguments shared by every command group, declared once, and the one way to ask before acting."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from tunedeck.errors import UsageError
from tunedeck.exitcodes import ExitCode


def _show_flags_bare() -> None:
    """Typer's rich help prints every flag with a type, `--json <bool>`, as if it took a value, though
    `--json true` is an error. Show flags bare, as click's own help does; options that take values keep theirs."""
    from typer.core import TyperOption

    original = TyperOption.display_type_rich
    if getattr(original, "flags_bare", False):
        return

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else original(self, ctx)

    display_type_rich.flags_bare = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_show_flags_bare()

JsonOpt = Annotated[bool, typer.Option("--json", help="Write JSON to stdout (diagnostics stay on stderr).")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def _known_provider(name: str | None) -> str | None:
    """Checked while parsing, so a typo is a usage error (exit 2) before anything is listed or asked."""
    from providers.registry import available_providers

    if name is not None and name not in available_providers():
        raise typer.BadParameter(f"unknown provider {name!r}; choose one of: {', '.join(available_providers())}.")
    return name


ProviderOpt = Annotated[
    str | None,
    typer.Option(
        "--provider", "-p", help="openai, vertex, anthropic or local.", show_default=False, callback=_known_provider
    ),
]
ModelOpt = Annotated[str, typer.Option("--model", "-m", help="Model id (base, fine-tuned or a checkpoint).")]
JobArg = Annotated[str, typer.Argument(help="Job: tunedeck id (td-…), provider job id, or client key.")]
EndpointArg = Annotated[str, typer.Argument(help="Endpoint id or display name (see `endpoints list`).")]


def confirm(question: str, yes: bool) -> None:
    """Ask before spending or destroying; without a terminal, only --yes proceeds."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{question} Not confirmed: no terminal to ask on.", "Pass --yes to proceed without asking.")
    if not typer.confirm(question, default=False, err=True):
        raise typer.Exit(int(ExitCode.CANCELLED))


def money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.4f}" if value < 1 else f"${value:,.2f}"
