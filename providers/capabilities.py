"""What each provider can do, as data: read by the adapters (their `capabilities`) and by front ends that must
decide without building an adapter (which providers can fine-tune, which can bill by the hour)."""

from __future__ import annotations

from providers.base import Capabilities

CAPABILITIES: dict[str, Capabilities] = {
    "openai": Capabilities(fine_tuning=True, checkpoints=True, hourly_endpoints=False, chat=True, streaming=True),
    "vertex": Capabilities(fine_tuning=True, checkpoints=True, hourly_endpoints=True, chat=True, streaming=True),
    "anthropic": Capabilities(fine_tuning=False, checkpoints=False, hourly_endpoints=False, chat=True, streaming=True),
    "local": Capabilities(fine_tuning=True, checkpoints=True, hourly_endpoints=False, chat=True, streaming=True),
}
