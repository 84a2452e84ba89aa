"""A client that hangs up stops its generation: real uvicorn on loopback, a raw socket that closes mid-answer.

The engine here is a stand-in that produces a chunk every few milliseconds for as long as nobody cancels it,
so the tests measure the server's part alone (the real engine's part: test_batching_engine.py).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from localbackend.basemodel import BASE_MODEL_ID
from localbackend.engine import GenerationChunk
from localbackend.server.state import ServerConfig
from tests.backend.test_server_support import wait_until

CHUNK_S = 0.01
STOP_BOUND_S = 2.0  # the poll period (0.25 s) plus one chunk, with room for a busy machine


class EndlessEngine:
    """Generates until cancelled; records when it stopped and how."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.stopped_at: float | None = None
        self.how: str | None = None

    def count_prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        return 3

    def generate(
        self, adapter: Path | None, messages: list[dict[str, str]], *, cancelled: Callable[[], bool], **_: Any
    ) -> Iterator[GenerationChunk]:
        self.started.set()
        produced = 0
        try:
            while not cancelled():
                time.sleep(CHUNK_S)
                produced += 1
                yield GenerationChunk("word ", None, 3, produced)
            self.how = "cancelled"
        except GeneratorExit:
            self.how = "closed"
            raise
        finally:
            self.stopped_at = time.monotonic()


class Server:
    def __init__(self, config: ServerConfig, engine: Any) -> None:
        import uvicorn

        from localbackend.server.app import create_app

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(create_app(config, engine=engine), log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started, 30, "uvicorn start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()


@pytest.fixture
def engine() -> EndlessEngine:
    return EndlessEngine()


@pytest.fixture
def server(tmp_path: Path, engine: EndlessEngine) -> Iterator[Server]:
    running = Server(ServerConfig(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache"), engine)
    yield running
    running.stop()


def send_then_hang_up(port: int, path: str, body: dict[str, Any], engine: Any, *, read_first: bool) -> float:
    """POST on a raw connection, wait until generation runs (and, streaming, for the first bytes), then close."""
    data = json.dumps(body).encode()
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(data)}"
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        sock.sendall(head.encode() + b"\r\n\r\n" + data)
        assert engine.started.wait(30)
        if read_first:
            assert sock.recv(1)
        time.sleep(0.3)
        assert engine.stopped_at is None  # still generating while the client is there
    finally:
        sock.close()
    return time.monotonic()


CHAT = ("/v1/chat/completions", {"model": BASE_MODEL_ID, "messages": [{"role": "user", "content": "hi"}]})
ANTHROPIC = (
    "/v1/messages",
    {"model": BASE_MODEL_ID, "max_tokens": 4000, "messages": [{"role": "user", "content": "hi"}]},
)


@pytest.mark.parametrize("route", [CHAT, ANTHROPIC], ids=["openai", "anthropic"])
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_generation_stops_soon_after_the_client_hangs_up(
    server: Server, engine: EndlessEngine, route: tuple[str, dict[str, Any]], stream: bool
) -> None:
    path, body = route
    hung_up = send_then_hang_up(server.port, path, {**body, "stream": stream}, engine, read_first=stream)
    wait_until(lambda: engine.stopped_at is not None, 10, "generation to stop", interval=0.02)
    assert engine.stopped_at is not None
    assert engine.stopped_at - hung_up < STOP_BOUND_S
    assert engine.how in ("cancelled", "closed")
