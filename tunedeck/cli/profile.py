"""`tunedeck profile …`: chat with, evaluate, inspect and teach profiles (personalization without fine-tuning)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tunedeck.cli.output import emit_json, stderr
from tunedeck.errors import UsageError

app = typer.Typer(
    help="Profiles: a system prompt, few-shot examples, remembered facts and cited document retrieval, "
    "for Claude or any chat model. Found by NAME in ./profiles/, ./examples/profiles/, then the user "
    "config dir's profiles/ (first match wins), or by path.",
    no_args_is_help=True,
)

PROVIDER_OPT = typer.Option(None, "--provider", "-p", help="Provider to run on instead of the profile's.")
MODEL_OPT = typer.Option(None, "--model", "-m", help="Model to run instead of the profile's.")
JSON_OPT = typer.Option(False, "--json", help="Write JSON to stdout.")
DATASET_ARG = typer.Argument(..., help="Held-out chat dataset (last user turn = question, last reply = reference).")


def _settings() -> Any:
    from tunedeck.settings import load_settings

    return load_settings()


def _load(name: str) -> tuple[Any, Path, Any]:
    from tunedeck.profiles.loader import load_profile

    settings = _settings()
    profile, path = load_profile(name, settings)
    return profile, path, settings


@app.command("list")
def list_cmd(json_out: bool = JSON_OPT) -> None:
    """List the profiles in the search path (a name found earlier shadows later ones)."""
    from tunedeck.profiles.loader import list_profiles

    refs = list_profiles(_settings())
    if json_out:
        emit_json([{"name": r.name, "path": str(r.path), "origin": r.origin} for r in refs])
        return
    if not refs:
        stderr.print("No profiles found in ./profiles, ./examples/profiles or the user config dir's profiles/.")
        return
    for ref in refs:
        _out(f"{ref.name}\t{ref.origin}\t{ref.path}")


@app.command("show")
def show_cmd(name: str = typer.Argument(..., help="Profile name or path."), json_out: bool = JSON_OPT) -> None:
    """Show a profile's settings and the facts it injects (stored facts are numbered for `forget`)."""
    from tunedeck.profiles.memory import memory_file, read_facts

    profile, path, settings = _load(name)
    facts_path = memory_file(profile, settings)
    stored = read_facts(facts_path)
    data = {
        "path": str(path),
        "profile": profile.model_dump(mode="json"),
        "memory_file": str(facts_path),
        "stored_facts": stored,
    }
    if json_out:
        emit_json(data)
        return
    _out(f"{profile.name}  {profile.description}".rstrip())
    _out(f"file:      {path}")
    _out(f"target:    {profile.provider}:{profile.model}  (layout {profile.resolved_layout()})")
    if profile.few_shot:
        fs = profile.few_shot
        _out(f"few-shot:  {fs.count} × {fs.selection} from {fs.dataset}")
    if profile.retrieval:
        rt = profile.retrieval
        _out(f"retrieval: top {rt.top_k} from {rt.docs} ({rt.glob})")
    _out(f"memory:    {facts_path}")
    for fact in profile.memory.facts:
        _out(f"   -  {fact}  (inline)")
    for number, fact in enumerate(stored, start=1):
        _out(f"  {number:>2}. {fact}")
    if profile.system:
        _out("system:\n" + profile.system.strip())


@app.command("remember")
def remember_cmd(name: str = typer.Argument(...), fact: str = typer.Argument(..., help="One fact, one line.")) -> None:
    """Store a fact about the user that the profile injects into every prompt."""
    from tunedeck.profiles.memory import memory_file, remember

    profile, _path, settings = _load(name)
    target = memory_file(profile, settings)
    facts = remember(target, fact)
    stderr.print(f"Remembered ({len(facts)} stored fact(s) in {target}).", markup=False, highlight=False)


@app.command("forget")
def forget_cmd(
    name: str = typer.Argument(...),
    which: str = typer.Argument(..., help="The fact's number (see `profile show`) or its text."),
) -> None:
    """Remove a stored fact (facts written in the profile file are edited there)."""
    from tunedeck.profiles.memory import forget, memory_file

    profile, _path, settings = _load(name)
    removed, _left = forget(memory_file(profile, settings), which)
    stderr.print(f"Forgot: {removed}", highlight=False, markup=False)


@app.command("chat")
def chat_cmd(
    name: str = typer.Argument(..., help="Profile name or path."),
    provider: str | None = PROVIDER_OPT,
    model: str | None = MODEL_OPT,
    message: str | None = typer.Option(None, "--message", help="Ask one question and exit (else a REPL)."),
    json_out: bool = JSON_OPT,
    show_prompt: bool = typer.Option(
        False, "--show-prompt", help="Print the assembled prompt for --message and exit, without calling a model."
    ),
    max_tokens: int | None = typer.Option(None, "--max-tokens", min=1, help="Override the profile's max_tokens."),
    temperature: float | None = typer.Option(None, "--temperature", min=0.0, max=2.0),
) -> None:
    """Answer with the profile: streams the reply, then lists the sources it cited."""
    from tunedeck.profiles.runtime import ProfileRuntime

    profile, path, settings = _load(name)
    if (json_out or show_prompt) and message is None:
        raise UsageError("--json and --show-prompt need --message.", 'Add --message "your question".')
    target = provider or profile.provider
    with ProfileRuntime.open(profile, path, settings, target) as runtime:
        if show_prompt:
            assert message is not None
            prompt = runtime.prepare(message)
            if json_out:
                emit_json(dataclasses.asdict(prompt) | {"chat_messages": prompt.chat_messages()})
            else:
                _out(prompt.render())
            return
        from providers.registry import get_provider  # deferred: adapters pull in their SDKs

        turn = _Turn(
            runtime,
            get_provider(target, settings),
            model or profile.model,
            max_tokens or profile.max_tokens,
            profile.temperature if temperature is None else temperature,
            json_out,
        )
        if message is not None:
            turn.ask(message)
            return
        _repl(turn)


