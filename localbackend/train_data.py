"""Training data for the local trainer: conversations encoded once, then shuffled into padded batches per epoch."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from localbackend.chatml import IGNORE_INDEX, EncodedExample, encode_example


@dataclass(frozen=True)
class EncodedSet:
    examples: list[EncodedExample]
    dropped: int  # conversations with nothing to learn from (no weighted assistant token left after truncation)
    truncated: int


def encode_set(tokenizer: Any, conversations: Sequence[Sequence[Mapping[str, Any]]], max_seq_len: int) -> EncodedSet:
    kept: list[EncodedExample] = []
    dropped = truncated = 0
    for messages in conversations:
        example = encode_example(tokenizer, messages, max_seq_len)
        truncated += example.truncated
        if example.trained_tokens == 0:
            dropped += 1
        else:
            kept.append(example)
    return EncodedSet(kept, dropped, truncated)


@dataclass
class Batch:
    input_ids: Any  # LongTensor [batch, length], right-padded
    attention_mask: Any
    labels: Any  # already shifted: labels[:, t] is the target for position t's prediction
    tokens: int  # real (non-pad) tokens, the "trained tokens" OpenAI bills for
    target_tokens: int


def collate(examples: Sequence[EncodedExample], pad_id: int, device: str) -> Batch:
    import torch

    length = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), length), dtype=torch.long)
    labels = torch.full((len(examples), length), IGNORE_INDEX, dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        ids[row, :n] = torch.tensor(example.input_ids)
        mask[row, :n] = 1
        # Shift once here: the prediction at position t is scored against token t + 1.
        labels[row, : n - 1] = torch.tensor(example.labels[1:])
    return Batch(
        ids.to(device),
        mask.to(device),
        labels.to(device),
        tokens=int(mask.sum()),
        target_tokens=int((labels != IGNORE_INDEX).sum()),
    )


def epoch_batches(examples: Sequence[EncodedExample], batch_size: int, seed: int, epoch: int) -> Iterator[list[int]]:
    """Indices of each batch in one epoch: a fresh shuffle per (seed, epoch), so a resumed run sees the same order.

    The last batch may be smaller; no example is dropped."""
    order = list(range(len(examples)))
    random.Random(seed * 1_000_003 + epoch).shuffle(order)
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def steps_per_epoch(n_examples: int, batch_size: int) -> int:
    return -(-n_examples // batch_size)
