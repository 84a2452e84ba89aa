"""The shipped price table (prices.toml) merged with the user's `[prices]` config, and cost arithmetic."""

from __future__ import annotations

import functools
import tomllib
from datetime import date
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict

from tunedeck.errors import UsageError
from tunedeck.settings import Settings

PROVIDERS = ("openai", "vertex", "local")
_WILDCARD = "*"
MAX_AGE_DAYS = 90
"""A price figure older than this is called out: providers change prices, and the table is read, not fetched."""
OVERRIDE_HINT = (
    'Put current figures in config.toml under [prices.PROVIDER."MODEL"] (training_usd_per_million_tokens, '
    "inference_input_usd_per_million_tokens, inference_output_usd_per_million_tokens, as_of, source)."
)


class Price(BaseModel):
    """Prices for one provider and model, with when and where they were read."""

    model_config = ConfigDict(frozen=True)

    provider: str
    model: str
    matched: str
    """The table key that matched `model` (a prefix, or "*")."""
    usd_per_million_tokens: float
    """Training price, USD per 1M training tokens."""
    as_of: str
    source: str
    inference_input_usd_per_million_tokens: float | None = None
    inference_output_usd_per_million_tokens: float | None = None
    """A fine-tuned model's answers; `base_inference_*` are the untuned base model's (they differ)."""
    base_inference_input_usd_per_million_tokens: float | None = None
    base_inference_output_usd_per_million_tokens: float | None = None
    endpoint_usd_per_hour: float | None = None
    inference_note: str = ""
    """Why using the tuned model has no figure here, or how it bills (said with the figures)."""
    from_user_config: bool = False

    def describe_usage(self) -> str:
        """What using the tuned model costs per 1M tokens, or "unknown" and why."""
        unit_in, unit_out = self.inference_input_usd_per_million_tokens, self.inference_output_usd_per_million_tokens
        if unit_in is None or unit_out is None:
            why = self.inference_note or f"no inference price for {self.matched!r} in the table"
            return f"unknown ({why})"
        if unit_in == 0 and unit_out == 0:
            return f"free ({self.source})"
        note = f"; {self.inference_note}" if self.inference_note else ""
        return f"{usd(unit_in)}/1M input, {usd(unit_out)}/1M output tokens (as of {self.as_of}{note})"

    @property
    def free(self) -> bool:
        return self.usd_per_million_tokens == 0 and not (
            self.inference_input_usd_per_million_tokens or self.inference_output_usd_per_million_tokens
        )

    def age_days(self, today: date | None = None) -> int | None:
        """Days since these figures were read; None when the date is unknown (e.g. a user override without one)."""
        try:
            read = date.fromisoformat(self.as_of)
        except ValueError:
            return None
        return ((today or date.today()) - read).days

    def staleness(self, today: date | None = None) -> str | None:
        """A warning when the figures are older than MAX_AGE_DAYS, else None."""
        age = self.age_days(today)
        if age is None or age <= MAX_AGE_DAYS or self.free:  # nothing to bill has no price to go stale
            return None
        whose = "from your config.toml" if self.from_user_config else "in tunedeck's price table"
        return (
            f"The prices {whose} are {age} days old (as of {self.as_of}, more than {MAX_AGE_DAYS} days): "
            f"they may have changed. {OVERRIDE_HINT}"
        )


def usd(value: float) -> str:
    """$0.30, $25.00, $0.075: cents always, more digits only when the figure has them."""
    return f"${value:,.2f}" if round(value, 2) == value else f"${value:g}"


class CostEstimate(BaseModel):
    """An estimated training bill: billable tokens × epochs × price. Never a quote."""

    provider: str
    model: str
    billable_tokens: int
    n_epochs: int
    trained_tokens: int
    estimated_usd: float
    price: Price
    tokens_are_estimate: bool = False

    def describe(self) -> str:
        approx = "≈" if self.tokens_are_estimate else ""
        usd = (
            f"{self.estimated_usd:,.2f}"
            if self.estimated_usd >= 0.01 or not self.estimated_usd
            else f"{self.estimated_usd:.4f}"
        )
        return (
            f"estimated ${usd} ({approx}{self.trained_tokens:,} training tokens at "
            f"${self.price.usd_per_million_tokens:g}/1M; price as of {self.price.as_of}, source: {self.price.source})"
        )


