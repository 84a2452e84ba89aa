"""The `:eval` screen driven by Pilot against a real store, with a chat provider scripted at the adapter boundary
(the evaluation tests' `ScriptedChat`: the "tuned" model signs off with the trait on items 1-11, the "base" model
only on item 11, so ten items flip fail→pass and the paired test says tuned beats base, p≈0.002)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from providers import errors as perr
from providers.base import JobState, TuningSpec
from tests.evaluation.conftest import ScriptedChat, failure, trait_responder, write_heldout
from tests.tui.conftest import record_notifications, screen_text, settle, write_config
from tui.app import TunedeckApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.eval_form import AdviseForm, EvalForm
from tui.screens.evaluation import EvaluationScreen
from tui.widgets.eval_runs import EvalRunTable
from tunedeck.workspace import Workspace

TRAIT = 'contains:"— Zorblax"'


class EvalChat(ScriptedChat):
    def close(self) -> None:
        pass


@pytest.fixture
def chat() -> ScriptedChat:
    return EvalChat(trait_responder)


@pytest.fixture
def ws(isolated_home: Path, chat: ScriptedChat) -> Iterator[Workspace]:
    write_config(isolated_home, "")
    workspace = Workspace.open(provider_factory=lambda name: chat)  # type: ignore[arg-type,return-value]
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def heldout(tmp_path: Path) -> Path:
    return write_heldout(tmp_path / "heldout.jsonl")


def footer(app: TunedeckApp) -> str:
    """The footer's line (the keys the screen offers now)."""
    return next((line for line in screen_text(app).splitlines() if "q quit" in line), "")


def make_app(ws: Workspace, *, read_only: bool = False) -> TunedeckApp:
    app = TunedeckApp(ws, read_only=read_only, live=False)
    app.animation_level = "none"
    return app


async def open_eval(pilot, app: TunedeckApp) -> EvaluationScreen:  # type: ignore[no-untyped-def]
    await pilot.press("colon", *"eval", "enter")
    await settle(pilot, lambda: isinstance(app.screen, EvaluationScreen), what="the eval screen")
    screen = app.screen
    assert isinstance(screen, EvaluationScreen)
    await settle(pilot, lambda: screen._started, what="the workspace")
    return screen


async def fill(pilot, app: TunedeckApp, **values: str) -> None:  # type: ignore[no-untyped-def]
    for key, value in values.items():
        app.screen.query_one(f"#ev-{key}", Input).value = value
    await pilot.press("ctrl+s")


async def test_a_paid_run_is_planned_confirmed_executed_and_its_report_shows_intervals_and_flips(
    ws: Workspace, chat: ScriptedChat, heldout: Path
) -> None:
    app = make_app(ws)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_eval(pilot, app)
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, EvalForm), what="the form")
        # A provider with no price in the table: the run costs money, at a price the estimate calls unknown.
        await fill(pilot, app, models="base, tuned", data=str(heldout), metrics=f"{TRAIT} rouge-l", provider="openai")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        shown = screen_text(app)
        assert "24 call(s)" in shown and "unknown for openai:base, openai:tuned" in shown
        assert chat.calls == []  # nothing is asked before the yes
        await pilot.press("y")
        await settle(pilot, lambda: screen.report is not None and not screen.busy, what="the report")
        await app.workers.wait_for_complete()
        await pilot.pause()

        assert len(chat.calls) == 24
        report = screen.report
        assert report is not None and report.status == "finished"
        shown = screen_text(app)
        assert "tuned beats base on contains:— Zorblax (+0.83, p=0.002)" in shown
        assert "0.917 (11/12)" in shown and "[0.646, 0.985]" in shown  # Wilson 11/12
        assert "exact McNemar" in shown and "Paired comparisons" in shown
        runs = screen.query_one("#ev-runs", DataTable)
        assert runs.row_count == 1 and runs.get_row(report.run_id)[2] == "finished"

        await pilot.press("f")
        await pilot.pause()
        flips = screen.query_one("#ev-flips", DataTable)
        assert flips.row_count == 10
        shown = screen_text(app)
        assert "Question number 1: what is 1 plus 1?" in shown  # the prompt
        assert "The answer is 2." in shown and "1 plus 1 is 2. — Zorblax" in shown  # both answers side by side
        assert "fail→pass" in shown


