"""`DatasetsScreen`: open a dataset file and see what `tunedeck data validate` says — problems by line (the raw
line shown for the selected one), token statistics, roles and duplicates — then `c` convert or `s` split it
into new files. A file that exists is replaced only after a confirmation that defaults to Cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Input, Static

from tui.deck import Deck, reported
from tui.screens.base import DeckScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.dataset_output import ConvertChoice, ConvertScreen, SplitChoice, SplitScreen
from tui.widgets.status_header import StatusHeader
from tui.work_messages import DatasetLoaded, DatasetWritten

RAW_LINE_CHARS = 2000


def describe_stats(stats: Any) -> Text:
    """The statistics pane: sizes, tokens (with a min–p10–median–p90–max strip), roles, duplicates, cost."""
    text = Text()
    text.append(f"{stats.n_examples} examples", style="bold")
    text.append(f" ({stats.n_valid_examples} valid) · {stats.n_lines} lines · {stats.n_bytes:,} bytes\n")
    tokens = stats.tokens_per_example
    if tokens is not None:
        text.append("tokens/example ", style="bold")
        text.append(f"min {tokens.min} · p10 {tokens.p10:.0f} · median {tokens.median:.0f} · p90 {tokens.p90:.0f}"
                    f" · max {tokens.max}\n")  # fmt: skip
        text.append(length_strip(tokens) + "\n", style="cyan")
    messages = stats.messages_per_example
    if messages is not None:
        text.append("turns/example ", style="bold")
        text.append(f"min {messages.min} · median {messages.median:.0f} · max {messages.max}\n")
    text.append(f"no system prompt {stats.missing_system} · no user turn {stats.missing_user} · "
                f"distinct system prompts {stats.distinct_system_prompts}\n")  # fmt: skip
    text.append(f"duplicates {stats.duplicates} · over the token limit {stats.over_token_limit}\n")
    text.append(f"billable tokens/epoch {stats.billable_tokens:,} ({stats.token_method})\n", style="dim")
    if stats.cost is not None:
        text.append(f"estimate: {stats.cost.describe()}\n")
    return text


def length_strip(dist: Any, width: int = 24) -> str:
    """Example lengths on one line: ▕ spans min..max, ▒ the p10–p90 band, █ the median."""
    span = max(dist.max - dist.min, 1)

    def at(value: float) -> int:
        return min(width - 1, int((value - dist.min) / span * (width - 1)))

    cells = ["·"] * width
    for i in range(at(dist.p10), at(dist.p90) + 1):
        cells[i] = "▒"
    cells[at(dist.median)] = "█"
    return f"{dist.min} ▕{''.join(cells)}▏ {dist.max}"


class DatasetsScreen(DeckScreen):
    TITLE_TEXT = "Datasets"
    CSS_PATH = "../part2.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "open", "open", id="datasets.open"),
        Binding("c", "convert", "convert", id="datasets.convert"),
        Binding("s", "split", "split", id="datasets.split"),
        Binding("n", "next_problem", "next problem", id="datasets.next"),
        Binding("N", "previous_problem", "previous", show=False, id="datasets.previous"),
    ]

    def __init__(self, deck: Deck, path: Path | None = None) -> None:
        super().__init__(deck)
        self.initial_path = path
        self.path: Path | None = None
        self.report: Any = None
        self.lines: list[int | None] = []

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.TITLE_TEXT)
        with Horizontal(id="ds-open"):
            yield Input(str(self.initial_path or ""), placeholder="a dataset file (enter opens)", id="ds-path")
            yield Input("openai", placeholder="provider to check for", id="ds-provider")
        with Horizontal(id="ds-body"):
            table: DataTable[Any] = DataTable(id="ds-problems", cursor_type="row", zebra_stripes=True)
            table.border_title = "Problems"
            yield table
            with VerticalScroll(id="ds-side"):
                yield Static(Text("Open a file: type its path above and press enter.", style="dim"), id="ds-stats")
                yield Static("", id="ds-raw")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#ds-problems", DataTable).add_columns("Line", "", "Code", "Problem")
        self.query_one("#ds-path", Input).focus()
        if self.initial_path:
            self.open_file(self.initial_path)

    # -- validating ----------------------------------------------------------------------------------------

    @on(Input.Submitted, "#ds-path, #ds-provider")
    def _path_entered(self) -> None:
        value = self.query_one("#ds-path", Input).value.strip()
        if value:
            self.open_file(Path(value).expanduser())

    def open_file(self, path: Path) -> None:
        self.query_one("#ds-stats", Static).update(Text(f"Validating {path}…", style="dim"))
        self.validate(path, self.query_one("#ds-provider", Input).value.strip() or "openai")

    @work(thread=True, exclusive=True, group="datasets", exit_on_error=False)
    def validate(self, path: Path, provider: str) -> None:
        report = None
        with reported(self, f"Validating {path.name}"):
            report = self.ws.data.validate(path, provider)
        self.post_message(DatasetLoaded(str(path), report))

    def on_dataset_loaded(self, message: DatasetLoaded) -> None:
        report, table = message.report, self.query_one("#ds-problems", DataTable)
        table.clear()
        self.lines = []
        if report is None:
            self.query_one("#ds-stats", Static).update(Text("Could not validate (see the notification).", style="red"))
            return
        self.path, self.report = Path(message.path), report
        for issue in [*report.errors, *report.warnings]:
            severity = Text("error", style="red") if issue.severity == "error" else Text("warn", style="yellow")
            table.add_row(str(issue.line or "—"), severity, issue.code, Text(issue.message))
            self.lines.append(issue.line)
        verdict = "ok" if report.ok else f"{report.n_errors} errors block submitting"
        table.border_title = f"{Path(report.path).name} ({report.format}) · {verdict} · {report.n_warnings} warnings"
        self.query_one("#ds-stats", Static).update(describe_stats(report.stats))
        if self.lines:
            table.focus()

    @on(DataTable.RowHighlighted, "#ds-problems")
    def _problem_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.path is not None and 0 <= event.cursor_row < len(self.lines):
            line = self.lines[event.cursor_row]
            if line is not None:
                self.read_line(self.path, line)
            else:
                self.query_one("#ds-raw", Static).update(Text("(a problem of the whole file)", style="dim"))

    @work(thread=True, exclusive=True, group="datasets-line", exit_on_error=False)
    def read_line(self, path: Path, number: int) -> None:
        with reported(self, "Reading the line"), path.open("rb") as handle:
            for n, raw in enumerate(handle, start=1):
                if n == number:
                    shown = raw.decode("utf-8", errors="replace").rstrip("\n")[:RAW_LINE_CHARS]
                    body = Text.assemble((f"line {number}\n", "bold"), shown)
                    self.app.call_from_thread(self.query_one("#ds-raw", Static).update, body)
                    return

    # -- writing -------------------------------------------------------------------------------------------

    def _need_file(self) -> Path | None:
        if self.path is None:
            self.notify("Open a dataset file first (o).", title="No file open", severity="warning")
        return self.path

    def action_open(self) -> None:
        self.query_one("#ds-path", Input).focus()

    def action_next_problem(self) -> None:
        self.query_one("#ds-problems", DataTable).action_cursor_down()

    def action_previous_problem(self) -> None:
        self.query_one("#ds-problems", DataTable).action_cursor_up()

    def action_convert(self) -> None:
        if (path := self._need_file()) is not None:
            self._convert(path)

    def action_split(self) -> None:
        if (path := self._need_file()) is not None:
            self._split(path)

    async def _replace_ok(self, *paths: Path) -> bool:
        existing = [p for p in paths if p.exists()]
        if not existing:
            return True
        names = "\n".join(str(p) for p in existing)
        replace = await self.app.push_screen_wait(
            ConfirmScreen("Replace existing files?", f"These files exist and would be replaced:\n{names}", "Replace")
        )
        if not replace:
            self.notify("Nothing was written.", title="Kept the existing files", severity="warning")
        return bool(replace)

    @work(exclusive=True, group="datasets-ask", exit_on_error=False)
    async def _convert(self, path: Path) -> None:
        choice: ConvertChoice | None = await self.app.push_screen_wait(ConvertScreen(path))
        if choice is not None and await self._replace_ok(choice.target):
            self.write_files("convert", path, choice)

    @work(exclusive=True, group="datasets-ask", exit_on_error=False)
    async def _split(self, path: Path) -> None:
        choice: SplitChoice | None = await self.app.push_screen_wait(SplitScreen(path))
        if choice is not None and await self._replace_ok(choice.train, choice.valid):
            self.write_files("split", path, choice)

    @work(thread=True, exclusive=True, group="datasets-write", exit_on_error=False)
    def write_files(self, verb: str, path: Path, choice: Any) -> None:
        data = self.ws.data
        result: Any = None
        with reported(self, f"The {verb}"):
            if verb == "convert":
                # overwrite=True: the screen asked before a file the user has is replaced.
                result = data.convert(path, choice.target, choice.to, overwrite=True)
            else:
                result = data.split(path, choice.validation, choice.seed, choice.train, choice.valid, overwrite=True)
        self.post_message(DatasetWritten(verb, result))

    def on_dataset_written(self, message: DatasetWritten) -> None:
        result = message.result
        if result is None:
            return
        if message.verb == "convert":
            lost = "; ".join(f"{n.code}: {n.count}" for n in result.notes) if result.notes else "nothing lost"
            self.notify(f"{result.n_written} of {result.n_read} examples → {result.output_path} ({lost})",
                        title=f"Converted to {result.output_format}", timeout=10)  # fmt: skip
        else:
            self.notify(f"{result.n_train} → {result.train_path}\n{result.n_validation} → {result.validation_path}",
                        title="Split", timeout=10)  # fmt: skip
