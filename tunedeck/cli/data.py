"""`tunedeck data …`: validate, stats, convert and split fine-tuning datasets.

The commands only parse options and format results; the work is done by `tunedeck.data`, which the
TUI calls too. Human output goes to stdout (to stderr when the dataset itself is written to stdout),
`--json` replaces it with one JSON document, and progress bars go to stderr. Errors are raised as
TunedeckError and reported by the one error path (`tunedeck.cli.errorpath`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from tunedeck.cli.context import workspace
from tunedeck.cli.data_outputs import ForceOpt, may_replace, summary_console
from tunedeck.cli.output import emit_json, stderr, stdout
from tunedeck.data.formats import DatasetFormat
from tunedeck.data.issues import Code, Issue
from tunedeck.data.stats import DatasetStats, Distribution
from tunedeck.errors import TunedeckError
from tunedeck.events import ProgressAdvanced, Publish, ignore
from tunedeck.exitcodes import ExitCode

app = typer.Typer(help="Validate, inspect, convert and split fine-tuning datasets.", no_args_is_help=True)

# Below this size a run takes well under a second and a bar would only flicker.
PROGRESS_MIN_BYTES = 20 * 1024 * 1024
SHOW_ERRORS = 20
SHOW_WARNINGS = 10


class ProviderChoice(StrEnum):
    OPENAI = "openai"
    VERTEX = "vertex"
    LOCAL = "local"


def _no_usable_examples(file: Path, errors: list[Issue], n_examples: int) -> TunedeckError:
    from tunedeck.data.convert import nothing_usable

    # File-level verdicts ("0 usable examples; needs at least 10") only repeat the title.
    per_line = [e for e in errors if e.code not in (Code.TOO_FEW_EXAMPLES, Code.FORMAT_NOT_ACCEPTED)]
    return nothing_usable(file, "there is nothing to measure", per_line, n_examples)


@contextlib.contextmanager
def _progress(path: Path, quiet: bool) -> Iterator[Publish]:
    """A rich bar on stderr for big files on a terminal; a sink that ignores everything otherwise."""
    try:
        big = path.stat().st_size >= PROGRESS_MIN_BYTES
    except OSError:
        big = False
    if quiet or not big or not stderr.is_terminal:
        yield ignore
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    # No auto-refresh thread: the core forks tokenizer workers only from a single-threaded process.
    with RichProgress(*columns, console=stderr, transient=True, auto_refresh=False) as bar:
        task = bar.add_task(path.name, total=None)

        def sink(progress: ProgressAdvanced) -> None:
            bar.update(task, completed=progress.done, total=progress.total, description=progress.task)
            bar.refresh()

        yield sink


def _issue_lines(
    title: str,
    issues: list[Issue],
    limit: int,
    style: str,
    console: Console = stdout,
    omitted: dict[str, int] | None = None,
) -> None:
    """Each problem with its line; one repeated on many lines (`missing-system` on every row) is said once,
    with its count and its first lines."""
    from tunedeck.data.issues import summarise

    if not issues:
        return
    groups = summarise(issues, omitted)
    shown = f" (first {limit} of {len(groups)})" if len(groups) > limit else ""
    console.print(f"[bold {style}]{title}{shown}[/]")
    for group in groups[:limit]:
        if group.repeated:
            lines = ", ".join(str(n) for n in group.lines if n is not None)
            more = ", …" if group.count > len(group.lines) else ""
            console.print(
                f"  {group.count:>6,}×      [{style}]{group.code:<26}[/] {escape(group.message)} "
                f"[dim](lines {lines}{more})[/]",
                highlight=False,
                soft_wrap=True,
            )
            continue
        for line in group.lines:
            where = f"line {line:>6}" if line is not None else "file       "
            console.print(
                f"  {where}  [{style}]{group.code:<26}[/] {escape(group.message)}", highlight=False, soft_wrap=True
            )


def _dist(value: Distribution | None) -> str:
    if value is None:
        return "–"
    return (
        f"min {value.min:,}  p10 {value.p10:,g}  median {value.median:,g}  mean {value.mean:,g}  "
        f"p90 {value.p90:,g}  max {value.max:,}"
    )


def _print_stats(stats: DatasetStats) -> None:
    approx = " (estimate)" if stats.tokens_are_estimate else ""
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("format", escape(f"{stats.format} → {stats.provider} / {stats.model}"))
    table.add_row(
        "examples", f"{stats.n_examples:,} ({stats.n_valid_examples:,} usable, {stats.duplicates:,} duplicates)"
    )
    table.add_row("messages / example", _dist(stats.messages_per_example))
    table.add_row(f"tokens / example{approx}", _dist(stats.tokens_per_example))
    table.add_row(f"assistant tokens / example{approx}", _dist(stats.assistant_tokens_per_example))
    table.add_row("missing system / user", f"{stats.missing_system:,} / {stats.missing_user:,}")
    limit = f"{stats.token_limit:,}" if stats.token_limit else "none known"
    table.add_row("over token limit", f"{stats.over_token_limit:,} (limit {limit} per example)")
    table.add_row(f"billable tokens / epoch{approx}", f"{stats.billable_tokens:,}")
    table.add_row("token counting", escape(stats.token_method))
    auto = "provider default (not published)" if stats.auto_epochs is None else str(stats.auto_epochs)
    table.add_row("epochs (auto)", auto)
    if stats.cost is not None:
        table.add_row("training cost", f"[bold]{escape(stats.cost.describe())}[/], {stats.epochs} epoch(s)")
        table.add_row("using the tuned model", escape(stats.cost.price.describe_usage()))
    if stats.cost_note:
        table.add_row("", f"[dim]{escape(stats.cost_note)}[/]")
    stdout.print(table)
    _warn_if_old(stats)


def _warn_if_old(stats: DatasetStats) -> None:
    stale = stats.cost.price.staleness() if stats.cost is not None else None
    if stale is not None:
        stderr.print(f"[yellow]warning:[/] {escape(stale)}", highlight=False, soft_wrap=True)


@app.command()
def validate(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The dataset (JSONL or CSV).")],
    provider: Annotated[
        ProviderChoice, typer.Option("--provider", "-p", help="Whose rules to apply.")
    ] = ProviderChoice.OPENAI,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Base model (default: the provider's usual one).")
    ] = None,
    validation_file: Annotated[
        Path | None, typer.Option("--validation-file", help="Warn about overlap with it.")
    ] = None,
    fmt: Annotated[DatasetFormat | None, typer.Option("--format", "-f", help="Skip format detection.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Write the full report as JSON to stdout.")] = False,
    max_per_code: Annotated[
        int, typer.Option("--max-per-code", min=0, help="List at most N issues per code (all are counted); 0: all.")
    ] = 10_000,
) -> None:
    """Check every record against the provider's rules; exit 1 if there are errors, 2 if unreadable."""
    with _progress(file, as_json) as sink:
        report = workspace(ctx).data.validate(
            file, provider.value, model, validation_file, fmt, progress=sink, max_per_code=max_per_code or None
        )
    if as_json:
        emit_json(report)
    else:
        mark = "[bold green]✓[/]" if report.ok else "[bold red]✗[/]"
        unit = "rows" if report.format == DatasetFormat.CSV.value else "records"
        read = f"{report.stats.n_examples:,} {unit} read, {report.stats.n_valid_examples:,} usable"
        stdout.print(
            f"{mark} {escape(str(file))}: {report.n_errors:,} error(s), {report.n_warnings:,} warning(s) — "
            f"{read}, {report.format}, checked for {report.provider} / {escape(report.model)}",
            highlight=False,
            soft_wrap=True,
        )
        _issue_lines("Errors", report.errors, SHOW_ERRORS, "red", omitted=report.omitted)
        _issue_lines("Warnings", report.warnings, SHOW_WARNINGS, "yellow", omitted=report.omitted)
        if report.counts:
            stdout.print("[bold]Per code[/]")
            for code, count in sorted(report.counts.items(), key=lambda item: (-item[1], item[0])):
                unlisted = report.omitted.get(code, 0)
                more = f"  ({unlisted:,} not listed in the report)" if unlisted else ""
                stdout.print(f"  {code:<28} {count:>8,}{more}", highlight=False, soft_wrap=True)
        if report.stats.cost is not None:
            stdout.print(f"Training: {escape(report.stats.cost.describe())}", highlight=False, soft_wrap=True)
            usage = report.stats.cost.price.describe_usage()
            stdout.print(f"Using the tuned model: {escape(usage)}", highlight=False, soft_wrap=True)
            _warn_if_old(report.stats)
    raise typer.Exit(int(ExitCode.OK if report.ok else ExitCode.BAD_INPUT))


