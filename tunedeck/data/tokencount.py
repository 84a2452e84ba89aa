"""Tokens per example, counted in batches: tiktoken with OpenAI's chat method, or a labelled estimate.

Examples are queued and their texts encoded a chunk at a time in ONE tiktoken call: the texts are
joined with `<|endoftext|>` and encoded with that special token allowed. tiktoken runs its split
regex on each stretch between special tokens separately, so every text's count is exactly what
`encode_ordinary(text)` gives, without one Python→Rust round trip (and result list) per text.
Where tiktoken offers it, the tokens come back as one uint32 buffer rather than a list of Python ints.
Text seen before, typically the shared system prompt, is counted once.

`encode_ordinary_batch` was measured and rejected: tiktoken 0.14 keeps the GIL while encoding, so its
thread pool only adds overhead (4× slower than a plain loop on this project's 2-core machines).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson
import tiktoken

from tunedeck.data.model import Example
from tunedeck.data.tokens import ENDOFTEXT, get_encoding

# OpenAI's published counting method for chat messages.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMER = 3
CHARS_PER_TOKEN = 4
# Texts per batch: large enough to amortise each encode call (or worker hand-off), small enough to keep memory flat.
BATCH_TEXTS = 8192
_CACHE_LIMIT = 4096
_SEPARATOR = ENDOFTEXT
# Below this, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 32 * 1024 * 1024


@dataclass(slots=True)
class Counted:
    """The counts of one example, handed back with the caller's tag (its line number)."""

    tag: int
    tokens: int
    assistant_tokens: int


Pending = tuple[int, list[tuple[str, str]], int]  # (tag, (role, text) parts, fixed overhead)


def default_workers(n_bytes: int) -> int:
    """Tokenizer processes for a file this size: none for small files or a single CPU."""
    cpus = os.cpu_count() or 1
    if n_bytes < PARALLEL_MIN_BYTES or cpus < 2 or not multiprocessing.get_all_start_methods():
        return 0
    # Tokenizing costs more than parsing and checking, so the parent mostly waits: one worker per CPU.
    return min(cpus, 4)


