"""`tunedeck eval …`: compare models (and profiles) on held-out data with paired statistics; thin over EvalActions."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tunedeck.cli.context import workspace as workspace_of
from tunedeck.cli.options import JsonOpt, YesOpt, confirm
from tunedeck.cli.output import emit_json, stderr, stdout
from tunedeck.errors import UsageError
from tunedeck.exitcodes import ExitCode

if TYPE_CHECKING:
    from tunedeck.evaluation import EvalPlan, EvalReport, EvalRequest
    from tunedeck.workspace import Workspace

app = typer.Typer(
    help="Evaluate models and profiles on held-out data: metrics, judges, paired tests, reports.",
    no_args_is_help=True,
)

RunArg = Annotated[str, typer.Argument(help="Evaluation run id (ev-…), see `tunedeck eval list`.")]
MetricOpt = Annotated[
    list[str] | None,
    typer.Option("--metric", help="NAME[:ARG], repeatable: exact, normalized, contains:T, not-contains:T, regex:P, "
                 "json-schema:FILE, token-f1, rouge-l, length (default: token-f1 and rouge-l)."),
]  # fmt: skip
FailIfOpt = Annotated[
    list[str] | None,
    typer.Option("--fail-if", help='Exit 1 when true, e.g. "B.contains < A.contains" or "A.rouge-l < 0.3".'),
]
HtmlOpt = Annotated[Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")]
JunitOpt = Annotated[Path | None, typer.Option("--junit", help="Write JUnit XML here (for CI).")]


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    eval_file: Annotated[Path | None, typer.Argument(help="An eval file (YAML): models, data, metrics.")] = None,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Repeatable: a model id, LABEL=MODEL, or profile:NAME."),
    ] = None,
    data: Annotated[Path | None, typer.Option("--data", "-d", help="Held-out file (any dataset format).")] = None,
    provider: Annotated[str | None, typer.Option("--provider", "-p", help="Provider of every --model.")] = None,
    metric: MetricOpt = None,
    judge: Annotated[str | None, typer.Option("--judge", help="A model that grades answers with --rubric.")] = None,
    judge_provider: Annotated[str | None, typer.Option("--judge-provider", help="Default: inferred.")] = None,
    rubric: Annotated[str | None, typer.Option("--rubric", help="What a good answer does: text, or a file.")] = None,
    pairwise: Annotated[bool, typer.Option("--pairwise", help="Also judge each pair, asking in both orders.")] = False,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", "-c", min=1, help="Requests in flight at most (default 4).")
    ] = None,
    repeat: Annotated[int | None, typer.Option("--repeat", min=1, help="Ask each item K times.")] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", min=1, help="Per answer (default 256).")] = None,
    temperature: Annotated[float | None, typer.Option("--temperature", min=0.0, max=2.0, help="Default 0.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N items.")] = None,
    resume: Annotated[str | None, typer.Option("--resume", help="Continue this run (ev-…).")] = None,
    retry_errors: Annotated[bool, typer.Option("--retry-errors", help="Ask again where an answer failed.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ask even when a stored answer matches.")] = False,
    fail_if: FailIfOpt = None,
    html: HtmlOpt = None,
    junit: JunitOpt = None,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Ask every model every held-out item, score the answers, compare each pair on the same items."""
    from tunedeck.evaluation import EvalRequest, ModelRef

    if eval_file is not None:
        from tunedeck.evaluation.evalfile import load_eval_file

        request = load_eval_file(eval_file)
    else:
        request = EvalRequest()
    if model:
        request.models = [ModelRef.parse(text, provider) for text in model]
    elif provider:
        request.models = [dataclasses.replace(m, provider=m.provider or provider) for m in request.models]
    request.data = data or request.data
    request.metrics = metric or request.metrics
    request.judge_model = judge or request.judge_model
    request.judge_provider = judge_provider or request.judge_provider
    request.rubric = rubric or request.rubric
    request.pairwise = pairwise or request.pairwise
    for name, value in (("concurrency", concurrency), ("repeat", repeat), ("max_tokens", max_tokens),
                        ("temperature", temperature), ("limit", limit)):  # fmt: skip
        if value is not None:
            setattr(request, name, value)
    request.resume, request.retry_errors, request.no_cache = resume, retry_errors, no_cache
    request.fail_if = fail_if or request.fail_if
    run_request(workspace_of(ctx), request, yes=yes, json_out=json_out, html=html, junit=junit)


def run_request(
    workspace: Workspace, request: EvalRequest, *, yes: bool, json_out: bool, html: Path | None, junit: Path | None
) -> None:
    """Plan, show the plan and ask when it costs money, run with a progress bar, then report (shared with profile)."""
    _refuse_data_file(request.data, html, junit)
    evals = workspace.evals
    plan = evals.plan(request)
    _show_plan(plan)
    if plan.estimate.costs_money:
        confirm(f"Run the evaluation: {plan.estimate.describe()}?", yes)
    try:
        with _progress(workspace):
            report = evals.execute(plan)
    except KeyboardInterrupt:
        run_id = plan.run.id if plan.run else "?"
        stderr.print(
            f"[yellow]interrupted[/]: the answers so far are stored in {run_id}. Continue with "
            f"`tunedeck eval run --resume {run_id}` (or run the same command again).",
            highlight=False,
        )
        raise typer.Exit(int(ExitCode.CANCELLED)) from None
    _finish(report, json_out=json_out, html=html, junit=junit)


