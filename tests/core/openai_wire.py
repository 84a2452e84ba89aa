"""A loopback server speaking OpenAI's files and fine-tuning wire shapes, driven through the real OpenAI adapter.

It records every job create, honours the `metadata[...]` list filter, advances each job one state per
retrieve, and answers the next requests with scripted failures (429 + Retry-After, 503) when told to.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

STATES = ["validating_files", "queued", "running", "succeeded"]


@dataclass
class Failure:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    path_prefix: str = "/v1/fine_tuning/jobs/"
    """Only requests under this path fail (so a test can fail polls without failing creates)."""


@dataclass
class WireState:
    url: str = ""
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    creates: list[dict[str, Any]] = field(default_factory=list)
    chats: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[float, str, str]] = field(default_factory=list)
    """(monotonic time, method, path) of every request."""
    failures: list[Failure] = field(default_factory=list)
    states: list[str] = field(default_factory=lambda: list(STATES))
    lock: threading.Lock = field(default_factory=threading.Lock)
    _steps: dict[str, int] = field(default_factory=dict)


def _job_object(state: WireState, job_id: str) -> dict[str, Any]:
    job = state.jobs[job_id]
    status = job["status"]
    done = status == "succeeded"
    return {
        **job,
        "fine_tuned_model": f"ft:{job['model']}:tunedeck:{job_id}" if done else None,
        "trained_tokens": 2000 if done else None,
        "finished_at": int(time.time()) if done else None,
    }


def _events(state: WireState, job_id: str) -> list[dict[str, Any]]:
    step = state._steps.get(job_id, 0)
    events = [
        {
            "object": "fine_tuning.job.event",
            "id": f"ftevent-{job_id}-{i}",
            "created_at": 1_700_000_000 + i,
            "level": "info",
            "message": f"Step {i}/3: training loss={1.0 / i:.3f}",
            "type": "metrics",
            "data": {"step": i, "train_loss": 1.0 / i, "total_steps": 3},
        }
        for i in range(1, step + 1)
    ]
    return list(reversed(events))  # the API answers newest first


@contextmanager
def openai_wire() -> Iterator[WireState]:
    state = WireState()

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def _sse(self, chunks: list[dict[str, Any]]) -> None:
            payload = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("content-length", str(len(payload.encode())))
            self.end_headers()
            self.wfile.write(payload.encode())

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            url = urlparse(self.path)
            with state.lock:
                state.requests.append((time.monotonic(), self.command, url.path))
                failure = next((f for f in state.failures if url.path.startswith(f.path_prefix)), None)
                if failure is not None:
                    state.failures.remove(failure)
                    error = {"error": {"message": f"scripted {failure.status}", "type": "x", "code": None}}
                    return self._send(failure.status, error, failure.headers)
                return self._route(url.path, parse_qs(url.query), body)

        def _route(self, path: str, query: dict[str, list[str]], body: bytes) -> None:
            if self.command == "POST" and path == "/v1/files":
                return self._send(200, {"id": f"file-{len(body)}", "object": "file", "bytes": len(body),
                                        "created_at": 1, "filename": "train.jsonl", "purpose": "fine-tune",
                                        "status": "processed"})  # fmt: skip
            if self.command == "POST" and path == "/v1/chat/completions":
                request = json.loads(body)
                state.chats.append(request)
                base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": request["model"]}
                words = ["Reset ", "it ", "in ", "Settings."]
                chunks = [
                    {**base, "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]} for w in words
                ]
                chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                usage = {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}
                chunks.append({**base, "choices": [], "usage": usage})
                return self._sse(chunks)
            if self.command == "POST" and path == "/v1/fine_tuning/jobs":
                request = json.loads(body)
                job_id = f"ftjob-{len(state.jobs) + 1}"
                state.creates.append(request)
                state.jobs[job_id] = {
                    "object": "fine_tuning.job", "id": job_id, "model": request["model"], "created_at": 1_700_000_000,
                    "status": "validating_files", "training_file": request["training_file"],
                    "validation_file": request.get("validation_file"), "metadata": request.get("metadata") or {},
                    "hyperparameters": {"n_epochs": 1}, "organization_id": "org-x", "result_files": [], "seed": 1,
                    "error": None,
                }  # fmt: skip
                state._steps[job_id] = 0
                return self._send(200, _job_object(state, job_id))
            if self.command == "GET" and path == "/v1/fine_tuning/jobs":
                wanted = {k[len("metadata[") : -1]: v[0] for k, v in query.items() if k.startswith("metadata[")}
                data = [
                    _job_object(state, j)
                    for j in reversed(state.jobs)
                    if all(state.jobs[j]["metadata"].get(k) == v for k, v in wanted.items())
                ]
                return self._send(200, {"object": "list", "data": data, "has_more": False})
            match = re.fullmatch(r"/v1/fine_tuning/jobs/([^/]+)(/events|/cancel)?", path)
            if match and match.group(1) in state.jobs:
                job_id, tail = match.group(1), match.group(2)
                if tail == "/events":
                    return self._send(200, {"object": "list", "data": _events(state, job_id), "has_more": False})
                if tail == "/cancel":
                    state.jobs[job_id]["status"] = "cancelled"
                    return self._send(200, _job_object(state, job_id))
                step = state._steps[job_id] = state._steps[job_id] + 1
                state.jobs[job_id]["status"] = state.states[min(step, len(state.states) - 1)]
                return self._send(200, _job_object(state, job_id))
            return self._send(404, {"error": {"message": f"no route {path}", "type": "invalid_request_error"}})

        do_GET = do_POST = do_DELETE = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