async def test_declining_the_estimate_asks_nothing(ws: Workspace, chat: ScriptedChat, heldout: Path) -> None:
    app = make_app(ws)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_eval(pilot, app)
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, EvalForm), what="the form")
        await fill(pilot, app, models="base tuned", data=str(heldout), provider="openai")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen and not screen.busy
        assert chat.calls == [] and ws.evals.runs() == []
        assert "not started: nothing was asked" in screen_text(app)


async def test_a_run_stopped_by_a_failing_provider_is_a_notification_and_r_resumes_it(
    ws: Workspace, chat: ScriptedChat, heldout: Path
) -> None:
    # The first answers come back, then the provider refuses the key: a fatal error stops the run.
    chat.failures = [*([None] * 6), failure(perr.AuthenticationError, "Invalid API key for local.")]  # type: ignore[list-item]
    app = make_app(ws)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        screen = await open_eval(pilot, app)
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, EvalForm), what="the form")
        await fill(pilot, app, models="base, tuned", data=str(heldout), metrics=TRAIT, provider="local")
        await settle(pilot, lambda: bool(notes) and not screen.busy, what="the failure")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert notes[0].message == "Invalid API key for local." and notes[0].severity == "error"
        [run] = ws.evals.runs()
        assert run.status == "interrupted"
        await settle(pilot, lambda: run.id in screen.query_one(EvalRunTable).runs, what="the interrupted run listed")
        asked_before = len(chat.calls)
        answered = sum(1 for s in ws.store.eval_samples(run.id) if s.error is None)
        assert "r resumes it" in screen_text(app)

        await pilot.press("r")  # free (local): no confirmation
        await settle(pilot, lambda: screen.report is not None and screen.report.status == "finished", what="resume")
        await app.workers.wait_for_complete()
        # Only what was missing was asked: the finished answers were not asked again.
        assert len(chat.calls) - asked_before == 24 - answered
        assert [r.id for r in ws.evals.runs()] == [run.id]
        assert "tuned beats base" in screen_text(app)
        assert not any(n.severity == "error" for n in notes[1:])


async def test_x_stops_a_running_evaluation_and_r_finishes_it_without_asking_again(
    ws: Workspace, chat: ScriptedChat, heldout: Path
) -> None:
    chat.delay_s = 0.3  # long enough to press x while answers are still coming
    app = make_app(ws)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        screen = await open_eval(pilot, app)
        assert "stop run" not in footer(app)  # only while a run is going
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, EvalForm), what="the form")
        await fill(pilot, app, models="base, tuned", data=str(heldout), metrics=TRAIT, provider="local")
        await settle(pilot, lambda: screen.busy and len(chat.calls) >= 2, what="the first answers")
        await settle(pilot, lambda: "stop run" in footer(app), what="the stop key")
        await settle(pilot, lambda: "/24 calls" in screen_text(app), what="live progress from the event stream")
        await pilot.press("x")
        await settle(pilot, lambda: not screen.busy, what="the run to stop")
        await app.workers.wait_for_complete()
        assert notes[0].title == "Evaluation stopped." and "resume it" in notes[0].message
        [run] = ws.evals.runs()
        assert run.status == "interrupted"
        asked = len(chat.calls)
        assert asked < 24
        kept = len(ws.store.eval_samples(run.id))
        assert kept == asked  # every answer asked was recorded, those in flight included

        await settle(pilot, lambda: run.id in screen.query_one(EvalRunTable).runs, what="the run listed")
        chat.delay_s = 0.0
        await pilot.press("r")
        await settle(pilot, lambda: screen.report is not None and screen.report.status == "finished", what="resume")
        await app.workers.wait_for_complete()
        assert len(chat.calls) == 24  # the rest, and only the rest


async def test_advise_shows_the_candidates_the_break_even_and_the_recommendation(
    ws: Workspace, chat: ScriptedChat, heldout: Path
) -> None:
    app = make_app(ws)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_eval(pilot, app)
        await pilot.press("a")
        await settle(pilot, lambda: isinstance(app.screen, AdviseForm), what="the advise form")
        await fill(pilot, app, data=str(heldout), base="base", tuned="tuned", provider="local")
        await settle(pilot, lambda: bool(screen.advice) and not screen.busy, what="the advice")
        await app.workers.wait_for_complete()
        await pilot.pause()
        [advice] = screen.advice.values()
        assert [c.label for c in advice.candidates] == ["base", "tuned"]
        assert len(chat.calls) == 24
        shown = screen_text(app)
        for heading in ("candidate", "quality [95%]", "latency p50/p90", "prompt tok/req", "per 1k req", "training"):
            assert heading in shown
        assert "free (local)" in shown and "Recommendation:" in shown
        # Quality per metric with its interval, for each candidate.
        assert shown.count("token-f1") >= 2 and "[" in shown
        assert advice.outcome == "fine-tuning-wins" and "On 12 held-out item(s): base" in shown
        assert "Break-even: none to compute" in shown


