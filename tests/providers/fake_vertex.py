"""A loopback Vertex AI REST server for tests, speaking the documented JSON shapes built from the SDKs' own types:
google-genai's `types.TuningJob` (camelCase JSON) for tuning jobs and generation, aiplatform_v1's protobuf
messages for the Model Registry, endpoints and long-running operations (see `fake_vertex_registry`), and
`endpoints.predict` in the vLLM container's chat format for deployed open models (see `fake_vertex_predict`).

As strict as Vertex where the adapter could otherwise get away with something the real API refuses:
- `tuningJobs.list` pages (at most `max_page_size` per page, whatever `pageSize` asks) in no particular order;
- cancelling is asynchronous: the job is JOB_STATE_CANCELLING until polled, then JOB_STATE_CANCELLED with
  `error.code = 1` (google.rpc CANCELLED), as Vertex reports it;
- label keys and values must be lowercase letters, digits, '-' and '_' (at most 63 characters);
- open-model fields (`outputUri`, `tuningMode`, `learningRate`, `batchSize`) are refused for Gemini, and an
  open model needs `outputUri` and a tuning mode and refuses `learningRateMultiplier` ("1P models only").
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from tests.providers.fake_vertex_predict import predict
from tests.providers.fake_vertex_registry import LOC, RegistryState, rpc_error
from tests.providers.stub_http import serve_on_loopback

_LABEL = re.compile(r"[a-z0-9_-]{0,63}")
_OPEN_MODEL = re.compile(r"[a-z0-9-]+/[a-z0-9._-]+@[a-z0-9._-]+")
_TUNING_MODES = {"TUNING_MODE_FULL", "TUNING_MODE_PEFT_ADAPTER"}


@dataclass
class FakeVertex(RegistryState):
    url: str = ""
    project: str = "tunedeck-test"
    location: str = "us-central1"
    jobs: dict[str, Any] = field(default_factory=dict)
    """name -> google.genai.types.TuningJob"""
    tune_requests: list[dict[str, Any]] = field(default_factory=list)
    list_queries: list[dict[str, list[str]]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    predict_requests: list[dict[str, Any]] = field(default_factory=list)
    """Bodies of accepted `endpoints.predict` calls (chat with a deployed open model)."""
    fail_next: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    """(HTTP status, google.rpc status name, headers) answered to the next requests, in order."""
    reply_words: list[str] = field(default_factory=lambda: ["Tuned", " hello"])
    max_page_size: int = 3
    create_delay_s: float = 0.0
    """Store a created job at once but answer only after this long: a create the client sees time out."""
    cancel_polls: int = 1
    """How many GETs of a cancelled job still answer JOB_STATE_CANCELLING."""
    closing: threading.Event = field(default_factory=threading.Event)
    _cancelling: dict[str, int] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1000))
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.parent = f"projects/{self.project}/locations/{self.location}"

    # -- test-side helpers ------------------------------------------------------------------------------

    def set_job(self, name: str, **changes: Any) -> None:
        from google.genai import types

        with self.lock:  # re-validate so strings become the SDK's enums, as if parsed from the wire
            self.jobs[name] = types.TuningJob.model_validate({**dict(self.jobs[name]), **changes})

    def add_job(self, **fields: Any) -> str:
        from google.genai import types

        name = f"{self.parent}/tuningJobs/{self.new_id()}"
        fields.setdefault("state", "JOB_STATE_SUCCEEDED")
        fields.setdefault("create_time", datetime.now(UTC))
        with self.lock:
            self.jobs[name] = types.TuningJob.model_validate({"name": name, **fields})
        return name

    def new_id(self) -> int:
        return next(self._ids)

    # -- request handling -------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[int, Any]:
        # The operations client polls `/ui/{name}` (the first rule in its http options), the services `/v1/…`.
        path = re.sub(r"^/(v1|v1beta1|ui)/", "", unquote(path))
        with self.lock:
            if m := re.fullmatch(LOC + "/tuningJobs", path):
                if method == "POST":
                    return self._create_job(m["project"], m["location"], body)
                return 200, self._list_jobs(query)
            if m := re.fullmatch(LOC + r"/tuningJobs/(?P<id>\d+)(?P<verb>:cancel)?", path):
                name = path.removesuffix(":cancel")
                if name not in self.jobs:
                    return 404, rpc_error(404, "NOT_FOUND", f"TuningJob {name} not found")
                return self._cancel(name) if m["verb"] else (200, self._get_job(name))
            if method == "POST" and re.fullmatch(LOC + r"/endpoints/[^/:]+:predict", path):
                endpoint = self.endpoints.get(path.removesuffix(":predict"))
                return predict(endpoint, body, self.reply_words, self.predict_requests)
            answer = self.handle_registry(method, path, query, body)
        if answer is not None:
            return answer  # type: ignore[no-any-return]
        return 404, rpc_error(404, "NOT_FOUND", f"no route for {method} {path}")

    def _list_jobs(self, query: dict[str, list[str]]) -> dict[str, Any]:
        self.list_queries.append(query)
        # No ordering: Vertex documents none, so the fake answers in an order unrelated to creation time.
        ordered = sorted(self.jobs.values(), key=lambda j: hashlib.sha256(j.name.encode()).hexdigest())
        wanted = (query.get("filter") or [""])[0]
        if f := re.fullmatch(r'labels\.([\w-]+)="([^"]*)"', wanted):
            ordered = [j for j in ordered if (j.labels or {}).get(f[1]) == f[2]]
        size = min(int((query.get("pageSize") or ["100"])[0]), self.max_page_size)
        start = int((query.get("pageToken") or ["0"])[0])
        page = ordered[start : start + size]
        answer: dict[str, Any] = {"tuningJobs": [_genai_json(j) for j in page]}
        if start + size < len(ordered):
            answer["nextPageToken"] = str(start + size)
        return answer

    def _get_job(self, name: str) -> Any:
        if name in self._cancelling:
            self._cancelling[name] -= 1
            if self._cancelling[name] < 0:
                del self._cancelling[name]
                self.set_job(
                    name,
                    state="JOB_STATE_CANCELLED",
                    end_time=datetime.now(UTC),
                    error={"code": 1, "message": "CANCELLED"},
                )
        return _genai_json(self.jobs[name])

    def _cancel(self, name: str) -> tuple[int, Any]:
        state = str(getattr(self.jobs[name].state, "value", self.jobs[name].state))
        if state in {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"}:
            return 400, rpc_error(400, "FAILED_PRECONDITION", f"TuningJob {name} is already finished ({state})")
        self.set_job(name, state="JOB_STATE_CANCELLING")
        self._cancelling[name] = self.cancel_polls
        return 200, {}

    def _create_job(self, project: str, location: str, body: dict[str, Any]) -> tuple[int, Any]:
        from google.genai import types

        if problem := _refused(body):
            return 400, rpc_error(400, "INVALID_ARGUMENT", problem)
        self.tune_requests.append(body)
        name = f"projects/{project}/locations/{location}/tuningJobs/{self.new_id()}"
        spec = body.get("supervisedTuningSpec", {})
        job = types.TuningJob(
            name=name,
            state=types.JobState.JOB_STATE_PENDING,
            create_time=datetime.now(UTC),
            base_model=body.get("baseModel"),
            labels=body.get("labels"),
            tuned_model_display_name=body.get("tunedModelDisplayName"),
            service_account=body.get("serviceAccount"),
            output_uri=body.get("outputUri"),
            supervised_tuning_spec=types.SupervisedTuningSpec.model_validate(spec) if spec else None,
        )
        self.jobs[name] = job
        return 200, _genai_json(job)

    def stream_generate(self) -> list[str]:
        from google.genai import types

        chunks = []
        for i, word in enumerate(self.reply_words):
            last = i == len(self.reply_words) - 1
            response = types.GenerateContentResponse(
                candidates=[
                    types.Candidate(
                        content=types.Content(role="model", parts=[types.Part(text=word)]),
                        finish_reason=types.FinishReason.STOP if last else None,
                        index=0,
                    )
                ],
                usage_metadata=types.GenerateContentResponseUsageMetadata(
                    prompt_token_count=5, candidates_token_count=len(self.reply_words), total_token_count=7
                )
                if last
                else None,
            )
            chunks.append(json.dumps(_genai_json(response)))
        return chunks


def _refused(body: dict[str, Any]) -> str | None:
    """Why Vertex would refuse this CreateTuningJob body, or None."""
    for key, value in (body.get("labels") or {}).items():
        if not (key and _LABEL.fullmatch(key) and _LABEL.fullmatch(str(value))):
            return f"label {key!r}: {value!r} is not a valid label (lowercase letters, digits, '-', '_')"
    base = str(body.get("baseModel") or "")
    spec = body.get("supervisedTuningSpec") or {}
    hyper = spec.get("hyperParameters") or {}
    if _OPEN_MODEL.fullmatch(base):
        if not str(body.get("outputUri") or "").startswith("gs://"):
            return "outputUri (a gs:// directory) is required to tune an open model"
        if spec.get("tuningMode") not in _TUNING_MODES:
            return f"tuningMode must be one of {sorted(_TUNING_MODES)} for an open model"
        if "learningRateMultiplier" in hyper:
            return "learningRateMultiplier is for Google's own models; give learningRate for an open model"
        if "adapterSize" in hyper and spec["tuningMode"] != "TUNING_MODE_PEFT_ADAPTER":
            return "adapterSize needs tuningMode TUNING_MODE_PEFT_ADAPTER"
        return None
    for key in ("batchSize", "learningRate"):
        if key in hyper:
            return f"hyperParameters.{key} is only supported for open models"
    if body.get("outputUri"):
        return "outputUri is only supported for open models"
    return None


def _genai_json(model: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


@contextmanager
def fake_vertex_server() -> Iterator[FakeVertex]:
    state = FakeVertex()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            state.auth_headers.append(self.headers.get("authorization", ""))
            parsed = urlparse(self.path)
            if state.fail_next:
                status, rpc, headers = state.fail_next.pop(0)
                return self._send(status, rpc_error(status, rpc, f"injected {rpc}"), headers)
            if parsed.path.endswith(":streamGenerateContent"):
                payload = "".join(f"data: {chunk}\r\n\r\n" for chunk in state.stream_generate()).encode()
                return self._send_bytes(200, payload, "text/event-stream", {})
            body = json.loads(raw) if raw else {}
            status, answer = state.handle(self.command, parsed.path, parse_qs(parsed.query), body)
            if self.command == "POST" and parsed.path.endswith("/tuningJobs") and state.create_delay_s:
                state.closing.wait(state.create_delay_s)  # the job exists; the answer comes too late
            self._send(status, answer, {})

        def _send(self, status: int, answer: Any, headers: dict[str, str]) -> None:
            self._send_bytes(status, json.dumps(answer).encode(), "application/json", headers)

        def _send_bytes(self, status: int, payload: bytes, content_type: str, headers: dict[str, str]) -> None:
            try:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test): nobody to answer

        do_GET = do_POST = do_DELETE = do_PATCH = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve_on_loopback(Handler) as url:
        state.url = url
        try:
            yield state
        finally:
            state.closing.set()
