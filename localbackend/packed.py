"""One forward pass over several sequences at once, packed end to end, each with its own KV cache.

The new tokens of every sequence (a whole prompt, or the one token decoded last) are laid side by side in a
single row, so the linear layers - nearly all the work of a small model - run once for everyone. Attention is
the only step that must not mix sequences: a registered attention function splits the row back into sequences
and runs each against its own keys and values, exactly as if it were alone (no padding, no shared mask).

A sequence's attention is computed exactly as when it runs alone. The matrix products are not always: the
CPU BLAS (MKL) multiplies a single row with a matrix-vector kernel and 8 rows or more with a matrix-matrix
kernel whose sums run in another order, so logits can differ in the last bits with the batch size. Greedy
answers match in practice (the tests and the benchmark compare them token for token), and `min_rows=8`
removes even that difference (filler rows keep every product on the matrix-matrix path, where a row's result
does not depend on the row count) at about twice the cost of a lone sequence's step on a small CPU.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from localbackend.device import ComputePlan

ATTENTION = "tunedeck_packed"
# From this many rows up, MKL computes each row of a product the same way whatever the row count (checked by
# tests/backend/test_batching.py on the CPU it runs on).
INVARIANT_ROWS = 8
_KWARG = "tunedeck_packing"


class KVCache:
    """One sequence's keys and values, per layer, in buffers that grow by doubling (never past `limit` tokens)."""

    def __init__(self, reserve: int, limit: int) -> None:
        self.length = 0  # tokens already committed (seen by a finished forward pass)
        self._reserve = max(1, reserve)
        self._limit = max(self._reserve, limit)
        self._keys: dict[int, Any] = {}
        self._values: dict[int, Any] = {}

    def extend(self, layer: int, keys: Any, values: Any) -> tuple[Any, Any]:
        """Write this pass's keys/values (1, heads, n, dim) after the committed ones; return all of them so far."""
        end = self.length + int(keys.shape[2])
        old_k: Any = self._keys.get(layer)
        old_v: Any = self._values.get(layer)
        if old_k is None or old_k.shape[2] < end:
            size = 0 if old_k is None else int(old_k.shape[2])
            capacity = min(self._limit, max(end, self._reserve, 2 * size))
            capacity = max(capacity, end)
            new_k = keys.new_empty(1, keys.shape[1], capacity, keys.shape[3])
            new_v = values.new_empty(1, values.shape[1], capacity, values.shape[3])
            if old_k is not None and self.length:
                new_k[:, :, : self.length] = old_k[:, :, : self.length]
                new_v[:, :, : self.length] = old_v[:, :, : self.length]
            self._keys[layer], self._values[layer] = new_k, new_v
        k, v = self._keys[layer], self._values[layer]
        k[:, :, self.length : end] = keys
        v[:, :, self.length : end] = values
        return k[:, :, :end], v[:, :, :end]


@dataclass
class _Packing:
    """Where each sequence's tokens sit in the packed row: [start, end) and its cache."""

    segments: list[tuple[int, int, KVCache]] = field(default_factory=list)


def _packed_attention(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[Any, None]:
    packing: _Packing | None = kwargs.pop(_KWARG, None)
    if packing is None:  # a plain forward pass on a model that has this attention set: behave like sdpa
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    import torch

    # (1, heads, tokens, dim) in; (1, tokens, heads, dim) out, as transformers' attention functions return.
    out = query.new_zeros(query.shape[0], query.shape[2], query.shape[1], query.shape[3])
    layer = int(module.layer_idx)
    for start, end, cache in packing.segments:
        if end - start > 1 and cache.length:
            raise ValueError("A packed sequence takes either its whole prompt or one new token per pass.")
        k, v = cache.extend(layer, key[:, :, start:end], value[:, :, start:end])
        attended = torch.nn.functional.scaled_dot_product_attention(
            query[:, :, start:end], k, v, is_causal=end - start > 1, scale=scaling, enable_gqa=True
        )
        out[:, start:end] = attended.transpose(1, 2)
    return out, None


def _register() -> None:
    from transformers import AttentionInterface

    if ATTENTION not in AttentionInterface._global_mapping:
        AttentionInterface.register(ATTENTION, _packed_attention)


_PASS_LOCKS: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
_PASS_LOCKS_GUARD = threading.Lock()


def _pass_lock(model: Any) -> threading.Lock:
    """One lock per model module (configs are unhashable; the module owns its config)."""
    with _PASS_LOCKS_GUARD:
        lock = _PASS_LOCKS.get(model)
        if lock is None:
            lock = _PASS_LOCKS[model] = threading.Lock()
        return lock


@contextlib.contextmanager
def _packed_attention_on(model: Any) -> Iterator[None]:
    """Route the model's attention through `_packed_attention` for one pass (the trainer's model is shared).

    The switch is a field of the model's config, which every thread using the model reads: two passes at once
    on one model (two generations on two threads) interleaved their switches, so one pass restored the other's
    setting mid-pass and transformers then looked up a mask for an implementation it has none for (a KeyError
    seen in CI). Passes over one model therefore take turns; the batcher already packs concurrent requests into
    one pass, so this serializes nothing it could have run at once in one pass."""
    _register()
    config = model.config
    with _pass_lock(model):
        previous = config._attn_implementation
        config._attn_implementation = ATTENTION
        try:
            yield
        finally:
            config._attn_implementation = previous


def causal_lm(model: Any) -> Any:
    # A PeftModel's LoRA layers live inside its base model, so calling that directly runs the active adapter
    # while skipping peft's forward wrapper (which lags behind transformers' argument names).
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def forward(model: Any, batch: Sequence[tuple[KVCache, Sequence[int]]], plan: ComputePlan, *, min_rows: int = 1) -> Any:
    """Run each (cache, new tokens) pair one step; return next-token logits as a float CPU tensor (len(batch), vocab).

    A cache's length advances only once the whole pass succeeded, so a failed pass can be retried as is.
    """
    import torch

    ids: list[int] = []
    positions: list[int] = []
    last: list[int] = []
    packing = _Packing()
    for cache, tokens in batch:
        start = len(ids)
        ids.extend(tokens)
        positions.extend(range(cache.length, cache.length + len(tokens)))
        packing.segments.append((start, len(ids), cache))
        last.append(len(ids) - 1)
    # Filler rows belong to no sequence (their attention output is zero); they only keep the BLAS on one path.
    filler = max(0, min_rows - len(ids))
    ids.extend([0] * filler)
    positions.extend([0] * filler)
    keep = last + [last[-1]] * max(0, min_rows - len(last))
    device = plan.device
    lm = causal_lm(model)
    with _packed_attention_on(lm), torch.inference_mode(), plan.autocast():
        out = lm(
            input_ids=torch.tensor([ids], dtype=torch.long, device=device),
            position_ids=torch.tensor([positions], dtype=torch.long, device=device),
            use_cache=False,
            logits_to_keep=torch.tensor(keep, dtype=torch.long, device=device),
            **{_KWARG: packing},
        )
        logits = out.logits[0, : len(batch)].float().cpu()
    for cache, tokens in batch:
        cache.length += len(tokens)
    return logits
