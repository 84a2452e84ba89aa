"""Crash tests: a submission process killed between intent and record never leads to a second paid job.

The submitting process runs the real OpenAI adapter against a loopback OpenAI wire stand-in, and SIGKILLs
itself at an injected point; the test then reconciles from a fresh process state and retries.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from providers.base import CLIENT_KEY_LABEL, MANAGED_BY_LABEL, TuningSpec
from providers.registry import get_provider
from tests.conftest import REPO_ROOT
from tests.core.openai_wire import WireState, openai_wire
from tunedeck.jobs.submit import ReconcileOutcome, reconcile, submit_job
from tunedeck.settings import load_settings
from tunedeck.store import Store, Submission

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from providers.base import TuningSpec
    from providers.registry import get_provider
    from tunedeck.settings import load_settings
    from tunedeck.store import Store
    from tunedeck.jobs.submit import submit_job

    url, crash_at = sys.argv[1], sys.argv[2]
    settings = load_settings()
    provider = get_provider("openai", settings, base_url=url, max_retries=0)

    def hook(point):
        if point == crash_at:
            os.kill(os.getpid(), signal.SIGKILL)

    spec = TuningSpec(base_model="gpt-4o-mini-2024-07-18", training_file="file-1", client_key="tdk-crash")
    submit_job(Store.open(settings), provider, spec, hook=hook)
    print("finished without crashing")
    """
)


def run_child(url: str, crash_at: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, url, crash_at], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )


def spec() -> TuningSpec:
    return TuningSpec(base_model="gpt-4o-mini-2024-07-18", training_file="file-1", client_key="tdk-crash")


@pytest.fixture
def wire() -> Iterator[WireState]:
    with openai_wire() as state:
        yield state


def test_killed_after_remote_create_reconciles_to_the_one_job(wire: WireState) -> None:
    child = run_child(wire.url, "remote-created")
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert len(wire.creates) == 1
    assert wire.creates[0]["metadata"] == {MANAGED_BY_LABEL: "tunedeck", CLIENT_KEY_LABEL: "tdk-crash"}

    settings = load_settings()
    store = Store.open(settings)
    [job] = store.list_jobs()
    assert job.submission is Submission.INTENT and job.provider_job_id is None
    provider = get_provider("openai", settings, base_url=wire.url, max_retries=0)
    [result] = reconcile(store, lambda name: provider, stale_after=timedelta(0))
    assert result.outcome is ReconcileOutcome.FOUND and result.job.provider_job_id == "ftjob-1"
    # Submitting the same thing again (the user re-runs the command) adopts, never re-creates.
    again = submit_job(store, provider, spec())
    assert again.id == job.id and len(wire.creates) == 1


def test_killed_after_intent_is_not_submitted_then_retried_once(wire: WireState) -> None:
    child = run_child(wire.url, "intent-recorded")
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert wire.creates == []

    settings = load_settings()
    store = Store.open(settings)
    provider = get_provider("openai", settings, base_url=wire.url, max_retries=0)
    [result] = reconcile(store, lambda name: provider, stale_after=timedelta(0))
    assert result.outcome is ReconcileOutcome.NOT_SUBMITTED
    retried = submit_job(store, provider, spec())
    assert retried.submission is Submission.SUBMITTED and len(wire.creates) == 1
    assert len(store.list_jobs()) == 1


def test_uninterrupted_child_submits_once(wire: WireState, tmp_path: Path) -> None:
    child = run_child(wire.url, "never")
    assert child.returncode == 0, child.stderr
    assert len(wire.creates) == 1
    [job] = Store.open(load_settings()).list_jobs()
    assert job.submission is Submission.SUBMITTED