@app.command("report")
def report_cmd(
    ctx: typer.Context,
    run_id: RunArg,
    html: HtmlOpt = None,
    junit: JunitOpt = None,
    fail_if: FailIfOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show a stored run again (no model is asked); --html writes the self-contained report."""
    report = workspace_of(ctx).evals.report(run_id, fail_if or None)
    _finish(report, json_out=json_out, html=html, junit=junit)


@app.command("rescore")
def rescore_cmd(
    ctx: typer.Context,
    run_id: RunArg,
    metric: MetricOpt = None,
    html: HtmlOpt = None,
    junit: JunitOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Score a run's stored answers with other metrics, asking no model (judge verdicts are kept)."""
    report = workspace_of(ctx).evals.rescore(run_id, metric or [])
    _finish(report, json_out=json_out, html=html, junit=junit)


@app.command("list")
def list_cmd(ctx: typer.Context, json_out: JsonOpt = False) -> None:
    """Evaluation runs in the store, newest first."""
    runs = workspace_of(ctx).evals.runs()
    if json_out:
        emit_json([dataclasses.asdict(r) for r in runs])
        return
    if not runs:
        stderr.print("No evaluation runs yet: `tunedeck eval run --model A --model B --data HELDOUT`.")
        return
    from rich.table import Table

    table = Table(box=None)
    for header in ("run", "created", "status", "models", "data"):
        table.add_column(header)
    for run in runs:
        models = ", ".join(t["label"] for t in run.spec.get("targets", []))
        table.add_row(run.id, f"{run.created_at:%Y-%m-%d %H:%M}", run.status, models, run.spec["data"].get("path", ""))
    stdout.print(table)


# -- output ----------------------------------------------------------------------------------------------


def _show_plan(plan: EvalPlan) -> None:
    if plan.run is not None:
        stderr.print(f"continuing {plan.run.id}: {plan.recorded} answer(s) already recorded", highlight=False)
    for target in plan.targets:
        stderr.print(f"  {target.label}: {target.describe()}", highlight=False, markup=False)
    cached = f", {plan.from_cache} from the cache" if plan.from_cache else ""
    stderr.print(
        f"{len(plan.items)} item(s); {plan.to_ask} answer(s) to ask{cached}; {plan.estimate.describe()}",
        highlight=False,
        markup=False,
    )
    for warning in plan.leakage:
        stderr.print(f"[yellow]warning:[/] {_escape(warning)}", highlight=False)


def _finish(report: EvalReport, *, json_out: bool, html: Path | None, junit: Path | None) -> None:
    from tunedeck.evaluation.junit import write_junit
    from tunedeck.evaluation.report_html import write_html

    _refuse_data_file(Path(str(report.data.get("path", ""))), html, junit)
    if html is not None:
        write_html(report, html)
        stderr.print(f"HTML report: {html}", highlight=False, markup=False)
    if junit is not None:
        write_junit(report, junit)
        stderr.print(f"JUnit XML: {junit}", highlight=False, markup=False)
    if json_out:
        emit_json(dataclasses.asdict(report) | {"gates_crossed": [g.condition for g in report.gates_crossed]})
    else:
        from tunedeck.cli.eval_table import print_report

        print_report(report)
    if report.errors:
        stderr.print(
            f"[yellow]warning:[/] {len(report.errors)} answer(s) failed and are left out; "
            f"`tunedeck eval run --resume {report.run_id} --retry-errors` asks them again.",
            highlight=False,
        )
    if report.gates_crossed:
        for gate in report.gates_crossed:
            stderr.print(f"[red]gate crossed:[/] {_escape(gate.condition)} ({_escape(gate.detail)})", highlight=False)
        raise typer.Exit(int(ExitCode.BAD_INPUT))


def _refuse_data_file(data: Path | None, *outputs: Path | None) -> None:
    """A report written over the held-out file would destroy it: refuse before anything is asked or written."""
    if data is None:
        return
    for target in outputs:
        if target is not None and target.resolve() == data.resolve():
            raise UsageError(f"{target} is the held-out data file: refusing to write a report over it.",
                             "Give another path for --html / --junit.")  # fmt: skip


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@contextlib.contextmanager
def _progress(workspace: Workspace) -> Iterator[None]:
    """A rich bar on stderr fed by the workspace's ProgressAdvanced events (stdout stays clean for --json)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tunedeck.events import ProgressAdvanced

    if not stderr.is_terminal:  # a log or a pipe (`--json 2>log`): a line per tenth, never a silent minute
        unsubscribe = workspace.bus.subscribe(
            _log_line(), lambda e: isinstance(e, ProgressAdvanced) and e.task.startswith("eval")
        )
        try:
            yield
        finally:
            unsubscribe()
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[message]}"),
    )
    with Progress(*columns, console=stderr, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def show(event: ProgressAdvanced) -> None:
            if event.task not in tasks:
                tasks[event.task] = bar.add_task(event.task, total=event.total, message="")
            bar.update(tasks[event.task], completed=event.done, total=event.total, message=_escape(event.message))

        def accepts(event: object) -> bool:
            return isinstance(event, ProgressAdvanced) and event.task.startswith("eval")

        unsubscribe = workspace.bus.subscribe(show, accepts)
        try:
            yield
        finally:
            unsubscribe()


def _log_line() -> Any:
    """Progress for a log: the first call, each further tenth of the total (every 10 calls when it is unknown),
    and the last, each as one plain line on stderr."""
    from tunedeck.events import ProgressAdvanced

    said: dict[str, float] = {}

    def say(event: ProgressAdvanced) -> None:
        step = event.total / 10 if event.total else 10.0
        last = said.get(event.task)
        if last is not None and event.done < last + step and event.done != event.total:
            return
        said[event.task] = event.done
        of = f"/{event.total:g}" if event.total else ""
        detail = f" · {event.message}" if event.message else ""
        stderr.print(f"{event.task}: {event.done:g}{of} {event.unit}{detail}", highlight=False, markup=False)

    return say
