"""The token-by-token generation loop (KV cache, greedy or seeded sampling) shared by the engine and the trainer."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator
from typing import Any

from localbackend.device import ComputePlan

StepContext = Callable[[], contextlib.AbstractContextManager[Any]]


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


def _causal_lm(model: Any) -> Any:
    # A PeftModel's LoRA layers live inside its base model, so calling that directly runs the active adapter
    # while skipping peft's forward wrapper (which lags behind transformers' argument names).
    return model.get_base_model() if hasattr(model, "get_base_model") else model


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
    step_context: StepContext | None = None,
    model_for_step: Callable[[], Any] | None = None,
) -> Generator[int, None, None]:
    """Yield up to `max_tokens` new token ids, stopping after the first one in `eos_ids`.

    Each forward pass runs inside `step_context()` (the engine's lock + adapter switch), on the model that
    `model_for_step()` returns (the engine may have reloaded it meanwhile); the KV cache belongs to this call.
    Greedy when temperature is 0; otherwise sampling is reproducible for a given `seed`.
    """
    import torch

    enter = step_context or contextlib.nullcontext
    current = model_for_step or (lambda: model)
    generator = torch.Generator(device="cpu")
    if seed is not None:
        generator.manual_seed(seed)
    else:
        generator.seed()
    device = plan.device
    past: Any = None
    next_input = torch.tensor([prompt_ids], dtype=torch.long, device=device)
    for _ in range(max_tokens):
        with enter(), torch.inference_mode(), plan.autocast():
            out = _causal_lm(current())(input_ids=next_input, cache=past, use_cache=True, logits_to_keep=1)
        past = out.cache
        logits = out.logits[0, -1].float().cpu()
        token = _pick(logits, temperature, top_p, generator)
        yield token
        if token in eos_ids:
            return
        next_input = torch.tensor([[token]], dtype=torch.long, device=device)
