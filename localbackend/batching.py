"""Continuous batching for the chat engine: requests that arrive together decode together.

One scheduler thread owns every running sequence. Each step it admits the requests that arrived (their whole
prompt joins that step's pass), runs one packed forward pass per model in use (the base model, each adapter:
peft switches adapters for the whole model, so they never share a pass), and hands every sequence its next
token. A sequence leaves at EOS, at its `max_tokens`, when its caller cancels, or when it fails; the others
carry on. Stop strings and text decoding stay with the caller, which cancels once it has what it needs.

Hand-written rather than transformers' ContinuousBatchingManager: that one samples with one shared generator
and settings (we need each request's own seed, temperature and top_p), runs one adapter at a time for the
whole manager, and brings paged-attention kernels whose answers need not match a lone request's.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from localbackend.model_generate import Sampler, new_cache

log = logging.getLogger("localbackend.batching")

# (cache, new tokens) for each sequence of one pass -> next-token logits, one row per sequence.
Runner = Callable[[Hashable, Sequence[tuple[Any, Sequence[int]]]], Any]

_END = object()


@dataclass(frozen=True)
class Sampling:
    """What one request asked for: how many tokens at most, how to choose them, which ones end it."""

    max_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    eos_ids: frozenset[int] = frozenset()


class TokenStream:
    """The caller's side of one request: token ids as they are chosen, then the end, or the error that ended it.

    `cancel()` (or the `cancelled` check given at submission turning true) takes the sequence out of the batch
    at the next step; iterating then ends.
    """

    def __init__(self, wake: Callable[[], None], cancelled: Callable[[], bool] | None) -> None:
        self._items: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._cancel = threading.Event()
        self._external = cancelled
        self._wake = wake

    def cancel(self) -> None:
        self._cancel.set()
        self._wake()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set() or (self._external is not None and bool(self._external()))

    def _put(self, item: Any) -> None:
        self._items.put(item)

    def __iter__(self) -> Iterator[int]:
        while True:
            item = self._items.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item


class _Sequence:
    """The scheduler's side of one request: its KV cache, the tokens to feed next, its sampler and its count."""

    def __init__(self, key: Hashable, prompt: Sequence[int], sampling: Sampling, stream: TokenStream) -> None:
        self.key = key
        self.sampling = sampling
        self.stream = stream
        self.cache = new_cache(len(prompt), sampling.max_tokens)
        self.pending: Sequence[int] = list(prompt)
        self.sampler = Sampler(sampling.temperature, sampling.top_p, sampling.seed)
        self.produced = 0
        self.done = False

    def end(self, item: Any = _END) -> None:
        if not self.done:
            self.done = True
            self.stream._put(item)


class Batcher:
    """Runs every submitted request in shared forward passes on one background thread (started on demand).

    `max_batch` bounds the sequences decoding at once and `max_prefill_tokens` the prompt tokens admitted in
    one step (a request with a longer prompt is still admitted, alone); the rest wait their turn in order.
    """

    def __init__(
        self, run: Runner, *, max_batch: int = 32, max_prefill_tokens: int = 4096, name: str = "tunedeck-batcher"
    ) -> None:
        self._run = run
        self._max_batch = max(1, max_batch)
        self._max_prefill = max(1, max_prefill_tokens)
        self._name = name
        self._cond = threading.Condition()
        self._waiting: deque[_Sequence] = deque()
        self._active: list[_Sequence] = []
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(
        self,
        key: Hashable,
        prompt: Sequence[int],
        sampling: Sampling,
        *,
        cancelled: Callable[[], bool] | None = None,
    ) -> TokenStream:
        """Queue a request for the model `key`; its tokens arrive on the returned stream."""
        stream = TokenStream(self._wake, cancelled)
        sequence = _Sequence(key, prompt, sampling, stream)
        if sampling.max_tokens <= 0 or not prompt:
            sequence.end()
            return stream
        with self._cond:
            if self._closed:
                raise RuntimeError("The chat engine is shut down.")
            self._waiting.append(sequence)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify()
        return stream

    @property
    def closed(self) -> bool:
        return self._closed

    def active(self) -> int:
        """How many sequences are decoding or waiting (for tests and diagnostics)."""
        with self._cond:
            return len(self._active) + len(self._waiting)

    def close(self, timeout: float | None = 10.0) -> None:
        """Stop the thread after its current step; unfinished requests end with an error."""
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify()

    # -- the scheduler thread --------------------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._closed and not self._waiting and not self._active:
                        self._cond.wait()
                    if self._closed:
                        break
                    self._admit()
                self._step()
        except BaseException as exc:  # a bug here must not leave callers waiting forever
            log.exception("the batch scheduler stopped")
            self._fail_all(exc)
            raise
        self._fail_all(RuntimeError("The chat engine was shut down during generation."))

    def _fail_all(self, exc: BaseException) -> None:
        with self._cond:
            self._closed = True
            everyone = [*self._active, *self._waiting]
            self._active.clear()
            self._waiting.clear()
        for sequence in everyone:
            sequence.end(exc)

    def _admit(self) -> None:
        for sequence in [s for s in self._waiting if s.stream.cancelled]:  # gone before their turn came
            self._waiting.remove(sequence)
            sequence.end()
        prefill = 0
        while self._waiting and len(self._active) < self._max_batch:
            sequence = self._waiting[0]
            size = len(sequence.pending)
            if prefill and prefill + size > self._max_prefill:
                break
            self._active.append(self._waiting.popleft())
            prefill += size

    def _step(self) -> None:
        for sequence in self._active:
            if sequence.stream.cancelled:
                sequence.end()
        live = [s for s in self._active if not s.done]
        by_model = itertools.groupby(sorted(live, key=lambda s: _order(s.key)), key=lambda s: s.key)
        for key, members in by_model:
            self._advance(key, list(members))
        with self._cond:
            self._active = [s for s in self._active if not s.done]

    def _advance(self, key: Hashable, members: list[_Sequence]) -> None:
        try:
            logits = self._run(key, [(s.cache, s.pending) for s in members])
        except Exception as exc:
            if len(members) == 1:
                members[0].end(exc)
                return
            # Caches advance only after a pass succeeds, so each sequence can retry alone: a request that
            # breaks the pass fails by itself and the others continue.
            log.warning("a batched pass failed (%s); retrying its %d sequences one by one", exc, len(members))
            for sequence in members:
                self._advance(key, [sequence])
            return
        greedy = logits.argmax(dim=-1).tolist() if any(s.sampler.greedy for s in members) else []
        for row, sequence in enumerate(members):
            try:
                token = greedy[row] if sequence.sampler.greedy else sequence.sampler.pick(logits[row])
            except Exception as exc:
                sequence.end(exc)
                continue
            sequence.produced += 1
            sequence.stream._put(token)
            if token in sequence.sampling.eos_ids or sequence.produced >= sequence.sampling.max_tokens:
                sequence.end()
            else:
                sequence.pending = [token]


def _order(key: Hashable) -> tuple[bool, str]:
    # The base model (None) first, then adapters by name: a stable order, so no model waits behind others twice.
    return (key is not None, str(key))
