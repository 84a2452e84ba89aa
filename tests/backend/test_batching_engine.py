"""The real chat engine under concurrent requests: batched answers equal one-at-a-time ones, hang-ups stop work."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Hashable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from localbackend.basemodel import BASE_MODEL_ID
from localbackend.engine import ChatEngine, GenerationChunk
from localbackend.server.state import ServerConfig
from tests.backend.test_batching_disconnect import Server
from tests.backend.test_server_support import wait_until
from tests.conftest import MODEL_CACHE

pytestmark = pytest.mark.slow

QUESTIONS = [
    "Hi!",
    "Tell me one fact about the moon.",
    "Write a short poem about the sea, in four lines.",
    "You are helping a student revise. Explain in simple words why the sky looks blue during the day and "
    "red at sunset, then give one everyday example of the same effect.",
    "List three fruits.",
    "What is the capital of France, and what river runs through it?",
]


def _reply(chunks: list[GenerationChunk]) -> tuple[str, str | None, int, int]:
    last = chunks[-1]
    return "".join(c.text for c in chunks), last.finish_reason, last.prompt_tokens, last.completion_tokens


class TimedEngine(ChatEngine):
    """The real engine, noting how long each forward pass takes (steps are slow when the machine is busy)."""

    def __init__(self, cache_dir: Path) -> None:
        super().__init__(cache_dir)
        self.pass_s: list[float] = []

    def _run_batch(self, key: Hashable, batch: Sequence[tuple[Any, Sequence[int]]]) -> Any:
        started = time.monotonic()
        try:
            return super()._run_batch(key, batch)
        finally:
            self.pass_s.append(time.monotonic() - started)


@pytest.fixture(scope="module")
def engine(model_dir: Path) -> Iterator[TimedEngine]:
    running = TimedEngine(MODEL_CACHE)
    yield running
    running.close()


def test_concurrent_requests_answer_exactly_as_one_at_a_time(model_dir: Path) -> None:
    engine = ChatEngine(MODEL_CACHE)
    sizes: list[int] = []
    run = engine._run_batch

    def counting(key: Hashable, batch: Sequence[tuple[Any, Sequence[int]]]) -> Any:
        sizes.append(len(batch))
        return run(key, batch)

    engine._run_batch = counting  # type: ignore[method-assign]  # before the scheduler takes the method
    requests: list[dict[str, Any]] = [
        {"messages": [{"role": "user", "content": q}], "max_tokens": 16 + 6 * i, "temperature": 0.0}
        for i, q in enumerate(QUESTIONS)
    ]
    alone = [_reply(list(engine.generate(None, **r))) for r in requests]
    # A stop string from inside one answer: the batched run must cut at the same place.
    words = alone[3][0].split()
    requests[3]["stop"] = [f"{words[2]} {words[3]}"]
    alone[3] = _reply(list(engine.generate(None, **requests[3])))
    assert alone[3][1] == "stop"

    sizes.clear()
    together: list[Any] = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def client(index: int) -> None:
        start.wait()
        together[index] = _reply(list(engine.generate(None, **requests[index])))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    engine.close()
    assert together == alone
    assert max(sizes) >= len(requests) - 1  # they really decoded together (one may have started a step early)
    assert len(sizes) < sum(r["max_tokens"] for r in requests) / 2


def _hang_up(port: int, body: dict[str, Any], engine: ChatEngine, *, streamed: bool) -> float:
    data = json.dumps({**body, "stream": streamed}).encode()
    head = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {len(data)}"
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    try:
        sock.sendall(head.encode() + b"\r\n\r\n" + data)
        wait_until(lambda: engine.in_flight() == 1, 120, "generation to start", interval=0.02)
        if streamed:
            assert sock.recv(1)
        time.sleep(1.0)
        assert engine.in_flight() == 1
    finally:
        sock.close()
    return time.monotonic()


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_a_client_that_hangs_up_frees_the_engine_within_a_bounded_time(
    tmp_path: Path, engine: TimedEngine, streamed: bool
) -> None:
    server = Server(ServerConfig(data_dir=tmp_path / "data", cache_dir=MODEL_CACHE), engine)
    try:
        body = {
            "model": BASE_MODEL_ID,
            "messages": [{"role": "user", "content": "Write a very long story about a dragon."}],
            "max_tokens": 3000,  # minutes of work if nothing stops it
            "temperature": 0,
        }
        hung_up = _hang_up(server.port, body, engine, streamed=streamed)
        wait_until(lambda: engine.in_flight() == 0, 60, "the engine to drop the request", interval=0.02)
        stopped_after = time.monotonic() - hung_up
        # The sequence leaves at the first step boundary after the server notices (a 0.25 s poll): at most the
        # step under way and one more, however slow a busy machine makes a step.
        step = max(engine.pass_s[-20:])
        print(f"stopped {stopped_after:.2f} s after the hang-up; slowest recent step {step:.2f} s")
        assert stopped_after < 0.25 + 2 * step + 1.0, (stopped_after, step)
    finally:
        server.stop()
