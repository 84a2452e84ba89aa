"""The store applies the job state machine: finished is final, whatever a late poll says."""

from __future__ import annotations

from providers.base import JobState, ProviderJob, TuningSpec
from providers.states import openai_status
from tunedeck.settings import load_settings
from tunedeck.store import Store


def _remote(raw: str) -> ProviderJob:
    return ProviderJob(id="ftjob-1", provider="openai", base_model="m", status=openai_status(raw))


def test_a_stale_running_read_never_reopens_a_cancelled_job() -> None:
    store = Store.open(load_settings())
    job = store.create_job_intent("openai", TuningSpec(base_model="m", training_file="f", client_key="k"))
    store.mark_submitted(job.id, _remote("running"))
    assert store.record_status(job.id, _remote("cancelled")) is True
    # A poll that left before the cancel and answered after it:
    assert store.record_status(job.id, _remote("running")) is False
    assert store.require_job(job.id).state is JobState.CANCELLED
    assert [c.state for c in store.state_history(job.id)][-1] is JobState.CANCELLED


def test_an_unknown_raw_state_keeps_the_last_known_one_beside_it() -> None:
    store = Store.open(load_settings())
    job = store.create_job_intent("openai", TuningSpec(base_model="m", training_file="f", client_key="k2"))
    store.mark_submitted(job.id, _remote("running"))
    store.record_status(job.id, _remote("defragmenting"))
    recorded = store.require_job(job.id)
    assert (recorded.state, recorded.raw_state) == (JobState.RUNNING, "defragmenting")
