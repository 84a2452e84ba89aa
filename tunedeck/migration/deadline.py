"""The date OpenAI's self-serve fine-tuning stops taking new jobs, and how many days are left before it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from providers.translate import OPENAI_LAST_DAY_FOR_NEW_JOBS

LAST_DAY_FOR_NEW_JOBS = date.fromisoformat(OPENAI_LAST_DAY_FOR_NEW_JOBS)


def today() -> date:
    return datetime.now(UTC).date()


def days_left(on: date | None = None) -> int:
    """Days from `on` (default: today, UTC) to the last day new OpenAI jobs start; negative once it has passed."""
    return (LAST_DAY_FOR_NEW_JOBS - (on or today())).days


def describe(on: date | None = None) -> str:
    left = days_left(on)
    if left > 1:
        return f"{left} days left before OpenAI stops taking new fine-tuning jobs ({LAST_DAY_FOR_NEW_JOBS})."
    if left == 1:
        return f"1 day left before OpenAI stops taking new fine-tuning jobs ({LAST_DAY_FOR_NEW_JOBS})."
    if left == 0:
        return f"Today ({LAST_DAY_FOR_NEW_JOBS}) is the last day OpenAI takes new fine-tuning jobs."
    return f"OpenAI stopped taking new fine-tuning jobs after {LAST_DAY_FOR_NEW_JOBS}; tuned models still answer."
