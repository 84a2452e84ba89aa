"""A loopback server speaking OpenAI's streamed chat completions, answering per model, for CLI and kill tests.

Driven through the real OpenAI adapter and SDK (a config `base_url` points at it). It records every request,
can wait before answering (so a test can kill a run mid-way) and answers scripted 429s with Retry-After.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from providers.base import ChatMessage

Responder = Callable[[str, list[ChatMessage]], str]


@dataclass
class Wire:
    respond: Responder
    url: str = ""
    delay_s: float = 0.0
    rate_limits: int = 0
    """The next this-many requests get 429 with Retry-After: 0.05."""
    requests: list[tuple[str, list[ChatMessage]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def write_config(self, home: Path) -> None:
        config = home / "config" / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(f'[openai]\nbase_url = "{self.url}"\nmax_retries = 0\n', encoding="utf-8")


@contextmanager
def chat_wire(respond: Responder, delay_s: float = 0.0) -> Iterator[Wire]:
    wire = Wire(respond, delay_s=delay_s)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
            messages = [ChatMessage(m["role"], m["content"]) for m in body["messages"]]
            with wire.lock:
                wire.requests.append((body["model"], messages))
                limited = wire.rate_limits > 0
                wire.rate_limits -= int(limited)
            if limited:
                error = {"error": {"message": "slow down", "type": "rate_limit"}}
                return self._send(429, error, {"retry-after": "0.05"})
            if wire.delay_s:
                time.sleep(wire.delay_s)
            text = wire.respond(body["model"], messages)
            base = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": body["model"]}
            words = text.split(" ")
            chunks = [
                {
                    **base,
                    "choices": [{"index": 0, "delta": {"content": w if i == 0 else " " + w}, "finish_reason": None}],
                }
                for i, w in enumerate(words)
            ]
            chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            usage = {"prompt_tokens": 20, "completion_tokens": len(words), "total_tokens": 20 + len(words)}
            chunks.append({**base, "choices": [], "usage": usage})
            payload = ("".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n").encode()
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    wire.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield wire
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
