"""What a request costs each candidate, what training cost, and the volume at which training pays for itself.

Prices come from the dated table (`tunedeck/costs/prices.toml`, overridable under `[prices]`): a fine-tuned
model's answers are billed at its own rates (`inference_*`), the untuned base model at `base_inference_*`;
the local backend is free and says so; a model the table does not price is "unknown", never free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tunedeck.errors import UsageError

if TYPE_CHECKING:
    from tunedeck.settings import Settings

FREE_PROVIDERS = frozenset({"local"})
DEFAULT_MONTHS = 12
"""Break-even per month: the monthly volume that repays the training within this many months."""


@dataclass(frozen=True)
class RequestPrice:
    input_usd_per_million: float
    output_usd_per_million: float
    as_of: str
    source: str
    free: bool = False

    def per_request(self, prompt_tokens: float, completion_tokens: float) -> float:
        return (prompt_tokens * self.input_usd_per_million + completion_tokens * self.output_usd_per_million) / 1e6

    def describe(self) -> str:
        if self.free:
            return self.source
        return (
            f"${self.input_usd_per_million:g} in / ${self.output_usd_per_million:g} out per 1M tokens "
            f"(as of {self.as_of}, {self.source})"
        )


LOCAL_PRICE = RequestPrice(0.0, 0.0, "-", "runs locally: no provider charge", free=True)


def request_price(settings: Settings | None, provider: str, model: str, *, tuned: bool) -> RequestPrice | None:
    """The per-token price of `model`'s answers (a fine-tuned model's own rates when `tuned`), None if unknown."""
    if provider in FREE_PROVIDERS:
        return LOCAL_PRICE
    from tunedeck.costs.prices import training_price

    try:
        price = training_price(provider, model, settings)
    except UsageError:
        return None
    if tuned:
        rates = price.inference_input_usd_per_million_tokens, price.inference_output_usd_per_million_tokens
    else:
        rates = price.base_inference_input_usd_per_million_tokens, price.base_inference_output_usd_per_million_tokens
    if rates[0] is None or rates[1] is None:
        return None
    return RequestPrice(float(rates[0]), float(rates[1]), price.as_of, price.source)


def cost_per_1000(
    price: RequestPrice | None, prompt_tokens: float | None, completion_tokens: float | None
) -> float | None:
    """USD per 1,000 requests of this many tokens each way; None when the price or the tokens are unknown."""
    if price is None:
        return None
    if price.free:
        return 0.0
    if prompt_tokens is None or completion_tokens is None:
        return None
    return round(1000 * price.per_request(prompt_tokens, completion_tokens), 8)


@dataclass(frozen=True)
class BreakEven:
    """When does a cheaper-per-request tuned model repay its one-time training cost?"""

    status: str
    """`unknown` (a cost is missing), `never` (no saving per request), `immediately` (free training) or `volume`."""
    savings_per_1000_usd: float | None
    training_cost_usd: float | None
    requests: int | None
    """Requests in total before the savings equal the training cost (`volume` and `immediately` only)."""
    per_month: int | None
    """Requests a month that repay the training within `months`."""
    months: int
    payback_months: float | None = None
    """At the `--volume` given: months until the training is repaid."""

    def describe(self) -> str:
        if self.status == "unknown":
            return "break-even unknown (a price or the training cost is unknown)"
        if self.status == "never":
            return "break-even never: the tuned model costs as much or more per request"
        if self.status == "immediately":
            return "the training cost nothing, so the cheaper requests pay off from the first one"
        text = f"break-even at {self.requests:,} requests (about {self.per_month:,} a month over {self.months} months)"
        if self.payback_months is not None:
            text += f"; at your volume the training is repaid in {self.payback_months:.1f} months"
        return text


def break_even(
    tuned_per_1000: float | None,
    prompting_per_1000: float | None,
    training_cost_usd: float | None,
    *,
    months: int = DEFAULT_MONTHS,
    volume_per_month: int | None = None,
) -> BreakEven:
    """Requests the tuned model must serve instead of the prompting candidate for its savings to pay its training."""
    if months < 1:
        raise UsageError("--months must be at least 1.")
    if tuned_per_1000 is None or prompting_per_1000 is None or training_cost_usd is None:
        savings = None if tuned_per_1000 is None or prompting_per_1000 is None else prompting_per_1000 - tuned_per_1000
        return BreakEven("unknown", savings, training_cost_usd, None, None, months)
    savings = prompting_per_1000 - tuned_per_1000
    if savings <= 0:
        return BreakEven("never", savings, training_cost_usd, None, None, months)
    if training_cost_usd <= 0:
        return BreakEven("immediately", savings, training_cost_usd, 0, 0, months, 0.0 if volume_per_month else None)
    requests = math.ceil(training_cost_usd / savings * 1000 - 1e-9)
    payback = None
    if volume_per_month:
        payback = round(training_cost_usd / (savings * volume_per_month / 1000), 2)
    return BreakEven("volume", savings, training_cost_usd, requests, math.ceil(requests / months), months, payback)


def format_usd(value: float | None) -> str:
    if value is None:
        return "unknown"
    if value == 0:
        return "$0"
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"