def worker_start_method() -> str:
    """`fork` while this process runs one thread (the CLI: workers share the loaded tokenizer's memory);
    `forkserver` once threads run (a server, the TUI), since forking a threaded process can copy a held lock
    into the child and hang it. The forkserver is a fresh single-threaded interpreter, so it stays safe."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _count_in_worker(encoding: str, texts: list[str]) -> list[int]:
    return count_texts(get_encoding(encoding), texts)


class TokenCounter:
    """Queue examples with `add`; counted ones come back from `add` and `flush` in input order.

    With `workers`, each full batch is counted in a worker process while this one keeps parsing;
    batches are resolved in submission order, at most `workers + 1` in flight so memory stays flat.
    Use it as a context manager so the workers are stopped.
    """

    def __init__(self, encoding: str | None, workers: int = 0) -> None:
        self.encoding_name = encoding
        self._encoding: tiktoken.Encoding | None = get_encoding(encoding) if encoding else None
        self._pending: list[Pending] = []
        self._texts = 0
        self._cache: dict[str, int] = {}
        self._role_tokens: dict[str, int] = {}
        self._workers = workers if encoding else 0
        self._pool: ProcessPoolExecutor | None = None
        self._inflight: deque[tuple[Future[list[int]], list[str], list[Pending]]] = deque()

    def __enter__(self) -> TokenCounter:
        if self._workers:
            self._pool = ProcessPoolExecutor(
                self._workers, mp_context=multiprocessing.get_context(worker_start_method())
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    @property
    def is_estimate(self) -> bool:
        return self._encoding is None

    def _parts(self, example: Example) -> tuple[list[tuple[str, str]], int]:
        """(role, text) pieces to encode, and the fixed overhead that needs no encoding."""
        parts: list[tuple[str, str]] = []
        overhead = REPLY_PRIMER
        role_tokens = self._role_tokens
        if example.system is not None:
            parts.append(("system", example.system))
            overhead += TOKENS_PER_MESSAGE + (role_tokens.get("system") or self._role("system"))
        for message in example.messages:
            role = message.role
            overhead += TOKENS_PER_MESSAGE + (role_tokens.get(role) or self._role(role))
            parts.append((role, message.content))
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

    def add(self, tag: int, example: Example) -> list[Counted]:
        if self._encoding is None:
            return [self._estimate(tag, example)]
        parts, overhead = self._parts(example)
        self._pending.append((tag, parts, overhead))
        self._texts += len(parts)
        return self._dispatch() if self._texts >= BATCH_TEXTS else []

    def _estimate(self, tag: int, example: Example) -> Counted:
        total = assistant = 0
        for role, text in self._parts(example)[0]:
            n = -(-len(text) // CHARS_PER_TOKEN)
            total += n
            if role == "assistant":
                assistant += n
        return Counted(tag, total, assistant)

    def _dispatch(self) -> list[Counted]:
        batch, self._pending, self._texts = self._pending, [], 0
        cache = self._cache
        todo = list({text: None for _, parts, _ in batch for _, text in parts if text not in cache})
        if self._pool is None:
            assert self._encoding is not None
            return self._resolve(batch, todo, count_texts(self._encoding, todo))
        assert self.encoding_name is not None
        self._inflight.append((self._pool.submit(_count_in_worker, self.encoding_name, todo), todo, batch))
        done: list[Counted] = []
        while len(self._inflight) > self._workers:
            future, texts, waiting = self._inflight.popleft()
            done += self._resolve(waiting, texts, future.result())
        return done

    def _resolve(self, batch: list[Pending], todo: list[str], counted: list[int]) -> list[Counted]:
        cache = self._cache
        # Every text of the batch is either just counted or cached (counts of a text never differ).
        counts = dict(cache)
        counts.update(zip(todo, counted, strict=True))
        out: list[Counted] = []
        append = out.append
        for tag, parts, overhead in batch:
            total = overhead
            assistant = 0
            for role, text in parts:
                n = counts[text]
                total += n
                if role == "assistant":
                    assistant += n
                elif role == "system" and len(cache) < _CACHE_LIMIT:
                    cache[text] = n  # shared system prompts are the text that repeats
            append(Counted(tag, total, assistant))
        return out

    def flush(self) -> list[Counted]:
        """Count everything still queued or in flight."""
        done = self._dispatch() if self._pending else []
        while self._inflight:
            future, texts, waiting = self._inflight.popleft()
            done += self._resolve(waiting, texts, future.result())
        return done


def count_texts(encoding: tiktoken.Encoding, texts: list[str]) -> list[int]:
    """`len(encoding.encode_ordinary(t))` for each text, in one call for all texts (see module docstring)."""
    counts = [0] * len(texts)
    joinable: list[int] = []
    for index, text in enumerate(texts):
        if _SEPARATOR in text:
            counts[index] = len(encoding.encode_ordinary(text))  # would be cut at its own separator
        else:
            joinable.append(index)
    if not joinable:
        return counts
    joined = _SEPARATOR.join(texts[i] for i in joinable) + _SEPARATOR
    separator = encoding.eot_token
    to_buffer = getattr(encoding._core_bpe, "encode_to_tiktoken_buffer", None)
    if to_buffer is not None:
        # The tokens as one native uint32 buffer: no Python int per token, and bytes.find finds the separators.
        try:
            data = bytes(to_buffer(joined, {_SEPARATOR}))
        except UnicodeEncodeError:
            # The same surrogate fix-up tiktoken's own `encode` applies.
            data = bytes(to_buffer(joined.encode("utf-16", "surrogatepass").decode("utf-16", "replace"), {_SEPARATOR}))
        marker = separator.to_bytes(4, sys.byteorder)
        find = data.find
        offset = -4
        for index in joinable:
            found = find(marker, offset + 4)
            while found % 4:  # a match straddling two tokens: keep looking for an aligned one
                found = find(marker, found + 1)
            counts[index] = (found - offset) // 4 - 1
            offset = found
        return counts
    tokens = encoding.encode(joined, allowed_special={_SEPARATOR}, disallowed_special=())
    position = -1
    for index in joinable:
        found = tokens.index(separator, position + 1)
        counts[index] = found - position - 1
        position = found
    return counts


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