@app.command()
def stats(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The dataset (JSONL or CSV).")],
    provider: Annotated[
        ProviderChoice, typer.Option("--provider", "-p", help="Whose prices/limits.")
    ] = ProviderChoice.OPENAI,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Base model; picks the tokenizer and price.")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", "-e", help="tiktoken encoding (cl100k_base, o200k_base).")
    ] = None,
    epochs: Annotated[
        int | None, typer.Option("--epochs", min=1, max=100, help="Epochs for the cost (default: auto).")
    ] = None,
    fmt: Annotated[DatasetFormat | None, typer.Option("--format", "-f", help="Skip format detection.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Write the stats as JSON to stdout.")] = False,
) -> None:
    """Counts, token distributions, auto epochs and the estimated training cost."""
    with _progress(file, as_json) as sink:
        report = workspace(ctx).data.validate(
            file, provider.value, model, None, fmt, encoding=encoding, epochs=epochs, progress=sink
        )
    if report.stats.n_valid_examples == 0:  # an empty or binary file has no statistics worth an exit 0
        raise _no_usable_examples(file, report.errors, report.stats.n_examples)
    if as_json:
        emit_json(report.stats)
        return
    _print_stats(report.stats)
    if report.errors:
        stderr.print(
            f"[yellow]{len({e.line for e in report.errors}):,} line(s) have errors and are left out; "
            f"run `tunedeck data validate {escape(str(file))}`.[/]"
        )


