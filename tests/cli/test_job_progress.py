"""Issue 11, item 5: `jobs watch` shows step/total, the latest losses and an ETA, on a terminal (a bar) and in
a log or pipe (a line per step), and item 6's point that the job's own messages are said as they arrive."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from rich.console import Console

from providers.base import TuningSpec
from tests.cli.test_jobs_cli import DATASET, MODEL, run
from tests.core.fakes import T0, FakeProvider
from tests.core.openai_wire import WireState
from tunedeck.cli import job_progress
from tunedeck.events import JobEventsArrived
from tunedeck.jobs.submit import submit_job
from tunedeck.store import EventRecord, JobRecord
from tunedeck.workspace import Workspace

pytest_plugins = ["tests.cli.test_jobs_cli"]  # its `wire` fixture: a loopback OpenAI stand-in


def event(job: JobRecord, n: int, message: str, at_s: float, **metrics: Any) -> EventRecord:
    return EventRecord(job.id, f"ev-{n}", T0 + timedelta(seconds=at_s), "info", message, metrics or None, seq=n)


def watch_with(console: Console, monkeypatch: pytest.MonkeyPatch, feed: list[Any]) -> str:
    monkeypatch.setattr(job_progress, "stderr", console)
    provider = FakeProvider()
    with Workspace.open(provider_factory=lambda name: provider) as ws:
        job = submit_job(ws.store, provider, TuningSpec(base_model="base", training_file="f"))
        with job_progress.JobBar(ws, job) as bar:
            for make in feed:
                bar.handle(JobEventsArrived(job, tuple(make(job))))
    file = console.file
    assert isinstance(file, io.StringIO)
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", file.getvalue())  # cursor moves of the live bar


FEED = [
    lambda job: [event(job, 1, "Converted the base model in 23.4 s (first run only)", 0)],
    lambda job: [event(job, 2, "Step 1/12", 10, step=1, total_steps=12, train_loss=2.5)],
    lambda job: [event(job, 3, "Step 2/12", 20, step=2, total_steps=12, train_loss=2.0, valid_loss=2.2)],
    lambda job: [event(job, 4, "Step 3/12", 30, step=3, total_steps=12, train_loss=1.5, estimated_remaining_s=90)],
]


def test_terminal_bar_shows_step_of_total_losses_and_eta(monkeypatch: pytest.MonkeyPatch) -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=140, color_system=None)
    out = watch_with(console, monkeypatch, FEED)
    assert "0/?" not in out
    assert "3/12" in out  # the bar's own count
    assert "step 3/12 · train 1.5000 · valid 2.2000 · ETA 1m30s" in out
    assert "Converted the base model in 23.4 s (first run only)" in out


def test_plain_log_prints_a_line_per_step_with_losses_and_eta(monkeypatch: pytest.MonkeyPatch) -> None:
    console = Console(file=io.StringIO(), force_terminal=False, width=140)
    out = watch_with(console, monkeypatch, FEED[:3])
    lines = out.splitlines()
    assert any(line.endswith("Converted the base model in 23.4 s (first run only)") for line in lines)
    steps = [line.split(" ", 1)[1] for line in lines if line.startswith("td-")]
    # No provider ETA at step 2: extrapolated from the step rate (10 s a step, 10 steps left).
    assert steps == ["step 1/12 · train 2.5000", "step 2/12 · train 2.0000 · valid 2.2000 · ETA 1m40s"]


def test_jobs_submit_watch_in_a_log_says_each_step(wire: WireState) -> None:
    code, _, err = run("jobs", "submit", str(DATASET), "-p", "openai", "-m", MODEL, "--yes", "--watch")
    assert code == 0, err
    flat = " ".join(err.split())
    assert "step 1/3 · train 1.0000" in flat and "step 3/3 · train 0.3333" in flat
    assert "succeeded" in flat
