"""Running the chat engine for a request: off the event loop, stop sequences found here, always cleaned up.

Each generation runs in its own thread that pulls the engine's iterator and hands chunks to the request's
event loop. The thread owns the iterator from start to close. Generation stops (its sequence leaves the
engine's batch at the next step) when the reply is complete, when the request's handler stops reading, and
when the client hangs up, which the handler learns by polling `disconnected` while it waits.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localbackend.server.errors import APIError

log = logging.getLogger("localbackend.server")

_DONE = object()
# How often a waiting request checks that its client is still there: the bound on wasted generation.
DISCONNECT_POLL_S = 0.25
# SmolLM2-135M's max_position_embeddings: prompt plus reply must fit, or the model answers garbage.
CONTEXT_TOKENS = 8192


@dataclass
class Piece:
    """Text to send, and on the last piece why generation ended and the token counts."""

    text: str
    finish_reason: str | None = None
    stop_sequence: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


class StopScanner:
    """Cuts the text at the first stop sequence, holding back what might be the start of one."""

    def __init__(self, stops: list[str] | None) -> None:
        self.stops = [s for s in stops or [] if s]
        self._pending = ""

    def push(self, text: str) -> tuple[str, str | None]:
        """(text safe to send now, the stop sequence reached or None)."""
        buffer = self._pending + text
        hits = [(buffer.find(s), s) for s in self.stops if s in buffer]
        if hits:
            index, stop = min(hits)
            self._pending = ""
            return buffer[:index], stop
        hold = 0
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(buffer)), hold, -1):
                if buffer.endswith(stop[:size]):
                    hold = size
                    break
        self._pending = buffer[len(buffer) - hold :]
        return buffer[: len(buffer) - hold], None

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return text


def _produce(
    make: Callable[[], Iterator[Any]], loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Any], halt: threading.Event
) -> None:
    iterator: Iterator[Any] | None = None
    try:
        iterator = make()
        for chunk in iterator:
            loop.call_soon_threadsafe(queue.put_nowait, chunk)
            if halt.is_set():
                break
        loop.call_soon_threadsafe(queue.put_nowait, _DONE)
    except BaseException as exc:  # handed to the request, which decides what the client sees
        loop.call_soon_threadsafe(queue.put_nowait, exc)
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


async def generate(
    engine: Any,
    adapter: Path | None,
    messages: list[dict[str, str]],
    *,
    max_tokens: int,
    temperature: float,
    top_p: float,
    stop: list[str] | None,
    seed: int | None,
    disconnected: Callable[[], Awaitable[bool]] | None = None,
) -> AsyncIterator[Piece]:
    """The reply in pieces; the last piece carries `finish_reason` ("stop" or "length") and usage.

    `disconnected` (Starlette's `request.is_disconnected`) is polled while waiting; once it answers True the
    pieces end early and generation stops, so nobody's compute goes to a reply no one will read.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()
    halt = threading.Event()

    def make() -> Iterator[Any]:
        # Stop sequences are matched here, not in the engine, so the reply can say which one was hit.
        return iter(
            engine.generate(
                adapter,
                messages,
                max_tokens=max_tokens,
                temperature=temperature,
                top_p=top_p,
                stop=None,
                seed=seed,
                cancelled=halt.is_set,
            )
        )

    thread = threading.Thread(target=_produce, args=(make, loop, queue, halt), name="tunedeck-generate", daemon=True)
    thread.start()
    scanner = StopScanner(stop)
    receiver = _Receiver(queue, disconnected)
    prompt_tokens = completion_tokens = 0
    finish: str | None = None
    try:
        while True:
            item = await receiver.next()
            if item is None:  # the client hung up
                log.info("client disconnected; generation stopped")
                return
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise _as_api_error(item)
            prompt_tokens, completion_tokens = item.prompt_tokens, item.completion_tokens
            text, hit = scanner.push(item.text)
            if hit is not None:
                yield Piece(text, "stop", hit, prompt_tokens, completion_tokens)
                return
            if item.finish_reason is not None:
                finish = item.finish_reason
                text += scanner.flush()
                yield Piece(text, finish, None, prompt_tokens, completion_tokens)
                return
            if text:
                yield Piece(text, None, None, prompt_tokens, completion_tokens)
        yield Piece(scanner.flush(), finish or "stop", None, prompt_tokens, completion_tokens)
    finally:
        halt.set()


class _Receiver:
    """Items from the generating thread, checking every DISCONNECT_POLL_S that the client is still there."""

    def __init__(self, queue: asyncio.Queue[Any], disconnected: Callable[[], Awaitable[bool]] | None) -> None:
        self._queue = queue
        self._disconnected = disconnected
        self._check_at = 0.0

    async def next(self) -> Any:
        """The next item, or None once the client has gone."""
        if self._disconnected is None:
            return await self._queue.get()
        loop = asyncio.get_running_loop()
        while True:
            if loop.time() >= self._check_at:
                if await self._disconnected():
                    return None
                self._check_at = loop.time() + DISCONNECT_POLL_S
            try:
                return await asyncio.wait_for(self._queue.get(), max(0.0, self._check_at - loop.time()))
            except TimeoutError:
                continue


async def check_context(engine: Any, messages: list[dict[str, str]], max_tokens: int, param: str) -> None:
    """A 400 (OpenAI's `context_length_exceeded`) when prompt plus `max_tokens` can't fit the model's context."""
    try:
        prompt_tokens = await asyncio.to_thread(engine.count_prompt_tokens, messages)
    except Exception as exc:  # the first request loads the tokenizer: a missing base model is a 503, not a 500
        error = _as_api_error(exc)
        if error is exc:
            raise
        raise error from exc
    if prompt_tokens + max_tokens > CONTEXT_TOKENS:
        raise APIError(
            400,
            f"This model's maximum context length is {CONTEXT_TOKENS} tokens. However, you requested "
            f"{prompt_tokens + max_tokens} tokens ({prompt_tokens} in the messages, {max_tokens} in the completion). "
            "Please reduce the length of the messages or completion.",
            param=param,
            code="context_length_exceeded",
        )


def _as_api_error(exc: BaseException) -> BaseException:
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, ValueError):  # the engine's word for a request it can't serve (e.g. prompt too long)
        return APIError(400, str(exc), code="invalid_request")
    from tunedeck.errors import TunedeckError

    if isinstance(exc, TunedeckError):
        return APIError(503, str(exc), code="model_unavailable")
    return exc