@app.command()
def convert(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="The dataset to read.")],
    target: Annotated[
        Path, typer.Argument(help="Where to write (never the input); `-` or a FIFO streams.", allow_dash=True)
    ],
    to: Annotated[DatasetFormat, typer.Option("--to", "-t", help="Target format.")],
    fmt: Annotated[
        DatasetFormat | None, typer.Option("--format", "-f", help="Input format (default: detected).")
    ] = None,
    force: ForceOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Write the result as JSON to stdout.")] = False,
) -> None:
    """Rewrite a dataset in another format and say what could not be carried over."""
    console = summary_console(target, as_json=as_json)
    overwrite = may_replace(force, target)
    with _progress(source, as_json) as sink:
        result = workspace(ctx).data.convert(source, target, to, fmt, progress=sink, overwrite=overwrite)
    if as_json:
        emit_json(result)
    else:
        console.print(
            f"Wrote {result.n_written:,} of {result.n_read:,} examples ({result.input_format} → "
            f"{result.output_format}) to {escape(result.output_path)}",
            highlight=False,
            soft_wrap=True,
        )
        for note in result.notes:
            lines = ", ".join(map(str, note.lines))
            console.print(f"  [yellow]not carried[/] {escape(note.message)}: {note.count:,} example(s), lines {lines}…")
        _issue_lines("Skipped records with errors", result.input_errors, SHOW_ERRORS, "red", console)
    raise typer.Exit(int(ExitCode.BAD_INPUT if result.input_errors else ExitCode.OK))


@app.command()
def split(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="The dataset to split.")],
    validation: Annotated[float, typer.Option("--validation", "-v", help="Share for validation, e.g. 0.1.")] = 0.1,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Same seed, same split.")] = 0,
    train_out: Annotated[
        Path | None,
        typer.Option(
            "--train-out",
            help="Default: beside SOURCE, its stem + .train.jsonl (.train.csv when SOURCE is a CSV).",
            allow_dash=True,
        ),
    ] = None,
    validation_out: Annotated[
        Path | None,
        typer.Option(
            "--validation-out",
            help="Default: beside SOURCE, its stem + .validation.jsonl (.validation.csv when SOURCE is a CSV).",
            allow_dash=True,
        ),
    ] = None,
    fmt: Annotated[
        DatasetFormat | None, typer.Option("--format", "-f", help="Input format (default: detected).")
    ] = None,
    force: ForceOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Write the result as JSON to stdout.")] = False,
) -> None:
    """Split deterministically into training and validation files in SOURCE's own format (a CSV stays CSV);
    duplicates stay on one side."""
    from tunedeck.data.reader import resolve_format
    from tunedeck.data.split import default_outputs

    if train_out is None or validation_out is None:
        default_train, default_validation = default_outputs(
            source, resolve_format(source, fmt, DatasetFormat.OPENAI_CHAT)
        )
        train_out, validation_out = train_out or default_train, validation_out or default_validation
    console = summary_console(train_out, validation_out, as_json=as_json)
    overwrite = may_replace(force, train_out, validation_out)
    with _progress(source, as_json) as sink:
        result = workspace(ctx).data.split(
            source, validation, seed, train_out, validation_out, fmt, progress=sink, overwrite=overwrite
        )
    if as_json:
        emit_json(result)
    else:
        console.print(
            f"{result.n_train:,} training examples → {escape(result.train_path)}\n"
            f"{result.n_validation:,} validation examples → {escape(result.validation_path)}\n"
            f"seed {result.seed}; {result.duplicates:,} duplicate(s) kept with their copies",
            highlight=False,
            soft_wrap=True,
        )
        _issue_lines("Skipped records with errors", result.skipped, SHOW_ERRORS, "red", console)
    raise typer.Exit(int(ExitCode.BAD_INPUT if result.skipped else ExitCode.OK))
