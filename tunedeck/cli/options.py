"""Options and arguments shared by every command group, declared once, and the one way to ask before acting."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tunedeck.errors import UsageError
from tunedeck.exitcodes import ExitCode

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
