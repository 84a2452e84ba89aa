"""`tunedeck profile …`: chat with, evaluate, inspect and teach profiles (personalization without fine-tuning)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tunedeck.cli.context import workspace
from tunedeck.cli.output import emit_json, stderr
from tunedeck.errors import UsageError

app = typer.Typer(
    help="Profiles: a system prompt, few-shot examples, remembered facts and cited document retrieval, "
    "for Claude or any chat model. Found by NAME in ./profiles/, ./examples/profiles/, then the user "
    "config dir's profiles/ (first match wins; `profile list` prints the paths), or by path.",
    no_args_is_help=True,
)

PROVIDER_OPT = typer.Option(None, "--provider", "-p", help="Provider to run on instead of the profile's.")
MODEL_OPT = typer.Option(None, "--model", "-m", help="Model to run instead of the profile's.")
JSON_OPT = typer.Option(False, "--json", help="Write JSON to stdout.")
DATASET_ARG = typer.Argument(..., help="Held-out chat dataset (last user turn = question, last reply = reference).")


def _load(name: str) -> tuple[Any, Path, Any]:
    from tunedeck.profiles.loader import load_profile
    from tunedeck.settings import load_settings

    settings = load_settings()
    profile, path = load_profile(name, settings)
    return profile, path, settings


@app.command("list")
def list_cmd(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """List the profiles in the search path (a name found earlier shadows later ones)."""
    actions = workspace(ctx).profiles
    refs = actions.all()
    if json_out:
        emit_json([{"name": r.name, "path": str(r.path), "origin": r.origin} for r in refs])
        return
    if not refs:
        # One path a line, never wrapped inside: they are what the user copies to put a profile there.
        where = "".join(f"\n  {p}" for p in actions.search_dirs())
        stderr.print(f"No profiles found in:{where}", highlight=False, markup=False, soft_wrap=True)
        return
    for ref in refs:
        _out(f"{ref.name}\t{ref.origin}\t{ref.path}")


@app.command("show")
def show_cmd(
    ctx: typer.Context, name: str = typer.Argument(..., help="Profile name or path."), json_out: bool = JSON_OPT
) -> None:
    """Show a profile's settings and the facts it injects (stored facts are numbered for `forget`)."""
    view = workspace(ctx).profiles.show(name)
    profile = view.profile
    if json_out:
        emit_json(
            {
                "path": str(view.path),
                "profile": profile.model_dump(mode="json"),
                "memory_file": str(view.memory_file),
                "stored_facts": view.stored_facts,
            }
        )
        return
    _out(f"{profile.name}  {profile.description}".rstrip())
    _out(f"file:      {view.path}")
    _out(f"target:    {profile.provider}:{profile.model}  (layout {profile.resolved_layout()})")
    if profile.few_shot:
        fs = profile.few_shot
        _out(f"few-shot:  {fs.count} × {fs.selection} from {fs.dataset}")
    if profile.retrieval:
        rt = profile.retrieval
        _out(f"retrieval: top {rt.top_k} from {rt.docs} ({rt.glob})")
    _out(f"memory:    {view.memory_file}")
    for fact in profile.memory.facts:
        _out(f"   -  {fact}  (inline)")
    for number, fact in enumerate(view.stored_facts, start=1):
        _out(f"  {number:>2}. {fact}")
    if profile.system:
        _out("system:\n" + profile.system.strip())


@app.command("remember")
def remember_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    fact: str = typer.Argument(..., help="One fact, one line."),
) -> None:
    """Store a fact about the user that the profile injects into every prompt."""
    target, facts = workspace(ctx).profiles.remember(name, fact)
    stderr.print(f"Remembered ({len(facts)} stored fact(s) in {target}).", markup=False, highlight=False)


@app.command("forget")
def forget_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    which: str = typer.Argument(..., help="The fact's number (see `profile show`) or its text."),
) -> None:
    """Remove a stored fact (facts written in the profile file are edited there)."""
    removed = workspace(ctx).profiles.forget(name, which)
    stderr.print(f"Forgot: {removed}", highlight=False, markup=False)


@app.command("chat")
def chat_cmd(
    ctx: typer.Context,
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
    if (json_out or show_prompt) and message is None:
        raise UsageError("--json and --show-prompt need --message.", 'Add --message "your question".')
    session = workspace(ctx).profiles.session(
        name, provider=provider, model=model, max_tokens=max_tokens, temperature=temperature
    )
    with session:
        if show_prompt:
            assert message is not None
            prompt = session.prepare(message)
            if json_out:
                emit_json(dataclasses.asdict(prompt) | {"chat_messages": prompt.chat_messages()})
            else:
                _out(prompt.render())
            return
        if message is not None:
            _ask(session, message, json_out)
            return
        _repl(session)


@app.command("eval")
def eval_cmd(
    ctx: typer.Context,
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
    run_request(workspace(ctx), request, yes=yes, json_out=json_out, html=html, junit=None)


def _ask(session: Any, question: str, json_out: bool) -> None:
    def stream(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    answer = session.ask(question, on_text=None if json_out else stream)
    if json_out:
        emit_json(answer.as_dict())
        return
    sys.stdout.write("\n")
    if answer.cited:
        _out("\nSources:")
        for source in answer.cited:
            _out(f"  [{source.index}] {source.label}")
    elif answer.prompt.sources:
        # Small models often ignore the citation rule; show what they were given anyway.
        _out("\nRetrieved (not cited):")
        for source in answer.prompt.sources:
            _out(f"  [{source.index}] {source.label}")


def _repl(session: Any) -> None:
    stderr.print("[dim]Ask a question; an empty line, /exit or Ctrl-D quits.[/]")
    while True:
        try:
            stderr.print("[bold cyan]you>[/] ", end="")
            question = input().strip()
        except EOFError:
            break
        if not question or question in {"/exit", "/quit"}:
            break
        _ask(session, question, json_out=False)
        sys.stdout.write("\n")


def _out(text: str) -> None:
    """Raw text to stdout: no markup, no wrapping, so prompts and labels stay exactly as built."""
    sys.stdout.write(f"{text}\n")
