"""A tiny programmable HTTP server on 127.0.0.1 that records each request: for error paths and header checks."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextmanager
def serve_on_loopback(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on 127.0.0.1 (any free port) from a daemon thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    """Names lower-cased."""
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    events: list[tuple[str, str]] | None = None
    """When set, answer as server-sent events: (event name, JSON data) pairs."""


@dataclass
class StubServer:
    url: str
    requests: list[Recorded]
    replies: dict[str, Reply]
    """Keyed by "METHOD /path" (no query); unmatched requests get `default`."""
    default: Reply


@contextmanager
def stub_server(default: Reply | None = None) -> Iterator[StubServer]:
    state = StubServer(url="", requests=[], replies={}, default=default or Reply())

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append(
                Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            reply = state.replies.get(f"{self.command} {self.path.split('?')[0]}", state.default)
            if reply.events is not None:
                payload = "".join(f"event: {name}\ndata: {data}\n\n" for name, data in reply.events).encode()
                content_type = "text/event-stream"
            else:
                payload, content_type = json.dumps(reply.body).encode(), "application/json"
            self.send_response(reply.status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _handle

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

    with serve_on_loopback(Handler) as url:
        state.url = url
        yield state