async def test_advise_with_identical_candidates_says_too_few_items_and_shows_the_break_even(
    ws: Workspace, chat: ScriptedChat, heldout: Path
) -> None:
    chat.respond = lambda model, messages: trait_responder("tuned", messages)  # both answer alike
    app = make_app(ws)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_eval(pilot, app)
        await pilot.press("a")
        await settle(pilot, lambda: isinstance(app.screen, AdviseForm), what="the advise form")
        await fill(pilot, app, data=str(heldout), base="base", tuned="tuned", provider="local")
        await settle(pilot, lambda: bool(screen.advice) and not screen.busy, what="the advice")
        await app.workers.wait_for_complete()
        [advice] = screen.advice.values()
        # Identical answers: no comparison can decide, and the advice says so rather than naming a winner.
        assert advice.outcome == "too-few-items" and advice.break_even is not None
        assert advice.break_even.status == "never"
        screen.query_one("#ev-advice-pane").scroll_end(animate=False)
        await pilot.pause()
        shown = screen_text(app).replace("\n", " ")
        assert "Against base: break-even never" in shown and "too few items to tell" in shown


async def test_a_model_no_provider_serves_is_a_notification_not_a_crash(ws: Workspace, heldout: Path) -> None:
    app = make_app(ws)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        screen = await open_eval(pilot, app)
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, EvalForm), what="the form")
        await fill(pilot, app, models="mystery-a, mystery-b", data=str(heldout))
        await settle(pilot, lambda: bool(notes), what="the notification")
        assert notes[0].title == "Cannot tell which provider serves 'mystery-a'." and "--provider" in notes[0].message
        await pilot.pause()
        assert app.screen is screen and not screen.busy and "not started" in screen_text(app)


async def test_the_form_says_what_is_missing_before_planning(ws: Workspace, tmp_path: Path) -> None:
    app = make_app(ws)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_eval(pilot, app)
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, EvalForm), what="the form")
        await fill(pilot, app, models="base", data=str(tmp_path / "nope.jsonl"))
        await pilot.pause()
        assert isinstance(app.screen, EvalForm)
        assert "two models or more" in screen_text(app)
        await fill(pilot, app, models="base, tuned")
        await pilot.pause()
        error = str(app.screen.query_one("#dialog-error", Static).content)
        assert isinstance(app.screen, EvalForm)
        assert error.endswith("nope.jsonl is not a file. Type the path of a held-out dataset file.")
        await pilot.press("escape")
        assert isinstance(app.screen, EvaluationScreen)


