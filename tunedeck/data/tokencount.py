"""Tokens per example, counted in batches: tiktoken with OpenAI's chat method, or a labelled estimate.

Examples are queued and encoded in chunks with `encode_ordinary_batch` (tiktoken's Rust core runs
them on several threads); text seen before, typically the shared system prompt, is counted once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import tiktoken

from tunedeck.data.model import Example
from tunedeck.data.tokens import get_encoding

# OpenAI's published counting method for chat messages.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMER = 3
CHARS_PER_TOKEN = 4
# Texts per batch: large enough that the thread pool is busy, small enough to keep memory flat.
BATCH_TEXTS = 8192
_CACHE_LIMIT = 4096
_THREADS = 4


@dataclass(slots=True)
class Counted:
    """The counts of one example, handed back with the caller's tag (its line number)."""

    tag: int
    tokens: int
    assistant_tokens: int


class TokenCounter:
    """Queue examples with `add`; counted ones come back from `add` and `flush` in input order."""

    def __init__(self, encoding: str | None) -> None:
        self.encoding_name = encoding
        self._encoding: tiktoken.Encoding | None = get_encoding(encoding) if encoding else None
        self._pending: list[tuple[int, list[tuple[str, str]], int]] = []
        self._texts = 0
        self._cache: dict[str, int] = {}
        self._role_tokens: dict[str, int] = {}

    @property
    def is_estimate(self) -> bool:
        return self._encoding is None

    def _parts(self, example: Example) -> tuple[list[tuple[str, str]], int]:
        """(role, text) pieces to encode, and the fixed overhead that needs no encoding."""
        parts: list[tuple[str, str]] = []
        overhead = REPLY_PRIMER
        if example.system is not None:
            parts.append(("system", example.system))
            overhead += TOKENS_PER_MESSAGE + self._role("system")
        for message in example.messages:
            overhead += TOKENS_PER_MESSAGE + self._role(message.role)
            parts.append((message.role, message.content))
            if message.name is not None:
                parts.append(("name", message.name))
                overhead += TOKENS_PER_NAME
            if message.tool_call_id is not None:
                parts.append(("tool_call_id", message.tool_call_id))
            if message.tool_calls:
                # Not covered by OpenAI's published method: the JSON is counted as an approximation.
                parts.append(("tool_calls", orjson.dumps(message.tool_calls).decode()))
        if example.tools:
            parts.append(("tools", orjson.dumps(example.tools).decode()))
        return parts, overhead

    def _role(self, role: str) -> int:
        if role not in self._role_tokens:
            self._role_tokens[role] = len(self._encoding.encode_ordinary(role)) if self._encoding else 0
        return self._role_tokens[role]

    def add(self, tag: int, example: Example) -> Iterator[Counted]:
        if self._encoding is None:
            yield self._estimate(tag, example)
            return
        parts, overhead = self._parts(example)
        self._pending.append((tag, parts, overhead))
        self._texts += len(parts)
        if self._texts >= BATCH_TEXTS:
            yield from self.flush()

    def _estimate(self, tag: int, example: Example) -> Counted:
        total = assistant = 0
        for role, text in self._parts(example)[0]:
            n = -(-len(text) // CHARS_PER_TOKEN)
            total += n
            if role == "assistant":
                assistant += n
        return Counted(tag, total, assistant)

    def flush(self) -> Iterator[Counted]:
        if not self._pending:
            return
        assert self._encoding is not None
        cache = self._cache
        todo = list({text: None for _, parts, _ in self._pending for _, text in parts if text not in cache})
        counts = dict(
            zip(todo, map(len, self._encoding.encode_ordinary_batch(todo, num_threads=_THREADS)), strict=True)
        )
        for tag, parts, overhead in self._pending:
            total = overhead
            assistant = 0
            for role, text in parts:
                n = cache.get(text)
                if n is None:
                    n = counts[text]
                total += n
                if role == "assistant":
                    assistant += n
                elif role == "system" and len(cache) < _CACHE_LIMIT:
                    cache[text] = n  # shared system prompts are the text that repeats
            yield Counted(tag, total, assistant)
        self._pending.clear()
        self._texts = 0


def count_messages(messages: list[dict[str, Any]], encoding: str) -> int:
    """Tokens of one OpenAI chat conversation, the way OpenAI's counting guide does it."""
    enc = get_encoding(encoding)
    total = REPLY_PRIMER
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            if isinstance(value, str):
                total += len(enc.encode_ordinary(value))
                if key == "name":
                    total += TOKENS_PER_NAME
    return total
