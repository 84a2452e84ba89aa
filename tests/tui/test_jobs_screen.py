"""Pilot tests of the Jobs and Job detail screens against a real workspace (temp store, fast monitor) whose
provider is an in-process fake: jobs appear and finish live, open, cancel, retry, filter and sort."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from providers.base import JobState
from providers.errors import InvalidRequestError
from tests.tui.conftest import LocalFake, record_notifications, screen_text, settle, submit, tiny_dataset
from tui.app import TunedeckApp
from tui.screens.chat import ChatScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.job_detail import JobDetailScreen
from tui.widgets.events_log import EventsLog
from tui.widgets.job_summary import JobSummary
from tui.widgets.job_table import JobTable
from tui.widgets.loss_chart import LossChart
from tunedeck.store import Submission
from tunedeck.workspace import Workspace


def state_of(app: TunedeckApp, job_id: str) -> str | None:
    row = app.screen.query_one(JobTable).rows_by_id.get(job_id)
    return row.cells.get("state", ("", ""))[0] if row else None


async def test_a_job_submitted_through_the_workspace_appears_and_succeeds_live(
    workspace: Workspace, tmp_path: Path
) -> None:
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        await settle(pilot, lambda: app.screen.query_one(JobTable).is_mounted and app.header_state.running is not None)
        job = await asyncio.to_thread(submit, workspace, tiny_dataset(tmp_path), suffix="live")
        await settle(pilot, lambda: state_of(app, job.id) is not None, what="the new row")
        await settle(pilot, lambda: state_of(app, job.id) == "succeeded", what="succeeded")
        row = app.screen.query_one(JobTable).rows_by_id[job.id]
        assert row.cells["suffix"][0] == "live" and row.cells["progress"][0] == "3"
        assert row.cells["train"][0] == "0.6667"  # the fake's third step: 2/3
        await settle(pilot, lambda: any(n.title == "Job succeeded" for n in notes), what="the notification")
        assert job.id in screen_text(app)
        assert "0 running" in screen_text(app).splitlines()[0]


async def test_a_failed_job_says_why(workspace: Workspace, fake: LocalFake, tmp_path: Path) -> None:
    fake.script = [JobState.RUNNING, JobState.FAILED]
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        await settle(pilot, lambda: app.header_state.running is not None)
        job = await asyncio.to_thread(submit, workspace, tiny_dataset(tmp_path))
        await settle(pilot, lambda: state_of(app, job.id) == "failed", what="failed")
        await settle(pilot, lambda: any(n.title == "Job failed" for n in notes))
        failed = next(n for n in notes if n.title == "Job failed")
        assert failed.severity == "error" and job.id in failed.message


async def test_a_job_submitted_by_another_process_appears(
    isolated_home: Path, workspace: Workspace, fake: LocalFake, tmp_path: Path
) -> None:
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: app.header_state.running is not None)
        other = Workspace.open(provider_factory=lambda name: fake)  # its own store connection, as a CLI has
        try:
            job = await asyncio.to_thread(submit, other, tiny_dataset(tmp_path), suffix="elsewhere")
        finally:
            other.close()
        await settle(pilot, lambda: state_of(app, job.id) == "succeeded", what="the job from elsewhere")


async def test_opening_a_job_shows_metrics_chart_events_and_tests_a_checkpoint(
    workspace: Workspace, tmp_path: Path
) -> None:
    job = submit(workspace, tiny_dataset(tmp_path))
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: state_of(app, job.id) == "succeeded", what="succeeded")
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        detail = app.screen
        await settle(pilot, lambda: detail.query_one(JobSummary).job is not None and detail.checkpoint_models)
        chart = detail.query_one(LossChart)
        assert [step for step, _ in chart.train] == [1.0, 2.0, 3.0]
        assert detail.query_one(EventsLog).line_count == 3
        text = screen_text(app)
        assert "succeeded" in text and "loss" in text and "step 3" in text and "final" in text
        await pilot.press("t")
        await settle(pilot, lambda: isinstance(app.screen, ChatScreen))
        await pilot.press("enter")  # the default prompt
        await settle(pilot, lambda: "Hello there" in screen_text(app), what="the streamed reply")
        await settle(pilot, lambda: "2 tokens" in screen_text(app), what="latency and tokens")
        await pilot.press("escape", "escape")
        await settle(pilot, lambda: isinstance(app.screen.query_one(JobTable), JobTable))


async def test_cancel_asks_first_and_n_keeps_the_job(workspace: Workspace, fake: LocalFake, tmp_path: Path) -> None:
    fake.script = [JobState.RUNNING]
    job = submit(workspace, tiny_dataset(tmp_path))
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: state_of(app, job.id) == "running", what="running")
        await pilot.press("c")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert app.focused is not None and app.focused.id == "cancel"
        await pilot.press("n")
        await pilot.pause(0.2)
        assert "cancel" not in fake.calls and state_of(app, job.id) == "running"
        await pilot.press("c", "y")
        await settle(pilot, lambda: state_of(app, job.id) == "cancelled", what="cancelled")
        assert fake.calls.count("cancel") == 1


async def test_retry_resubmits_what_never_reached_the_provider(
    workspace: Workspace, fake: LocalFake, tmp_path: Path
) -> None:
    create = fake.create_job

    def refuse_once(spec: object) -> object:
        fake.create_job = create  # type: ignore[method-assign]
        fake.calls.append("create")
        raise InvalidRequestError("The provider refused the request.", provider="local")

    fake.create_job = refuse_once  # type: ignore[assignment,method-assign]
    with contextlib.suppress(InvalidRequestError):
        submit(workspace, tiny_dataset(tmp_path))
    [job] = workspace.jobs.all()
    assert job.submission is Submission.NOT_SUBMITTED
    app = TunedeckApp(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: state_of(app, job.id) == "not-submitted")
        await pilot.press("r")
        await settle(pilot, lambda: state_of(app, job.id) == "succeeded", what="the retried job finishing")
        assert fake.calls.count("create") == 2


async def test_filter_narrows_and_esc_clears_sort_cycles(workspace: Workspace, tmp_path: Path) -> None:
    first = submit(workspace, tiny_dataset(tmp_path), suffix="alpha")
    second = submit(workspace, tiny_dataset(tmp_path), suffix="beta")
    app = TunedeckApp(workspace, live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        jobs = app.screen.query_one(JobTable)
        await settle(pilot, lambda: jobs.row_count == 2)
        assert [jobs.get_row_at(i)[0].plain for i in range(2)] == [second.id, first.id]  # newest first
        await pilot.press("slash", *"beta")
        await settle(pilot, lambda: jobs.row_count == 1)
        assert jobs.get_row_at(0)[0].plain == second.id and "1 of 2 jobs" in screen_text(app)
        await pilot.press("enter")  # keeps the filter, back to the table
        assert app.focused is jobs and jobs.filter_text == "beta"
        await pilot.press("escape")  # esc on the home screen clears the filter
        await settle(pilot, lambda: jobs.row_count == 2)
        await pilot.press("s")
        assert jobs.sort_column == "provider" and "sorted by provider" in screen_text(app)
