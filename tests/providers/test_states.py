"""The provider-neutral job state machine: mapping, raw states kept, unknown states accepted, no going back."""

from __future__ import annotations

from providers.base import JobState, JobStatus
from providers.states import advance, openai_status, vertex_status


def test_unknown_raw_states_are_accepted_and_kept() -> None:
    assert openai_status("frozen") == JobStatus(JobState.UNKNOWN, "frozen", "unrecognised provider state 'frozen'")
    assert vertex_status("JOB_STATE_TIME_TRAVEL").state is JobState.UNKNOWN


def test_an_unknown_observation_keeps_the_last_known_state_with_the_new_raw_state() -> None:
    running = openai_status("running")
    after = advance(running, openai_status("defragmenting"))
    assert (after.state, after.raw_state) == (JobState.RUNNING, "defragmenting")


def test_finished_is_final_even_on_a_stale_read() -> None:
    done = openai_status("succeeded")
    assert advance(done, openai_status("running")) is done
    # Before that any move is legal: Vertex goes from running back to waiting for capacity, OpenAI pauses.
    assert advance(openai_status("running"), vertex_status("JOB_STATE_QUEUED")).state is JobState.QUEUED
    assert advance(openai_status("paused"), openai_status("running")).state is JobState.RUNNING


def test_vertex_detail_states_refine_running() -> None:
    assert vertex_status("JOB_STATE_RUNNING", "TUNING_JOB_STATE_WAITING_FOR_QUOTA").state is JobState.QUEUED
    assert vertex_status("JOB_STATE_RUNNING", None).state is JobState.RUNNING
    assert vertex_status("JOB_STATE_QUEUED", "TUNING_JOB_STATE_TUNING").state is JobState.QUEUED
