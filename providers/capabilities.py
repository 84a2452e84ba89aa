"""What each provider can do, as data: read by the adapters (their `capabilities`) and by front ends that must
decide without building an adapter (which providers can fine-tune, which can bill by the hour, which one a
model's name implies)."""

from __future__ import annotations

from providers.base import Capabilities

CAPABILITIES: dict[str, Capabilities] = {
    "openai": Capabilities(fine_tuning=True, checkpoints=True, hourly_endpoints=False, chat=True, streaming=True),
    "vertex": Capabilities(fine_tuning=True, checkpoints=True, hourly_endpoints=True, chat=True, streaming=True),
    "anthropic": Capabilities(fine_tuning=False, checkpoints=False, hourly_endpoints=False, chat=True, streaming=True),
    "local": Capabilities(fine_tuning=True, checkpoints=True, hourly_endpoints=False, chat=True, streaming=True),
}


# Model names that say which provider serves them (a fine-tuned "ft:" prefix aside), checked in order.
_NAME_PREFIXES = (
    ("claude", "anthropic"),
    ("gemini", "vertex"),
    ("projects/", "vertex"),
    ("gpt-", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("smollm", "local"),
)


def provider_implied_by(model: str) -> str | None:
    """The provider a model's name implies ("gpt-4o-mini" → openai, "SmolLM2-…" → local), else None."""
    name = model.removeprefix("ft:").lower()
    return next((provider for prefix, provider in _NAME_PREFIXES if name.startswith(prefix)), None)
