"""Choosing tokens (greedy or seeded sampling) and the one-sequence generation loop the trainer's samples use.

The chat engine runs the same forward pass (localbackend.packed) and the same `Sampler` through its batch
scheduler, so a served model answers exactly as the trainer's end-of-training samples did.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from localbackend.device import ComputePlan

# A sequence's KV cache starts with room for its prompt plus this many tokens, and doubles from there.
RESERVED_TOKENS = 64


def _pick(logits: Any, temperature: float, top_p: float, generator: Any) -> int:
    import torch

    if temperature <= 0:
        return int(torch.argmax(logits).item())
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        # Keep the smallest set whose mass reaches top_p (always at least the most likely token).
        keep = torch.cumsum(sorted_probs, dim=-1) - sorted_probs < top_p
        keep[0] = True
        probs = torch.zeros_like(probs).scatter(0, order[keep], sorted_probs[keep])
    return int(torch.multinomial(probs, 1, generator=generator).item())


class Sampler:
    """One sequence's token choice: greedy at temperature 0, else sampling that is reproducible for a `seed`."""

    def __init__(self, temperature: float = 0.0, top_p: float = 1.0, seed: int | None = None) -> None:
        import torch

        self.temperature = temperature
        self.top_p = top_p
        self._generator = torch.Generator(device="cpu")
        if seed is not None:
            self._generator.manual_seed(seed)
        else:
            self._generator.seed()

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0

    def pick(self, logits: Any) -> int:
        """The next token from one row of next-token logits."""
        return _pick(logits, self.temperature, self.top_p, self._generator)


def new_cache(prompt_tokens: int, max_tokens: int) -> Any:
    from localbackend.packed import KVCache

    return KVCache(prompt_tokens + min(max_tokens, RESERVED_TOKENS), prompt_tokens + max_tokens)


def generate_ids(
    model: Any,
    prompt_ids: list[int],
    *,
    plan: ComputePlan,
    max_tokens: int,
    temperature: float = 0.0,
    top_p: float = 1.0,
    seed: int | None = None,
    eos_ids: frozenset[int] = frozenset(),
    min_rows: int = 1,
) -> Generator[int, None, None]:
    """Yield up to `max_tokens` new token ids for one prompt, stopping after the first one in `eos_ids`."""
    from localbackend.packed import forward

    sampler = Sampler(temperature, top_p, seed)
    cache = new_cache(len(prompt_ids), max_tokens)
    pending = list(prompt_ids)
    for _ in range(max_tokens):
        token = sampler.pick(forward(model, [(cache, pending)], plan, min_rows=min_rows)[0])
        yield token
        if token in eos_ids:
            return
        pending = [token]