@app.command("eval")
def eval_cmd(
    name: str = typer.Argument(..., help="Profile name or path."),
    dataset: Path = DATASET_ARG,
    against_model: str | None = typer.Option(
        None, "--against-model", help="The tuned model to compare with (default: the profile's model, bare)."
    ),
    against_provider: str | None = typer.Option(None, "--against-provider", help="Its provider (default: same)."),
    provider: str | None = PROVIDER_OPT,
    model: str | None = MODEL_OPT,
    limit: int | None = typer.Option(None, "--limit", min=1, help="Only the first N examples."),
    max_tokens: int | None = typer.Option(None, "--max-tokens", min=1, help="Cap each answer (default: profile's)."),
    metric: Annotated[
        list[str] | None, typer.Option("--metric", help="As `eval run --metric` (default: rouge-l, token-f1).")
    ] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Write the self-contained HTML report here.")] = None,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before a paid run."),
    json_out: bool = JSON_OPT,
) -> None:
    """`tunedeck eval run` with the profile (`profile:NAME`) against another model (or its own model, bare).

    The options are those this command always had; the output is `eval run`'s report: scores with intervals,
    the paired comparison and its verdict.
    """
    from tunedeck.cli.eval import run_request
    from tunedeck.cli.jobs import open_workspace
    from tunedeck.evaluation import EvalRequest, ModelRef

    profile, path, _settings = _load(name)
    tokens = max_tokens or profile.max_tokens
    mine = ModelRef(model=model, provider=provider, profile=str(path), label=f"profile:{profile.name}",
                    max_tokens=tokens)  # fmt: skip
    other = ModelRef(
        model=against_model or model or profile.model,
        provider=against_provider or provider or profile.provider,
        label="tuned" if against_model else "bare",
    )
    request = EvalRequest(
        models=[mine, other], data=dataset, metrics=metric or ["rouge-l", "token-f1"], max_tokens=tokens, limit=limit
    )
    run_request(open_workspace(), request, yes=yes, json_out=json_out, html=html, junit=None)


class _Turn:
    """One chat session's state: the runtime, the adapter and the conversation so far."""

    def __init__(self, runtime: Any, adapter: Any, model: str, max_tokens: int, temperature: float, json_out: bool):
        self.runtime, self.adapter, self.model = runtime, adapter, model
        self.max_tokens, self.temperature, self.json_out = max_tokens, temperature, json_out
        self.history: list[tuple[str, str]] = []

    def ask(self, question: str) -> str:
        from tunedeck.profiles.runtime import cited_sources

        prompt = self.runtime.prepare(question, self.history)
        parts: list[str] = []
        last: Any = None
        stream = self.adapter.chat(
            self.model, prompt.chat_messages(), max_tokens=self.max_tokens, temperature=self.temperature
        )
        for chunk in stream:
            if chunk.text:
                parts.append(chunk.text)
                if not self.json_out:
                    sys.stdout.write(chunk.text)
                    sys.stdout.flush()
            if chunk.finish_reason is not None:
                last = chunk
        answer = "".join(parts)
        cited = cited_sources(answer, prompt.sources)
        self.history += [("user", question), ("assistant", answer)]
        if self.json_out:
            emit_json(
                {
                    "answer": answer,
                    "model": self.model,
                    "layout": prompt.layout,
                    "sources": [dataclasses.asdict(s) | {"label": s.label} for s in prompt.sources],
                    "cited": [s.label for s in cited],
                    "finish_reason": getattr(last, "finish_reason", None),
                    "prompt_tokens": getattr(last, "prompt_tokens", None),
                    "completion_tokens": getattr(last, "completion_tokens", None),
                }
            )
            return answer
        sys.stdout.write("\n")
        if cited:
            _out("\nSources:")
            for source in cited:
                _out(f"  [{source.index}] {source.label}")
        elif prompt.sources:
            # Small models often ignore the citation rule; show what they were given anyway.
            _out("\nRetrieved (not cited):")
            for source in prompt.sources:
                _out(f"  [{source.index}] {source.label}")
        return answer


def _repl(turn: _Turn) -> None:
    stderr.print("[dim]Ask a question; an empty line, /exit or Ctrl-D quits.[/]")
    while True:
        try:
            stderr.print("[bold cyan]you>[/] ", end="")
            question = input().strip()
        except EOFError:
            break
        if not question or question in {"/exit", "/quit"}:
            break
        turn.ask(question)
        sys.stdout.write("\n")


def _out(text: str) -> None:
    """Raw text to stdout: no markup, no wrapping, so prompts and labels stay exactly as built."""
    sys.stdout.write(f"{text}\n")
