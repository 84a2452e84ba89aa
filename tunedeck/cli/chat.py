"""`tunedeck chat`: stream a reply from any model (base, fine-tuned, deployed); a REPL without --message."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tunedeck.cli.context import workspace
from tunedeck.cli.options import JsonOpt
from tunedeck.cli.output import emit_json, stderr
from tunedeck.errors import UsageError

REPL_HELP = "/reset clears the conversation, /exit (or Ctrl-D) quits."


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def chat(
    ctx: typer.Context,
    model: Annotated[str, typer.Option("--model", "-m", help="Model id (a fine-tuned one from `jobs list` too).")],
    provider: Annotated[
        str | None, typer.Option("--provider", "-p", help="Default: the provider that made the model.")
    ] = None,
    message: Annotated[
        str | None, typer.Option("--message", help="Ask once and exit (else an interactive REPL).")
    ] = None,
    system: Annotated[str | None, typer.Option("--system", help="A system prompt.")] = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = 256,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0)] = 0.0,
    json_out: JsonOpt = False,
) -> None:
    """Chat with a model; replies stream to stdout, usage and timing go to stderr."""
    from providers.base import ChatMessage

    ws = workspace(ctx)
    name = ws.resolve_provider(model, provider)
    if json_out and message is None:
        raise UsageError("--json needs --message: the interactive REPL writes text.")
    history: list[ChatMessage] = [ChatMessage("system", system)] if system else []

    def ask(text: str) -> str:
        history.append(ChatMessage("user", text))
        reply = ws.reply(
            name, model, history, max_tokens=max_tokens, temperature=temperature, on_text=None if json_out else _write
        )
        if json_out:
            emit_json(reply.as_dict())
        else:
            _write("\n")
            stderr.print(f"[dim]{reply.describe()}[/]", highlight=False)
        history.append(ChatMessage("assistant", reply.reply))
        return reply.reply

    if message is not None:
        ask(message)
        return
    stderr.print(f"Chatting with {model} on {name}. {REPL_HELP}", highlight=False)
    while True:
        stderr.print("[bold]you>[/] ", end="")
        line = sys.stdin.readline()
        if not line or line.strip() == "/exit":
            break
        text = line.strip()
        if not text:
            continue
        if text == "/reset":
            del history[1 if system else 0 :]
            stderr.print("[dim]conversation cleared[/]")
            continue
        ask(text)
