"""Asking models many questions at once: bounded worker threads that back off together on rate limits.

A 429 from any worker halves how many requests may be in flight and pauses every worker (for the provider's
Retry-After when it gives one, else 1 s doubling to 60 s); each run of successes as long as the current limit
earns one more slot back, up to `--concurrency`. Requests already in flight when the limit was cut belong to
the burst that caused it: their 429s do not cut it again and their successes do not earn slots back.
Errors that would repeat on every item (a bad key, an unknown model) stop the run; any other provider error
is recorded against its item and the run goes on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TypeVar

from providers import errors as perr
from providers.base import ChatChunk, ChatMessage

T = TypeVar("T")
ChatFn = Callable[..., Iterator[ChatChunk]]
"""`Workspace.chat(provider, model, messages, max_tokens=, temperature=)`."""

FATAL = (
    perr.AuthenticationError,
    perr.NotFoundError,
    perr.NotSupportedError,
    perr.NotEligibleError,
    perr.ConfigurationError,
)
MAX_ATTEMPTS = 8


class Stopped(Exception):
    """The run is stopping (interrupted, or a fatal error elsewhere): do not start another request."""


@dataclass(frozen=True)
class Request:
    provider: str
    model: str
    messages: list[ChatMessage]
    max_tokens: int
    temperature: float


@dataclass(frozen=True)
class Reply:
    text: str | None
    error: str | None
    latency_s: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class Throttle:
    """Shared by the workers: at most `limit` requests in flight, and nobody starts one during a pause."""

    def __init__(self, limit: int, base_s: float = 1.0, max_s: float = 60.0) -> None:
        self.max_limit = max(1, limit)
        self.limit = self.max_limit
        self.base_s, self.max_s = base_s, max_s
        self.active = 0
        self.peak = 0
        self.rate_limited = 0
        self._resume_at = 0.0
        self._failures = 0
        self._streak = 0
        self._epoch = 0
        self._stopping = False
        self._cond = threading.Condition()

    def acquire(self) -> int:
        """Wait for a slot; returns the ticket to hand back to `release`."""
        with self._cond:
            while True:
                if self._stopping:
                    raise Stopped
                pause = self._resume_at - time.monotonic()
                if pause > 0:
                    self._cond.wait(pause)
                elif self.active >= self.limit:
                    self._cond.wait()
                else:
                    self.active += 1
                    self.peak = max(self.peak, self.active)
                    return self._epoch

    def release(self, ticket: int, *, rate_limited: bool = False, retry_after: float | None = None) -> float:
        """Give the slot back; after a 429, returns how long everyone now waits."""
        pause = 0.0
        with self._cond:
            self.active -= 1
            current = ticket == self._epoch
            if rate_limited:
                self.rate_limited += 1
                if current:
                    self._failures += 1
                    self._streak = 0
                    self.limit = max(1, self.limit // 2)
                    self._epoch += 1
                if retry_after is not None and retry_after >= 0:
                    pause = retry_after
                else:
                    pause = min(self.max_s, self.base_s * 2 ** (self._failures - 1))
                self._resume_at = max(self._resume_at, time.monotonic() + pause)
            elif current:
                self._failures = 0
                self._streak += 1
                if self._streak >= self.limit and self.limit < self.max_limit:
                    self.limit += 1
                    self._streak = 0
            self._cond.notify_all()
        return pause

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()


def ask(chat: ChatFn, throttle: Throttle, request: Request) -> Reply:
    """One answer, retried while rate limited; a provider error becomes the reply's `error`."""
    last: perr.RateLimitedError | None = None
    for _attempt in range(MAX_ATTEMPTS):
        ticket = throttle.acquire()
        started = time.monotonic()
        try:
            reply = _collect(chat, request, started)
        except perr.RateLimitedError as exc:
            last = exc
            throttle.release(ticket, rate_limited=True, retry_after=exc.retry_after)
            continue
        except perr.ProviderError as exc:
            throttle.release(ticket)
            if isinstance(exc, FATAL):
                raise
            return Reply(None, exc.title, time.monotonic() - started)
        except BaseException:
            throttle.release(ticket)
            raise
        throttle.release(ticket)
        return reply
    assert last is not None
    return Reply(None, f"still rate limited after {MAX_ATTEMPTS} attempts: {last.title}", 0.0)


def _collect(chat: ChatFn, request: Request, started: float) -> Reply:
    parts: list[str] = []
    prompt_tokens = completion_tokens = None
    stream = chat(
        request.provider, request.model, request.messages, max_tokens=request.max_tokens,
        temperature=request.temperature,
    )  # fmt: skip
    for chunk in stream:
        if chunk.text:
            parts.append(chunk.text)
        if chunk.prompt_tokens is not None:
            prompt_tokens = chunk.prompt_tokens
        if chunk.completion_tokens is not None:
            completion_tokens = chunk.completion_tokens
    return Reply("".join(parts), None, time.monotonic() - started, prompt_tokens, completion_tokens)


def run_parallel(
    tasks: Iterable[Callable[[], T]], workers: int, throttle: Throttle, on_done: Callable[[T], None]
) -> None:
    """Run every task on `workers` threads, calling `on_done` on this thread as each one finishes.

    The first exception (a fatal provider error, Ctrl-C here) stops the throttle so no new request starts,
    lets the requests in flight finish (their answers are paid for and get recorded), then propagates.
    """
    pending: set[Future[T]] = set()
    queue = iter(tasks)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="eval") as pool:
        try:
            for task in queue:
                pending.add(pool.submit(task))
                # Keep the queue short: tasks are submitted as slots free up, so stopping is prompt.
                if len(pending) >= workers * 2:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    _finish(done, on_done)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                _finish(done, on_done)
        except BaseException:
            throttle.stop()
            for future in pending:
                future.cancel()
            raise


def _finish(done: set[Future[T]], on_done: Callable[[T], None]) -> None:
    for future in done:
        error = future.exception()
        if error is not None and not isinstance(error, Stopped):
            raise error
        if error is None:
            on_done(future.result())
