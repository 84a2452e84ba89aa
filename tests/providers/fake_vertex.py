"""A loopback Vertex AI REST server for tests, speaking the documented JSON shapes built from the SDKs' own types:
google-genai's `types.TuningJob` (camelCase JSON) for tuning jobs and generation, aiplatform_v1's protobuf
messages (`to_json`) for endpoints and long-running operations."""

from __future__ import annotations

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
from urllib.parse import parse_qs, urlparse

from tests.providers.stub_http import serve_on_loopback

_LOC = r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"


@dataclass
class FakeVertex:
    url: str = ""
    project: str = "tunedeck-test"
    location: str = "us-central1"
    jobs: dict[str, Any] = field(default_factory=dict)
    """name -> google.genai.types.TuningJob"""
    tune_requests: list[dict[str, Any]] = field(default_factory=list)
    endpoints: dict[str, Any] = field(default_factory=dict)
    """name -> aiplatform_v1.Endpoint"""
    deleted: list[str] = field(default_factory=list)
    undeployed: list[tuple[str, str]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    fail_next: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    """(HTTP status, google.rpc status name, headers) answered to the next requests, in order."""
    reply_words: list[str] = field(default_factory=lambda: ["Tuned", " hello"])
    _ids: Any = field(default_factory=lambda: itertools.count(1000))
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.location}"

    # -- test-side helpers ------------------------------------------------------------------------------

    def set_job(self, name: str, **changes: Any) -> None:
        from google.genai import types

        with self.lock:  # re-validate so strings become the SDK's enums, as if parsed from the wire
            self.jobs[name] = types.TuningJob.model_validate({**dict(self.jobs[name]), **changes})

    def add_endpoint(self, endpoint: Any) -> str:
        with self.lock:
            self.endpoints[endpoint.name] = endpoint
        return str(endpoint.name)

    def new_id(self) -> int:
        return next(self._ids)

    # -- request handling -------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[int, Any]:
        from google.genai import types

        path = re.sub(r"^/v1(beta1)?/", "", path)
        if m := re.fullmatch(_LOC + "/tuningJobs", path):
            if method == "POST":
                return 200, self._create_job(m["project"], m["location"], body)
            jobs = list(self.jobs.values())
            wanted = (query.get("filter") or [""])[0]
            if f := re.fullmatch(r'labels\.([\w-]+)="([^"]*)"', wanted):
                jobs = [j for j in jobs if (j.labels or {}).get(f[1]) == f[2]]
            return 200, {"tuningJobs": [_genai_json(j) for j in jobs]}
        if m := re.fullmatch(_LOC + r"/tuningJobs/(?P<id>\d+)(?P<verb>:cancel)?", path):
            name = path.removesuffix(":cancel")
            if name not in self.jobs:
                return 404, _rpc_error(404, "NOT_FOUND", f"TuningJob {name} not found")
            if m["verb"]:
                self.set_job(name, state=types.JobState.JOB_STATE_CANCELLED, end_time=datetime.now(UTC))
                return 200, {}
            return 200, _genai_json(self.jobs[name])
        if m := re.fullmatch(_LOC + r"/endpoints", path):
            from google.cloud import aiplatform_v1

            response = aiplatform_v1.ListEndpointsResponse(endpoints=list(self.endpoints.values()))
            return 200, json.loads(aiplatform_v1.ListEndpointsResponse.to_json(response))
        if m := re.fullmatch(_LOC + r"/endpoints/\d+(?P<verb>:undeployModel)?", path):
            name = path.removesuffix(":undeployModel")
            if name not in self.endpoints:
                return 404, _rpc_error(404, "NOT_FOUND", f"Endpoint {name} not found")
            if m["verb"]:
                return 200, self._undeploy(name, body["deployedModelId"])
            if method == "DELETE":
                del self.endpoints[name]
                self.deleted.append(name)
                return 200, _operation(f"{self.parent}/operations/{self.new_id()}", None)
            from google.cloud import aiplatform_v1

            return 200, json.loads(aiplatform_v1.Endpoint.to_json(self.endpoints[name]))
        if re.fullmatch(_LOC + r"/models/[^/]+", path) and method == "DELETE":
            self.deleted.append(path)
            return 200, _operation(f"{self.parent}/operations/{self.new_id()}", None)
        if re.fullmatch(_LOC + r"/operations/\d+", path):
            return 200, _operation(path, None)
        return 404, _rpc_error(404, "NOT_FOUND", f"no route for {method} {path}")

    def _create_job(self, project: str, location: str, body: dict[str, Any]) -> dict[str, Any]:
        from google.genai import types

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
            supervised_tuning_spec=types.SupervisedTuningSpec.model_validate(spec) if spec else None,
        )
        with self.lock:
            self.jobs[name] = job
        return _genai_json(job)

    def _undeploy(self, endpoint_name: str, deployed_model_id: str) -> dict[str, Any]:
        with self.lock:
            endpoint = self.endpoints[endpoint_name]
            kept = [d for d in endpoint.deployed_models if d.id != deployed_model_id]
            del endpoint.deployed_models[:]
            endpoint.deployed_models.extend(kept)
            self.undeployed.append((endpoint_name, deployed_model_id))
        from google.cloud import aiplatform_v1

        return _operation(f"{self.parent}/operations/{self.new_id()}", aiplatform_v1.UndeployModelResponse())

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


def _genai_json(model: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def _rpc_error(code: int, status: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


def _operation(name: str, response: Any | None) -> Any:
    from google.longrunning import operations_pb2
    from google.protobuf import empty_pb2, json_format

    op = operations_pb2.Operation(name=name, done=True)
    op.response.Pack(type(response).pb(response) if response is not None else empty_pb2.Empty())
    return json.loads(json_format.MessageToJson(op))


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
                return self._send(status, _rpc_error(status, rpc, f"injected {rpc}"), headers)
            if parsed.path.endswith(":streamGenerateContent"):
                payload = "".join(f"data: {chunk}\r\n\r\n" for chunk in state.stream_generate()).encode()
                return self._send_bytes(200, payload, "text/event-stream", {})
            body = json.loads(raw) if raw else {}
            status, answer = state.handle(self.command, parsed.path, parse_qs(parsed.query), body)
            self._send(status, answer, {})

        def _send(self, status: int, answer: Any, headers: dict[str, str]) -> None:
            self._send_bytes(status, json.dumps(answer).encode(), "application/json", headers)

        def _send_bytes(self, status: int, payload: bytes, content_type: str, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = do_PATCH = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve_on_loopback(Handler) as url:
        state.url = url
        yield state