@functools.cache
def _shipped_table() -> dict[str, Any]:
    return tomllib.loads(resources.files("tunedeck.costs").joinpath("prices.toml").read_text(encoding="utf-8"))


def _table(settings: Settings | None) -> dict[str, dict[str, tuple[dict[str, Any], bool]]]:
    """provider → model key → (entry, from user config); user entries override field by field."""
    merged: dict[str, dict[str, tuple[dict[str, Any], bool]]] = {}
    for provider, models in _shipped_table().items():
        merged[provider] = {key: (dict(entry), False) for key, entry in models.items()}
    user = settings.section("prices") if settings is not None else {}
    for provider, models in user.items():
        if not isinstance(models, dict):
            continue
        for key, entry in models.items():
            if not isinstance(entry, dict):
                continue
            base = merged.setdefault(provider, {}).get(key, ({}, False))[0]
            override = {"as_of": "unknown", "source": "your config.toml"} | dict(entry)
            if "training" in entry and "training_usd_per_million_tokens" not in entry:
                override["training_usd_per_million_tokens"] = entry["training"]
            merged[provider][key] = (base | override, True)
    return merged


def known_models(provider: str, settings: Settings | None = None) -> list[str]:
    return sorted(_table(settings).get(provider, {}))


def training_price(provider: str, model: str, settings: Settings | None = None) -> Price:
    """The price entry for `model` (longest matching key), or a UsageError naming the known ones."""
    if provider not in PROVIDERS:
        raise UsageError(f"Unknown provider {provider!r}.", f"Choose one of: {', '.join(PROVIDERS)}.")
    models = _table(settings).get(provider, {})
    base = model.removeprefix("ft:").split(":", 1)[0]
    matches = [key for key in models if key != _WILDCARD and base.startswith(key)]
    key = max(matches, key=len) if matches else (_WILDCARD if _WILDCARD in models else None)
    if key is None:
        raise UsageError(
            f"No {provider} price known for model {model!r}.",
            f'Known: {", ".join(sorted(models)) or "none"}. Add [prices.{provider}."{model}"] with '
            "training_usd_per_million_tokens, as_of and source to your config.toml.",
        )
    entry, from_user = models[key]
    try:
        return Price(
            provider=provider,
            model=model,
            matched=key,
            usd_per_million_tokens=float(entry["training_usd_per_million_tokens"]),
            as_of=str(entry.get("as_of", "unknown")),
            source=str(entry.get("source", "unknown")),
            inference_input_usd_per_million_tokens=entry.get("inference_input_usd_per_million_tokens"),
            inference_output_usd_per_million_tokens=entry.get("inference_output_usd_per_million_tokens"),
            base_inference_input_usd_per_million_tokens=entry.get("base_inference_input_usd_per_million_tokens"),
            base_inference_output_usd_per_million_tokens=entry.get("base_inference_output_usd_per_million_tokens"),
            endpoint_usd_per_hour=entry.get("endpoint_usd_per_hour"),
            inference_note=str(entry.get("inference_note", "")),
            from_user_config=from_user,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(
            f'The price entry [prices.{provider}."{key}"] is incomplete or not a number ({exc}).',
            "Give training_usd_per_million_tokens as a number, with as_of and source.",
        ) from exc


def estimate_training_cost(
    provider: str,
    model: str,
    billable_tokens: int,
    n_epochs: int,
    settings: Settings | None = None,
    *,
    tokens_are_estimate: bool = False,
) -> CostEstimate:
    price = training_price(provider, model, settings)
    trained = billable_tokens * n_epochs
    return CostEstimate(
        provider=provider,
        model=model,
        billable_tokens=billable_tokens,
        n_epochs=n_epochs,
        trained_tokens=trained,
        estimated_usd=round(trained / 1_000_000 * price.usd_per_million_tokens, 4),
        price=price,
        tokens_are_estimate=tokens_are_estimate,
    )
