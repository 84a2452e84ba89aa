"""How the terminal UI writes numbers, times and states: short enough for an 80-column table, never misleading.

Pure functions of their arguments (the clock's "now" is passed in), so screens, snapshots and tests agree.
"""

from __future__ import annotations

from datetime import datetime

from providers.base import JobState
from tunedeck.store import JobRecord, Submission

DASH = "—"


def middle(text: str, width: int) -> str:
    """`text` cut in the middle to `width` cells: ids differ at both ends (prefix and step or hash), so both stay."""
    if len(text) <= width:
        return text
    keep = width - 1
    return f"{text[: (keep + 1) // 2]}…{text[len(text) - keep // 2 :]}"


def money(value: float | None) -> str:
    """'$0.0042' below a dollar (fine-tuning small jobs costs cents), '$1,234.50' above; '—' when unknown."""
    if value is None:
        return DASH
    return f"${value:,.4f}" if abs(value) < 1 else f"${value:,.2f}"


def rate(usd_per_h: float | None) -> str:
    return "per token" if usd_per_h is None else f"${usd_per_h:,.2f}/h"


def duration(seconds: float | None) -> str:
    """'42s', '3m05s', '2h10m', '3d04h': two units at most, so a column never jumps in width."""
    if seconds is None:
        return DASH
    total = max(0, int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def span(seconds: float) -> str:
    """A limit the user set, as they would write it: '45m', '1h30m', '2h', '90s'."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts) or "0s"


def ago(moment: datetime | None, now: datetime) -> str:
    return "never" if moment is None else f"{duration((now - moment).total_seconds())} ago"


def clock_time(moment: datetime, now: datetime) -> str:
    """'14:03:07' today, '11-24 14:03' on another day (UTC, as the store keeps it)."""
    return f"{moment:%H:%M:%S}" if moment.date() == now.date() else f"{moment:%m-%d %H:%M}"


def loss(value: float | None) -> str:
    return DASH if value is None else f"{value:.4f}"


def job_state(job: JobRecord, now: datetime) -> str:
    """The job's state as the table shows it: 'unknown since 14:03:07' when the provider could not be asked."""
    if job.submission is Submission.SUBMITTED and job.state is JobState.UNKNOWN and job.unknown_since:
        return f"unknown since {clock_time(job.unknown_since, now)}"
    return job.display_state


def job_elapsed_s(job: JobRecord, now: datetime) -> float:
    end = job.finished_at if job.finished and job.finished_at else now
    return max(0.0, (end - job.created_at).total_seconds())


def job_elapsed(job: JobRecord, now: datetime) -> str:
    """How long it has run ('—' for a submission that never reached the provider)."""
    return duration(job_elapsed_s(job, now)) if job.submission is Submission.SUBMITTED else DASH


def progress(step: int | None, total: int | None) -> str:
    if step is None:
        return DASH
    return f"{step}/{total}" if total else str(step)


def job_cost(job: JobRecord) -> tuple[str, str]:
    """(text, style): the actual cost once billed, else the estimate marked '~' and dimmed."""
    if job.actual_cost_usd is not None:
        return money(job.actual_cost_usd), ""
    if job.estimated_cost_usd is not None:
        return f"~{money(job.estimated_cost_usd)}", "dim"
    return DASH, "dim"


def state_style(job: JobRecord) -> str:
    """A Rich style for the state cell (themes colour it; NO_COLOR keeps the words)."""
    if job.submission is not Submission.SUBMITTED:
        return "yellow"
    return {
        JobState.SUCCEEDED: "green",
        JobState.FAILED: "bold red",
        JobState.CANCELLED: "dim",
        JobState.UNKNOWN: "yellow",
        JobState.RUNNING: "cyan",
    }.get(job.state, "")


def hyperparameters(spec: dict[str, object]) -> list[tuple[str, str]]:
    """The spec's tunable parts, in the order users think about them ('auto' when the provider chooses)."""
    names = ("n_epochs", "batch_size", "learning_rate_multiplier", "suffix", "seed", "adapter_size")
    labels = ("epochs", "batch size", "learning rate ×", "suffix", "seed", "adapter size")
    return [
        (label, DASH if spec.get(name) is None else str(spec.get(name)))
        for name, label in zip(names, labels, strict=True)
    ]
