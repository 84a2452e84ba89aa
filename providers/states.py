"""Map each provider's raw job states onto `JobState`, and advance a job's status without ever going backwards."""

from __future__ import annotations

from providers.base import JobState, JobStatus

_OPENAI: dict[str, tuple[JobState, str]] = {
    "validating_files": (JobState.VALIDATING, ""),
    "queued": (JobState.QUEUED, ""),
    "running": (JobState.RUNNING, ""),
    # Pausing still holds the job's slot; it is not paused until OpenAI says so.
    "pausing": (JobState.RUNNING, "pausing"),
    "paused": (JobState.PAUSED, "paused: resume it on the provider's dashboard"),
    "cancelling": (JobState.RUNNING, "cancelling"),
    "succeeded": (JobState.SUCCEEDED, ""),
    "failed": (JobState.FAILED, ""),
    "cancelled": (JobState.CANCELLED, ""),
}

_VERTEX: dict[str, tuple[JobState, str]] = {
    "JOB_STATE_QUEUED": (JobState.QUEUED, ""),
    "JOB_STATE_PENDING": (JobState.QUEUED, "pending"),
    "JOB_STATE_RUNNING": (JobState.RUNNING, ""),
    "JOB_STATE_UPDATING": (JobState.RUNNING, "updating"),
    "JOB_STATE_CANCELLING": (JobState.RUNNING, "cancelling"),
    "JOB_STATE_PAUSED": (JobState.PAUSED, "paused"),
    "JOB_STATE_SUCCEEDED": (JobState.SUCCEEDED, ""),
    # A tuned model exists, but Vertex says some results may be missing: worth a look, not a failure.
    "JOB_STATE_PARTIALLY_SUCCEEDED": (JobState.SUCCEEDED, "partially succeeded: some results may be missing"),
    "JOB_STATE_FAILED": (JobState.FAILED, ""),
    "JOB_STATE_EXPIRED": (JobState.FAILED, "expired before it could finish"),
    "JOB_STATE_CANCELLED": (JobState.CANCELLED, ""),
}

# Vertex's detail state refines a running job; waiting for quota or capacity is not running yet.
_VERTEX_DETAIL: dict[str, tuple[JobState | None, str]] = {
    "TUNING_JOB_STATE_WAITING_FOR_QUOTA": (JobState.QUEUED, "waiting for tuning quota"),
    "TUNING_JOB_STATE_WAITING_FOR_CAPACITY": (JobState.QUEUED, "waiting for hardware capacity"),
    "TUNING_JOB_STATE_PROCESSING_DATASET": (JobState.VALIDATING, "processing the dataset"),
    "TUNING_JOB_STATE_TUNING": (None, "tuning"),
    "TUNING_JOB_STATE_POST_PROCESSING": (None, "post-processing"),
}


def _unknown(raw: str) -> JobStatus:
    return JobStatus(JobState.UNKNOWN, raw, f"unrecognised provider state {raw!r}")


def openai_status(raw: str) -> JobStatus:
    """OpenAI and the local backend share these names."""
    state, detail = _OPENAI.get(raw, (None, ""))
    return JobStatus(state, raw, detail) if state else _unknown(raw)


def vertex_status(raw: str, detail_state: str | None = None) -> JobStatus:
    state, detail = _VERTEX.get(raw, (None, ""))
    if state is None:
        return _unknown(raw)
    if state is JobState.RUNNING and detail_state in _VERTEX_DETAIL:
        refined, detail = _VERTEX_DETAIL[detail_state]
        state = refined or state
    return JobStatus(state, raw, detail)


def advance(previous: JobStatus | None, observed: JobStatus) -> JobStatus:
    """The status to record after observing `observed`: finished is final, and an unknown raw state keeps
    the last known neutral state (with the new raw state beside it) instead of erasing it."""
    if previous is None:
        return observed
    if previous.state.finished:
        return previous
    if observed.state is JobState.UNKNOWN and previous.state is not JobState.UNKNOWN:
        return JobStatus(previous.state, observed.raw_state, observed.detail)
    return observed