def stream_error_message(exc: Exception) -> str:
    """What the client reads when generation fails after the headers went out: an APIError's own words, else a
    generic line, with the traceback in the server log (as the 500 handler does before a response starts)."""
    if isinstance(exc, APIError):
        return exc.message
    log.error("generation failed mid-stream", exc_info=exc)
    return "The server had an error while generating."


async def first_then_rest(pieces: AsyncIterator[Piece]) -> tuple[Piece | None, AsyncIterator[Piece]]:
    """Pull the first piece before answering, so errors (unknown adapter, load failure) become HTTP errors."""
    try:
        first = await pieces.__anext__()
    except StopAsyncIteration:
        first = None
    return first, pieces


async def collect(pieces: AsyncIterator[Piece]) -> Piece:
    text, last = [], Piece("")
    async for piece in pieces:
        text.append(piece.text)
        last = piece
    return Piece("".join(text), last.finish_reason, last.stop_sequence, last.prompt_tokens, last.completion_tokens)


def flatten_content(content: Any, param: str) -> str:
    """OpenAI/Anthropic content: a string, or a list of text parts (`{"type": "text", "text": ...}`)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for index, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise APIError(
                    400, "Only text content parts are supported by the local backend.", param=f"{param}[{index}]"
                )
            texts.append(part["text"])
        return "".join(texts)
    raise APIError(400, "Message content must be a string or a list of text parts.", param=param)
