"""`tunedeck preferences …`: record which of two or three answers to a prompt is better (what the TUI
playground's marks do), and list the marks the evaluation reports read."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from tunedeck.cli.context import workspace
from tunedeck.cli.options import JsonOpt
from tunedeck.cli.output import emit_json, stdout
from tunedeck.errors import UsageError

app = typer.Typer(no_args_is_help=True, help="Side-by-side preference marks (which answer was better).")


def parse_candidate(text: str) -> tuple[str, str, str]:
    """`provider:model=reply` → (provider, model, reply); the model may contain colons (ft:…)."""
    label, sep, reply = text.partition("=")
    provider, colon, model = label.partition(":")
    if not sep or not colon or not provider or not model:
        raise UsageError(f"Cannot read the answer {text[:40]!r}.", "Write it as provider:model=the reply text.")
    return provider, model, reply


@app.command()
def record(
    ctx: typer.Context,
    prompt: Annotated[str, typer.Option("--prompt", help="The prompt every model answered.")],
    answer: Annotated[list[str], typer.Option("--answer", "-a", help="provider:model=reply, two or three times.")],
    better: Annotated[str, typer.Option("--better", help="Which answer is better: 1, 2, 3, or tie.")],
    source: Annotated[str | None, typer.Option("--source", help="Where the prompt came from.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Record which answer to a prompt is better."""
    from tunedeck.store.preferences import Candidate

    candidates = [Candidate(*parse_candidate(text)) for text in answer]
    if better.lower() == "tie":
        preferred = None
    elif better.isdigit():
        preferred = int(better) - 1
    else:
        raise UsageError(f"--better {better!r} is not a number or 'tie'.", "e.g. --better 2")
    mark = workspace(ctx).prefer(prompt, candidates, preferred, source)
    if json_out:
        emit_json(asdict(mark))
    else:
        winner = mark.winner
        stdout.print(
            f"Recorded #{mark.id}: " + (f"{winner.provider}:{winner.model} is better." if winner else "a tie.")
        )


@app.command("list")
def list_marks(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
    json_out: JsonOpt = False,
) -> None:
    """The recorded marks, newest first."""
    marks = workspace(ctx).preferences(limit)
    if json_out:
        emit_json([asdict(m) for m in marks])
        return
    for mark in marks:
        winner = mark.winner
        better = f"{winner.provider}:{winner.model}" if winner else "tie"
        stdout.print(f"#{mark.id} {mark.at:%Y-%m-%d %H:%M} {better:<40} {mark.prompt[:60]!r}", markup=False)
