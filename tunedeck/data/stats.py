"""Dataset statistics: distributions kept as compact arrays while streaming, summarised at the end."""

from __future__ import annotations

from array import array

from pydantic import BaseModel

from tunedeck.costs import CostEstimate


class Distribution(BaseModel):
    min: int
    max: int
    mean: float
    median: float
    p10: float
    p90: float

    @classmethod
    def of(cls, values: array | list[int]) -> Distribution | None:
        if not values:
            return None
        ordered = sorted(values)
        return cls(
            min=ordered[0],
            max=ordered[-1],
            mean=round(sum(ordered) / len(ordered), 2),
            median=percentile(ordered, 0.5),
            p10=percentile(ordered, 0.1),
            p90=percentile(ordered, 0.9),
        )


def percentile(ordered: list[int], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), on already sorted values."""
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 2)


class DatasetStats(BaseModel):
    """What `tunedeck data stats` shows; also part of every validation report."""

    format: str
    provider: str
    model: str
    n_lines: int = 0
    n_bytes: int = 0
    n_examples: int = 0
    """Records meant as examples (blank lines and a CSV header excluded)."""
    n_valid_examples: int = 0
    n_blank_lines: int = 0
    duplicates: int = 0
    distinct_system_prompts: int = 0
    messages_per_example: Distribution | None = None
    tokens_per_example: Distribution | None = None
    assistant_tokens_per_example: Distribution | None = None
    missing_system: int = 0
    missing_user: int = 0
    over_token_limit: int = 0
    token_limit: int | None = None
    total_tokens: int = 0
    billable_tokens: int = 0
    """Tokens the provider bills per epoch: each example's tokens, capped at the per-example limit."""
    tokens_are_estimate: bool = False
    token_method: str = ""
    encoding: str | None = None
    auto_epochs: int | None = None
    epochs: int | None = None
    """Epochs used for the cost estimate: the ones asked for, else auto, else 3 as an assumption."""
    cost: CostEstimate | None = None
    cost_note: str | None = None


class StatsCollector:
    """Per-example numbers appended while streaming: 4 bytes each, so a million examples cost ~12 MB."""

    def __init__(self) -> None:
        self.messages = array("l")
        self.tokens = array("l")
        self.assistant_tokens = array("l")
        self.over_limit = 0
        self.billable = 0

    def add_messages(self, n: int) -> None:
        self.messages.append(n)

    def add_tokens(self, tokens: int, assistant: int, limit: int | None) -> bool:
        """Record one example's counts; True when it is over the per-example limit."""
        self.tokens.append(tokens)
        self.assistant_tokens.append(assistant)
        over = limit is not None and tokens > limit
        self.billable += min(tokens, limit) if limit is not None else tokens
        self.over_limit += over
        return over
