"""`WizardScreen` (`:new`): from a dataset file to a submitted job in five steps — dataset, validation report
(errors block; a file in another format can be converted), provider and model, hyperparameters, estimate and
submit. `esc` goes back a step. The same calls as `tunedeck data validate|convert|split` and `tunedeck jobs
submit`: `ws.data`, `ws.jobs.plan`, `ws.jobs.submit`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, DataTable, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from providers.base import TuningSpec
from providers.translate import OPENAI_LAST_DAY_FOR_NEW_JOBS, OPENAI_NEW_ORGS_BLOCKED_SINCE
from tui.deck import Deck, reported
from tui.screens.base import DeckScreen
from tui.widgets.provider_picker import ProviderPicker
from tui.widgets.status_header import StatusHeader
from tui.work_messages import DatasetLoaded, JobSubmittedFromWizard, PlanReady

STEPS = ("dataset", "report", "provider", "hyper", "submit")
TITLES = ("1 Dataset", "2 Validation report", "3 Provider and model", "4 Hyperparameters", "5 Estimate and submit")
DATASET_SUFFIXES = (".jsonl", ".csv", ".json")
DEFAULT_MODELS = {"local": "smollm2-135m-instruct", "openai": "gpt-4.1-mini-2025-04-14", "vertex": "gemini-2.5-flash"}


def recent_files(root: Path, limit: int = 200) -> list[Path]:
    """Dataset-looking files under `root` (two levels), most recently changed first."""
    found = [p for pattern in ("*", "*/*") for p in root.glob(pattern) if p.suffix in DATASET_SUFFIXES and p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)[:limit]


class WizardScreen(DeckScreen):
    TITLE_TEXT = "New job"
    CSS_PATH = "../part2.tcss"
    SPENDS = frozenset({"submit"})
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "next", "next step", id="wizard.next"),
        Binding("c", "convert", "convert", id="wizard.convert"),
        Binding("enter", "submit", "submit", id="wizard.submit"),
    ]

    def __init__(self, deck: Deck, root: Path | None = None) -> None:
        super().__init__(deck)
        self.root = root or Path.cwd()
        self.step = 0
        self.training: Path | None = None
        self.validation: Path | None = None
        self.report: Any = None
        # The report checks against OpenAI's rules (the strictest common format) until step 3 picks a provider;
        # the estimate validates again for the one picked.
        self.provider = "openai"
        self.plan: Any = None
        self.submitting = False
        self.job: Any = None
        self._files: list[Path] = []

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.TITLE_TEXT)
        yield Label("", id="wizard-step")
        with ContentSwitcher(initial="dataset", id="wizard-steps"):
            with Vertical(id="dataset"):
                yield Input(placeholder="training file (type to filter; enter picks)", id="wz-training")
                yield OptionList(id="wz-files")
                yield Input(placeholder="validation file, or e.g. 10% to split it off (optional)", id="wz-validation")
            with Vertical(id="report"):
                yield DataTable(id="wz-problems", cursor_type="row", zebra_stripes=True)
                yield Static("", id="wz-detail", classes="pane")
            with Vertical(id="provider"):
                yield ProviderPicker(self.ws, id="wz-providers")
                yield Input(placeholder="base model", id="wz-model")
                yield Static("", id="wz-provider-note")
            with Vertical(id="hyper"):
                for key, label in (("epochs", "epochs"), ("lr", "learning-rate multiplier"),
                                   ("batch", "batch size"), ("suffix", "suffix"), ("seed", "seed")):  # fmt: skip
                    with Horizontal(classes="wz-row"):
                        yield Label(label, classes="wz-label")
                        yield Input("auto" if key in ("epochs", "lr", "batch") else "", placeholder=label,
                                    id=f"wz-{key}", compact=True)  # fmt: skip
                yield Static("", id="wz-auto")
            with Vertical(id="submit"):
                yield Static("", id="wz-estimate", classes="pane")
        yield Static("", id="wz-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#wz-problems", DataTable).add_columns("Line", "", "Code", "Problem")
        self._show_step()
        self.list_files()

    # -- steps ---------------------------------------------------------------------------------------------

    def _show_step(self) -> None:
        self.query_one(ContentSwitcher).current = STEPS[self.step]
        self.query_one("#wizard-step", Label).update(
            Text.assemble(*((f" {t} ", "reverse bold" if i == self.step else "dim") for i, t in enumerate(TITLES)))
        )
        focus = {"dataset": "#wz-training", "report": "#wz-problems", "provider": "#wz-providers",
                 "hyper": "#wz-epochs", "submit": "#wz-estimate"}[STEPS[self.step]]  # fmt: skip
        widget = self.query_one(focus)
        if widget.can_focus:
            widget.focus()
        else:
            self.set_focus(None)
        self.refresh_bindings()

    def go_back(self) -> bool:
        """`esc`: one step back (on the first step the shell's own `esc` applies)."""
        if self.step == 0 or self.submitting:
            return False
        self.step -= 1
        self._show_step()
        return True

    def _status(self, text: str, style: str = "dim") -> None:
        self.query_one("#wz-status", Static).update(Text(text, style=style))

    # -- 1 dataset -----------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="wizard-files", exit_on_error=False)
    def list_files(self) -> None:
        files = recent_files(self.root)
        self.app.call_from_thread(self._show_files, files)

    def _show_files(self, files: list[Path]) -> None:
        self._files = files
        self._filter(self.query_one("#wz-training", Input).value)

    @on(Input.Changed, "#wz-training")
    def _training_changed(self, event: Input.Changed) -> None:
        self._filter(event.value)

    def _filter(self, text: str) -> None:
        options = self.query_one("#wz-files", OptionList)
        options.clear_options()
        wanted = text.strip().lower()
        for path in self._files:
            shown = str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)
            if wanted in shown.lower():
                options.add_option(Option(shown, id=str(path)))

    @on(OptionList.OptionSelected, "#wz-files")
    def _file_picked(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#wz-training", Input).value = str(event.option.id)
        self.query_one("#wz-validation", Input).focus()

    @on(Input.Submitted, "#wz-training")
    def _training_entered(self, event: Input.Submitted) -> None:
        options = self.query_one("#wz-files", OptionList)
        value = event.value.strip()
        if value and not Path(value).expanduser().is_file() and options.option_count:
            event.input.value = str(options.get_option_at_index(options.highlighted or 0).id)
        self.query_one("#wz-validation", Input).focus()

    @on(Input.Submitted, "#wz-validation")
    def _validation_entered(self) -> None:
        self.action_next()

    def _check_dataset(self) -> None:
        training = self.query_one("#wz-training", Input).value.strip()
        if not training:
            self.notify("Type or pick a training file.", title="Which dataset?", severity="warning")
            return
        path = Path(training).expanduser()
        path = path if path.is_absolute() else self.root / path
        self._status(f"validating {path.name}…")
        self.validate(path, self.query_one("#wz-validation", Input).value.strip())

    @work(thread=True, exclusive=True, group="wizard", exit_on_error=False)
    def validate(self, path: Path, validation: str) -> None:
        report = None
        with reported(self, f"Validating {path.name}"):
            if validation.endswith("%"):
                fraction = float(validation.rstrip("%")) / 100
                train_out = path.with_name(f"{path.stem}.train.jsonl")
                valid_out = path.with_name(f"{path.stem}.valid.jsonl")
                split = self.ws.data.split(path, fraction, 0, train_out, valid_out)
                path, self.validation = Path(split.train_path), Path(split.validation_path)
            else:
                self.validation = Path(validation).expanduser() if validation else None
            report = self.ws.data.validate(path, self.provider, None, self.validation)
        self.post_message(DatasetLoaded(str(path), report))

    def on_dataset_loaded(self, message: DatasetLoaded) -> None:
        report = message.report
        if report is None:
            self._status("validation failed (see the notification)", "red")
            return
        self.training, self.report = Path(message.path), report
        table = self.query_one("#wz-problems", DataTable)
        table.clear()
        for issue in [*report.errors, *report.warnings]:
            severity = Text("error", style="red") if issue.severity == "error" else Text("warn", style="yellow")
            table.add_row(str(issue.line or "—"), severity, issue.code, Text(issue.message))
        detail = Text.assemble((f"{self.training.name}", "bold"), f" · {report.format} · for {report.provider}\n")
        if report.ok:
            detail.append(f"No errors ({report.n_warnings} warnings). ctrl+n continues.", style="green")
        else:
            blocks = "1 error blocks" if report.n_errors == 1 else f"{report.n_errors} errors block"
            detail.append(f"{blocks} the next step.", style="red")
            if self._convertible():
                detail.append(f"\nThe file is {report.format}; c converts it to {self._native()}.", style="yellow")
        self.query_one("#wz-detail", Static).update(detail)
        self.step = 1
        self._show_step()
        self._status("")

    def _native(self) -> str:
        from tunedeck.data.rules import rules_for

        return rules_for(self.provider).native_format.value

    def _convertible(self) -> bool:
        report = self.report
        return report is not None and any(i.code == "format-not-accepted" for i in report.errors)

    # -- 2 report: convert ---------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="wizard", exit_on_error=False)
    def convert(self, source: Path, to: str) -> None:
        report = None
        target = source.with_name(f"{source.stem}.{to}.jsonl")
        with reported(self, f"Converting {source.name}"):
            if target.exists():
                from tunedeck.errors import UsageError

                raise UsageError(f"{target} exists; the wizard does not replace it.",
                                 "Move it away, or convert in :datasets, which asks before replacing.")  # fmt: skip
            self.ws.data.convert(source, target, to)
            report = self.ws.data.validate(target, self.provider, None, self.validation)
        self.post_message(DatasetLoaded(str(target), report))

    # -- 3 provider, 4 hyperparameters, 5 estimate -------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#wz-providers")
    def _provider_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        name = str(event.option.id)
        note = self.query_one("#wz-provider-note", Static)
        if name == "openai":
            note.update(f"OpenAI is winding self-serve fine-tuning down: organisations new since "
                        f"{OPENAI_NEW_ORGS_BLOCKED_SINCE} cannot, and no new jobs after "
                        f"{OPENAI_LAST_DAY_FOR_NEW_JOBS}. A refusal says so clearly when you submit.")  # fmt: skip
        else:
            note.update("")

    @on(OptionList.OptionSelected, "#wz-providers")
    def _provider_picked(self, event: OptionList.OptionSelected) -> None:
        self.provider = str(event.option.id)
        model = self.query_one("#wz-model", Input)
        model.value = model.value or DEFAULT_MODELS.get(self.provider, "")
        model.focus()

    @on(Input.Submitted, "#wz-model, #wz-epochs, #wz-lr, #wz-batch, #wz-suffix, #wz-seed")
    def _field_entered(self, event: Input.Submitted) -> None:
        if event.input.id in ("wz-model", "wz-seed"):
            self.action_next()
        else:
            self.focus_next()

    def _spec(self) -> TuningSpec:
        def value(key: str) -> str:
            return self.query_one(f"#wz-{key}", Input).value.strip()

        def auto(key: str, cast: Any) -> Any:
            text = value(key)
            return "auto" if text in ("", "auto") else cast(text)

        seed = value("seed")
        return TuningSpec(base_model=value("model"), training_file="", suffix=value("suffix") or None,
                          n_epochs=auto("epochs", int), batch_size=auto("batch", int),
                          learning_rate_multiplier=auto("lr", float), seed=int(seed) if seed else None)  # fmt: skip

    @work(thread=True, exclusive=True, group="wizard", exit_on_error=False)
    def make_plan(self, provider: str, spec: TuningSpec, training: Path, validation: Path | None) -> None:
        plan = None
        with reported(self, "Estimating the job"):
            plan = self.ws.jobs.plan(provider, spec, training, validation)
        self.post_message(PlanReady(plan))

    def on_plan_ready(self, message: PlanReady) -> None:
        plan = message.plan
        if plan is None:
            self._status("could not estimate (see the notification)", "red")
            return
        self.plan = plan
        stats = plan.report.stats
        text = Text.assemble(("Submit this job?\n", "bold"))
        text.append(f"{plan.provider} · {plan.spec.base_model} · {plan.training.name}")
        text.append(f" (+ {plan.validation.name})\n" if plan.validation else "\n")
        text.append(f"billable tokens/epoch {stats.billable_tokens:,} · epochs {stats.epochs or 'auto'}\n")
        text.append((plan.estimate.describe() if plan.estimate else "no estimate") + "\n")
        if plan.cost_note:
            text.append(plan.cost_note + "\n", style="dim")
        if plan.ok:
            text.append("enter submits (once).", style="green")
        else:
            text.append("The files have errors: go back (esc) and fix them.", style="red")
        self.query_one("#wz-estimate", Static).update(text)
        self.step = 4
        self._show_step()
        self._status("")

    # -- keys ----------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "convert":
            return self.step == 1 and self._convertible()
        if action == "submit":
            allowed = super().check_action(action, parameters)
            return bool(allowed) and self.step == 4 and self.plan is not None and self.plan.ok and self.job is None
        return super().check_action(action, parameters)

    def action_convert(self) -> None:
        if self.training is not None and self._convertible():
            self._status(f"converting to {self._native()}…")
            self.convert(self.training, self._native())

    def action_next(self) -> None:
        step = STEPS[self.step]
        if step == "dataset":
            self._check_dataset()
        elif step == "report":
            if self.report is None or not self.report.ok:
                self.notify("Fix the errors first (c converts a file in another format).",
                            title="The dataset has errors", severity="warning")  # fmt: skip
                return
            self.step = 2
            self._show_step()
        elif step == "provider":
            if not self.query_one("#wz-model", Input).value.strip():
                self.query_one("#wz-model", Input).value = DEFAULT_MODELS.get(self.provider, "")
            self.step = 3
            self.query_one("#wz-auto", Static).update(self._auto_text())
            self._show_step()
        elif step == "hyper" and self.training is not None:
            try:
                spec = self._spec()
            except ValueError:
                self.notify("Epochs, batch size and seed are whole numbers; the multiplier a number; or auto.",
                            title="A hyperparameter is not a number", severity="warning")  # fmt: skip
                return
            self._status("estimating…")
            self.make_plan(self.provider, spec, self.training, self.validation)

    def _auto_text(self) -> Text:
        stats = self.report.stats if self.report is not None else None
        epochs = stats.auto_epochs if stats is not None else None
        return Text(f"auto epochs resolves to {epochs or 'the provider default'} for "
                    f"{stats.n_examples if stats else '?'} examples; batch size and multiplier to the provider's "
                    "defaults. ctrl+n estimates.", style="dim")  # fmt: skip

    def action_submit(self) -> None:
        if self.refused("submit") or self.plan is None or not self.plan.ok or self.submitting or self.job is not None:
            return
        self.submitting = True
        self.refresh_bindings()
        self._status("submitting…")
        self.submit(self.plan)

    @work(thread=True, exclusive=True, group="wizard-submit", exit_on_error=False)
    def submit(self, plan: Any) -> None:
        job = None
        with reported(self, "Submitting"):
            job = self.ws.jobs.submit(plan)
        self.post_message(JobSubmittedFromWizard(job))

    def on_job_submitted_from_wizard(self, message: JobSubmittedFromWizard) -> None:
        self.submitting = False
        if message.job is None:
            self._status("not submitted (see the notification); enter tries again", "red")
            self.refresh_bindings()
            return
        self.job = message.job
        self._status(f"submitted {self.job.id}", "green")
        from tui.screens.job_detail import JobDetailScreen

        self.app.push_screen(JobDetailScreen(self.deck, self.job.id))