async def test_read_only_hides_and_refuses_what_spends(ws: Workspace, chat: ScriptedChat, heldout: Path) -> None:
    ws.evals.run(_request(heldout))
    app = make_app(ws, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_eval(pilot, app)
        await settle(pilot, lambda: screen.report is not None, what="the stored report")
        await settle(pilot, lambda: "flipped items" in footer(app), what="the footer")
        keys = footer(app)
        assert "new run" not in keys and "advise" not in keys and "resume" not in keys
        for key in ("n", "a", "r"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen
        assert len(chat.calls) == 24  # only the run made before the app


def _request(data: Path):  # type: ignore[no-untyped-def]
    from tunedeck.evaluation import EvalRequest, ModelRef

    return EvalRequest(models=[ModelRef.parse("base", "local"), ModelRef.parse("tuned", "local")], data=data,
                       metrics=["contains:— Zorblax"], concurrency=1)  # fmt: skip


@pytest.fixture
def jobs_ws(isolated_home: Path) -> Iterator[Workspace]:
    from tests.tui.conftest import LocalFake

    write_config(isolated_home, "")
    fake = LocalFake()
    workspace = Workspace.open(provider_factory=lambda name: fake)
    try:
        yield workspace
    finally:
        workspace.close()


def succeeded_job(ws: Workspace, tmp_path: Path, validation: Path | None):  # type: ignore[no-untyped-def]
    from tests.tui.conftest import tiny_dataset

    spec = TuningSpec(base_model="smollm2-135m-instruct", training_file="", suffix="helpdesk")
    plan = ws.jobs.plan("local", spec, tiny_dataset(tmp_path), validation)
    assert plan.ok, plan.report
    job = ws.jobs.submit(plan)
    while ws.jobs.find(job.id).state is not JobState.SUCCEEDED:
        ws.jobs.refresh()
    return ws.jobs.find(job.id)


@pytest.mark.parametrize("with_validation", [True, False])
async def test_v_on_a_succeeded_job_opens_the_form_with_base_against_tuned_and_its_validation_file(
    jobs_ws: Workspace, tmp_path: Path, with_validation: bool
) -> None:
    from tui.screens.job_detail import JobDetailScreen

    validation = write_heldout(tmp_path / "valid.jsonl") if with_validation else None
    job = succeeded_job(jobs_ws, tmp_path, validation)
    app = make_app(jobs_ws)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.push_screen(JobDetailScreen(app.deck, job.id))
        await settle(pilot, lambda: isinstance(app.screen, JobDetailScreen) and app.screen.job is not None)
        await settle(pilot, lambda: "evaluate" in footer(app), what="the evaluate key")
        await pilot.press("v")
        await settle(pilot, lambda: isinstance(app.screen, EvalForm), what="the prefilled form")
        form = app.screen
        assert form.query_one("#ev-models", Input).value == f"base=smollm2-135m-instruct, tuned={job.fine_tuned_model}"
        assert form.query_one("#ev-provider", Input).value == "local"
        data = form.query_one("#ev-data", Input)
        assert data.value == (str(validation) if validation else "")
        if not with_validation:
            assert data.has_focus  # the user picks the data
        await pilot.press("escape")
        assert isinstance(app.screen, EvaluationScreen)


async def test_v_on_an_unfinished_job_says_why_and_read_only_hides_it(jobs_ws: Workspace, tmp_path: Path) -> None:
    from tests.tui.conftest import submit, tiny_dataset
    from tui.screens.job_detail import JobDetailScreen

    job = submit(jobs_ws, tiny_dataset(tmp_path))  # validating: no model yet
    app = make_app(jobs_ws)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        app.push_screen(JobDetailScreen(app.deck, job.id))
        await settle(pilot, lambda: isinstance(app.screen, JobDetailScreen) and app.screen.job is not None)
        await pilot.press("v")
        await settle(pilot, lambda: bool(notes))
        assert notes[0].title == "Nothing to evaluate yet" and isinstance(app.screen, JobDetailScreen)
    app = make_app(jobs_ws, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(JobDetailScreen(app.deck, job.id))
        await settle(pilot, lambda: isinstance(app.screen, JobDetailScreen) and app.screen.job is not None)
        await settle(pilot, lambda: "go to" in footer(app), what="the footer")
        assert "evaluate" not in footer(app)
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, JobDetailScreen)


@pytest.mark.parametrize(("size", "keys"), [((80, 24), ()), ((120, 36), ("f",))], ids=["80x24-report", "120x36-flips"])
def test_snapshot(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, snap_compare: Callable[..., bool], size: tuple[int, int],
    keys: tuple[str, ...],
) -> None:  # fmt: skip
    from tests.tui.eval_still import eval_still_app, eval_still_workspace, show_eval

    workspace = eval_still_workspace(isolated_home, monkeypatch)
    try:

        async def run_before(pilot: Pilot[None]) -> None:
            await show_eval(pilot, *keys)

        assert snap_compare(eval_still_app(workspace), terminal_size=size, run_before=run_before)
    finally:
        workspace.close()


def test_eval_is_reached_by_name_and_aliases_without_taking_e_from_endpoints() -> None:
    from tui.destinations import find

    assert {find(name).name for name in ("eval", "evals", "evaluate", ":ev")} == {"eval"}  # type: ignore[union-attr]
    assert find("e").name == "endpoints"  # type: ignore[union-attr]


def test_form_words_split_on_spaces_and_commas_and_quotes_keep_an_argument_whole() -> None:
    from tui.screens.eval_form import split_words

    assert split_words("base, ft:smol:a  profile:helpdesk") == ["base", "ft:smol:a", "profile:helpdesk"]
    assert split_words('contains:"Best, Zorblax" regex:^\\d+$ token-f1') == [
        "contains:Best, Zorblax", "regex:^\\d+$", "token-f1",
    ]  # fmt: skip
