"""`tunedeck chat`: stream a reply from any model (base, fine-tuned, deployed); a REPL without --message."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tunedeck.cli.jobs import JsonOpt, open_workspace
from tunedeck.cli.output import emit_json, stderr
from tunedeck.errors import UsageError

if TYPE_CHECKING:
    from providers.base import ChatMessage
    from tunedeck.workspace import Workspace

REPL_HELP = "/reset clears the conversation, /exit (or Ctrl-D) quits."


def chat(
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

    workspace = open_workspace()
    name = provider or workspace.guess_provider(model)
    if name is None:
        raise UsageError(f"Cannot tell which provider serves {model!r}.", "Add --provider (openai, vertex, local, …).")
    history: list[ChatMessage] = [ChatMessage("system", system)] if system else []
    if message is not None:
        history.append(ChatMessage("user", message))
        result = timed_reply(workspace, name, model, history, max_tokens, temperature, stream=not json_out)
        if json_out:
            emit_json(result)
        return
    if json_out:
        raise UsageError("--json needs --message: the interactive REPL writes text.")
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
            history = history[:1] if system else []
            stderr.print("[dim]conversation cleared[/]")
            continue
        history.append(ChatMessage("user", text))
        result = timed_reply(workspace, name, model, history, max_tokens, temperature, stream=True)
        history.append(ChatMessage("assistant", result["reply"]))


def timed_reply(
    workspace: Workspace,
    provider: str,
    model: str,
    history: list[ChatMessage],
    max_tokens: int,
    temperature: float,
    *,
    stream: bool,
) -> dict[str, Any]:
    """One reply with its timing and usage; streamed to stdout (timing to stderr) when `stream`."""
    started = time.monotonic()
    first: float | None = None
    parts: list[str] = []
    final: dict[str, Any] = {"finish_reason": None, "prompt_tokens": None, "completion_tokens": None}
    for chunk in workspace.chat(provider, model, history, max_tokens=max_tokens, temperature=temperature):
        if chunk.text:
            first = first if first is not None else time.monotonic() - started
            parts.append(chunk.text)
            if stream:
                sys.stdout.write(chunk.text)
                sys.stdout.flush()
        if chunk.finish_reason is not None:
            final = {
                "finish_reason": chunk.finish_reason,
                "prompt_tokens": chunk.prompt_tokens,
                "completion_tokens": chunk.completion_tokens,
            }
    total = time.monotonic() - started
    if stream:
        sys.stdout.write("\n")
        sys.stdout.flush()
        tokens = final.get("completion_tokens")
        ttft = f"{first:.2f}s" if first is not None else "—"
        stderr.print(f"[dim]{tokens or '?'} tokens, first token {ttft}, {total:.2f}s[/]", highlight=False)
    return {
        "provider": provider,
        "model": model,
        "reply": "".join(parts),
        "first_token_s": first,
        "total_s": total,
        **final,
    }
