"""`tunedeck profile …`: chat with, evaluate, inspect and teach profiles (personalization without fine-tuning)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import typer

from tunedeck.cli.context import workspace
from tunedeck.cli.output import emit_json, stderr, stdout
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
        where = ", ".join(str(p) for p in actions.search_dirs())
        stderr.print(f"No profiles found in: {where}.", highlight=False, markup=False)
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
    json_out: bool = JSON_OPT,
) -> None:
    """Score the profile's answers and another model's against the references (ROUGE-L F1, token F1)."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    from tunedeck.profiles.evaluate import EvalProgress, EvalSummary, evaluate_profile

    profile, path, settings = _load(name)
    events = evaluate_profile(
        profile,
        path,
        dataset,
        settings=settings,
        provider=provider,
        model=model,
        against_provider=against_provider,
        against_model=against_model,
        limit=limit,
        max_tokens=max_tokens,
    )
    summary: EvalSummary | None = None
    columns = [TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    columns.append(TextColumn("{task.description}"))
    with Bar(*columns, console=stderr, transient=True) as bar:
        task = bar.add_task("", total=None)
        for event in events:
            if isinstance(event, EvalProgress):
                p = event.progress
                bar.update(task, completed=p.done, total=p.total, description=p.message)
            elif isinstance(event, EvalSummary):
                summary = event
    assert summary is not None
    if json_out:
        emit_json(dataclasses.asdict(summary))
    else:
        _print_eval(summary)


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


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _clip(text: str, width: int = 160) -> str:
    """One line, at most `width` characters, with rich markup escaped (answers contain "[1]")."""
    from rich.markup import escape

    from tunedeck.profiles.evaluate import one_line

    return escape(one_line(text, width))


def _print_eval(summary: Any) -> None:
    from rich.table import Table

    other = f"{summary.against_label} ({summary.against_target})"
    table = Table(title=f"profile {summary.profile} ({summary.profile_target}) vs {other}", show_lines=True)
    headers = ("#", "question / reference", "profile answer", "R-L", "F1", f"{summary.against_label} answer")
    for header in (*headers, "R-L", "F1"):
        table.add_column(header, overflow="fold")
    for row in summary.rows:
        mine, theirs = row.profile, row.against
        table.add_row(
            str(row.index),
            f"{_clip(row.question, 100)}\n[dim]{_clip(row.reference, 100)}[/]",
            _clip(mine.text) if mine.error is None else f"[red]{_clip(mine.error)}[/]",
            _fmt(mine.rouge_l),
            _fmt(mine.token_f1),
            _clip(theirs.text) if theirs.error is None else f"[red]{_clip(theirs.error)}[/]",
            _fmt(theirs.rouge_l),
            _fmt(theirs.token_f1),
        )
    m = summary.means
    table.add_row(
        "",
        "[bold]mean[/]",
        "",
        _fmt(m["profile_rouge_l"]),
        _fmt(m["profile_token_f1"]),
        "",
        _fmt(m["against_rouge_l"]),
        _fmt(m["against_token_f1"]),
    )
    stdout.print(table)
