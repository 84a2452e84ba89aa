"""What an evaluation's answers cost: per-answer cost from the price table, and the estimate shown before a run.

Prices are the dated inference rows of `tunedeck/costs/prices.toml` (overridable under `[prices]`); a model with
no price there is "unknown", never free. The estimate counts prompt tokens with tiktoken (OpenAI's counting;
an approximation for other providers) and every answer at its `max_tokens` ceiling, so it errs high.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from providers.base import ChatMessage
from tunedeck.errors import UsageError
from tunedeck.settings import Settings

FREE_PROVIDERS = frozenset({"local"})


@dataclass(frozen=True)
class InferencePrice:
    input_usd_per_million: float
    output_usd_per_million: float
    as_of: str
    source: str

    def cost(self, prompt_tokens: int | None, completion_tokens: int | None) -> float | None:
        if prompt_tokens is None and completion_tokens is None:
            return None
        return round(
            ((prompt_tokens or 0) * self.input_usd_per_million + (completion_tokens or 0) * self.output_usd_per_million)
            / 1_000_000,
            8,
        )


def inference_price(settings: Settings, provider: str, model: str) -> InferencePrice | None:
    """The price of answers from `model`, or None when the table does not know it."""
    if provider in FREE_PROVIDERS:
        return InferencePrice(0.0, 0.0, "-", "runs locally: no provider charge")
    from tunedeck.costs.prices import training_price

    try:
        price = training_price(provider, model, settings)
    except UsageError:
        return None
    if price.inference_input_usd_per_million_tokens is None or price.inference_output_usd_per_million_tokens is None:
        return None
    return InferencePrice(
        float(price.inference_input_usd_per_million_tokens),
        float(price.inference_output_usd_per_million_tokens),
        price.as_of,
        price.source,
    )


def count_prompt_tokens(model: str, messages: list[ChatMessage]) -> int:
    from tunedeck.data.tokencount import count_messages
    from tunedeck.data.tokens import encoding_name_for_model

    try:
        encoding = encoding_name_for_model(model)
    except UsageError:
        encoding = "cl100k_base"  # not an OpenAI model: an approximation, labelled as such in the estimate
    return count_messages([{"role": m.role, "content": m.content} for m in messages], encoding)


@dataclass
class CostEstimate:
    """Before a run: the calls still to make and what they may cost (answers at their max_tokens ceiling)."""

    calls: int = 0
    paid_calls: int = 0
    """Calls to a provider other than the local backend."""
    prompt_tokens: int = 0
    max_output_tokens: int = 0
    usd: float = 0.0
    """The known part of the bill."""
    unpriced: set[str] = field(default_factory=set)
    """`provider:model` asked for a price the table does not have."""

    @property
    def costs_money(self) -> bool:
        return self.paid_calls > 0

    def add(self, price: InferencePrice | None, where: str, paid: bool, prompt_tokens: int, max_tokens: int) -> None:
        self.calls += 1
        self.paid_calls += int(paid)
        self.prompt_tokens += prompt_tokens
        self.max_output_tokens += max_tokens
        if price is None:
            self.unpriced.add(where)
        else:
            self.usd += price.cost(prompt_tokens, max_tokens) or 0.0

    def describe(self) -> str:
        if not self.calls:
            return "nothing to ask: every answer is already recorded"
        head = f"{self.calls:,} call(s), ≈{self.prompt_tokens:,} prompt tokens, at most {self.max_output_tokens:,} out"
        if not self.costs_money:
            return f"{head}; free (local backend)"
        usd = f"estimated at most ${self.usd:,.4f}" if self.usd < 1 else f"estimated at most ${self.usd:,.2f}"
        if self.unpriced:
            usd += f" plus unknown for {', '.join(sorted(self.unpriced))} (no price in the table)"
        return f"{head}; {usd}"
