"""The aiplatform half of the fake Vertex server: Model Registry, endpoints and long-running operations, as strict as
Vertex where the SDKs' own docstrings say what Vertex refuses.

Rules enforced (each from google-cloud-aiplatform 2.7's request types and client docstrings):
- Model names: `DeleteModel` takes `models/ID` only; a version (`models/ID@V`) goes through `DeleteModelVersion`,
  which refuses the model's only version ("use DeleteModel"). A model (or version) with a DeployedModel on any
  endpoint cannot be deleted; neither can an endpoint that still has deployed models.
- `UndeployModel` succeeds only when the DeployedModel has no traffic, or the request's `traffic_split` takes it
  away (summing to 100 over the models that stay), or it is the endpoint's last model.
- Every mutation answers a long-running operation named under its resource (`…/endpoints/E/operations/O`) that
  is not done at first; its effect happens when a poll finds it done.
- Enums come back as names, or as integers when the request asks `$alt=json;enum-encoding=int` (as the
  aiplatform REST transport always does).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

LOC = r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
FAILED_PRECONDITION, INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS = 9, 3, 5, 6
_HTTP_FOR = {FAILED_PRECONDITION: 400, INVALID_ARGUMENT: 400, NOT_FOUND: 404, ALREADY_EXISTS: 409}
_STATUS_NAME = {
    FAILED_PRECONDITION: "FAILED_PRECONDITION",
    INVALID_ARGUMENT: "INVALID_ARGUMENT",
    NOT_FOUND: "NOT_FOUND",
    ALREADY_EXISTS: "ALREADY_EXISTS",
}


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message

    def answer(self) -> tuple[int, dict[str, Any]]:
        status = _STATUS_NAME.get(self.code, "UNKNOWN")
        return _HTTP_FOR.get(self.code, 500), rpc_error(_HTTP_FOR.get(self.code, 500), status, self.message)


def rpc_error(code: int, status: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


@dataclass
class FakeOperation:
    name: str
    polls_left: int
    response: Any = None
    """A proto-plus message for `response` (None: google.protobuf.Empty)."""
    error: tuple[int, str] | None = None
    effect: Any = None
    """Called once when a poll finds the operation done: the change Vertex makes in the background."""


def unversioned(name: str) -> str:
    return name.split("@", 1)[0]


def pb_json(message: Any, ints: bool) -> Any:
    return json.loads(type(message).to_json(message, use_integers_for_enums=ints))


@dataclass
class RegistryState:
    parent: str = ""
    endpoints: dict[str, Any] = field(default_factory=dict)
    """name -> aiplatform_v1.Endpoint"""
    models: dict[str, Any] = field(default_factory=dict)
    """versioned name (…/models/ID@V) -> aiplatform_v1.Model (its `name` unversioned, as Vertex answers)"""
    operations: dict[str, FakeOperation] = field(default_factory=dict)
    op_polls: int = 1
    """How many polls of a new operation answer `done: false` before it completes."""
    deleted: list[str] = field(default_factory=list)
    undeployed: list[tuple[str, str, dict[str, int]]] = field(default_factory=list)
    """(endpoint, deployed model id, traffic_split sent)"""
    uploads: list[dict[str, Any]] = field(default_factory=list)
    deploy_requests: list[dict[str, Any]] = field(default_factory=list)
    created_endpoints: list[dict[str, Any]] = field(default_factory=list)
    fail_next_deploy: tuple[int, str] | None = None
    """Makes the next DeployModel operation end with this (code, message), as a quota or capacity refusal does."""

    def new_id(self) -> int:
        raise NotImplementedError

    # -- test-side helpers ------------------------------------------------------------------------------

    def add_model(self, model_id: str, version: str = "1", **fields: Any) -> str:
        from google.cloud import aiplatform_v1

        name = f"{self.parent}/models/{model_id}"
        self.models[f"{name}@{version}"] = aiplatform_v1.Model(name=name, version_id=version, **fields)
        return f"{name}@{version}"

    def add_endpoint(self, endpoint: Any) -> str:
        self.endpoints[endpoint.name] = endpoint
        return str(endpoint.name)

    # -- operations -------------------------------------------------------------------------------------

    def start_operation(self, under: str, response: Any = None, effect: Any = None, error: Any = None) -> Any:
        name = f"{under}/operations/{self.new_id()}"
        op = FakeOperation(name, self.op_polls, response, error, effect)
        self.operations[name] = op
        return self._op_json(op) if op.polls_left > 0 else self._finish(op)

    def poll_operation(self, name: str) -> tuple[int, Any]:
        op = self.operations.get(name)
        if op is None:
            return 404, rpc_error(404, "NOT_FOUND", f"Operation {name} not found")
        if op.polls_left > 0:
            op.polls_left -= 1
            if op.polls_left > 0:
                return 200, self._op_json(op)
        return 200, self._finish(op)

    def _finish(self, op: FakeOperation) -> Any:
        if op.effect is not None:
            op.effect()
            op.effect = None
        return self._op_json(op, done=True)

    @staticmethod
    def _op_json(op: FakeOperation, done: bool = False) -> Any:
        from google.longrunning import operations_pb2
        from google.protobuf import empty_pb2, json_format

        message = operations_pb2.Operation(name=op.name, done=done)
        if done and op.error is not None:
            message.error.code, message.error.message = op.error
        elif done:
            message.response.Pack(type(op.response).pb(op.response) if op.response is not None else empty_pb2.Empty())
        return json.loads(json_format.MessageToJson(message))

    # -- routing ----------------------------------------------------------------------------------------

    def handle_registry(self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any]) -> Any:
        """(status, JSON) for a registry/endpoint route, or None when the path is not one."""
        ints = "enum-encoding=int" in (query.get("$alt") or [""])[0]
        try:
            return self._route(method, path, query, body, ints)
        except RpcError as error:
            return error.answer()

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any], ints: bool) -> Any:
        if re.fullmatch(LOC + r"(/(endpoints|models|tuningJobs)/[^/]+)?/operations/\d+", path):
            return self.poll_operation(path)
        if re.fullmatch(LOC + "/endpoints", path):
            if method == "POST":
                return 200, self._create_endpoint(body, (query.get("endpointId") or [""])[0])
            return 200, self._page("endpoints", list(self.endpoints.values()), query, ints)
        if m := re.fullmatch(LOC + r"/endpoints/(?P<id>[^/:]+)(?P<verb>:deployModel|:undeployModel)?", path):
            name = path.split(":")[0]
            endpoint = self.endpoints.get(name)
            if endpoint is None:
                return 404, rpc_error(404, "NOT_FOUND", f"Endpoint {name} not found")
            if m["verb"] == ":deployModel":
                return 200, self._deploy(endpoint, body)
            if m["verb"] == ":undeployModel":
                return 200, self._undeploy(endpoint, body)
            if method == "DELETE":
                return 200, self._delete_endpoint(endpoint)
            return 200, pb_json(endpoint, ints)
        if re.fullmatch(LOC + "/models:upload", path):
            return 200, self._upload(body)
        if re.fullmatch(LOC + "/models", path):
            latest = {}
            for model in self.models.values():
                latest[model.name] = self._model_view(model)
            return 200, self._page("models", list(latest.values()), query, ints)
        if m := re.fullmatch(LOC + r"/models/(?P<id>[^/:]+)(?P<verb>:deleteVersion|:listVersions)?", path):
            name = path.split(":")[0]
            if m["verb"] == ":listVersions":
                versions = [self._model_view(v) for v in self._versions(name)]
                return 200, self._page("models", versions, query, ints)
            if m["verb"] == ":deleteVersion":
                return 200, self._delete_version(name)
            if method == "DELETE":
                return 200, self._delete_model(name)
            return 200, pb_json(self._model_view(self._model(name)), ints)
        return None

    def _page(self, key: str, items: list[Any], query: dict[str, list[str]], ints: bool) -> dict[str, Any]:
        size = int((query.get("pageSize") or ["0"])[0] or 0) or 2  # Vertex may answer fewer than asked
        start = int((query.get("pageToken") or ["0"])[0] or 0)
        page = items[start : start + min(size, 2)]
        answer: dict[str, Any] = {key: [pb_json(item, ints) for item in page]}
        if start + len(page) < len(items):
            answer["nextPageToken"] = str(start + len(page))
        return answer

    # -- models -----------------------------------------------------------------------------------------

    def _versions(self, name: str) -> list[Any]:
        found = [m for key, m in self.models.items() if unversioned(key) == unversioned(name)]
        if not found:
            raise RpcError(NOT_FOUND, f"Model {name} not found")
        return found

    def _model(self, name: str) -> Any:
        versions = self._versions(name)
        if "@" in name:
            version = name.split("@", 1)[1]
            for model in versions:
                if model.version_id == version:
                    return model
            raise RpcError(NOT_FOUND, f"Model {name} not found")
        return versions[-1]  # the default version: the newest here

    def _deployments_of(self, model: Any) -> list[tuple[str, str]]:
        refs = []
        for endpoint in self.endpoints.values():
            for deployed in endpoint.deployed_models:
                target = deployed.model
                if unversioned(target) != model.name:
                    continue
                version = target.split("@", 1)[1] if "@" in target else self._model(target).version_id
                if version == model.version_id:
                    refs.append((endpoint.name, deployed.id))
        return refs

    def _model_view(self, model: Any) -> Any:
        from google.cloud import aiplatform_v1

        view = aiplatform_v1.Model(model)
        del view.deployed_models[:]
        view.deployed_models.extend(
            aiplatform_v1.DeployedModelRef(endpoint=e, deployed_model_id=d) for e, d in self._deployments_of(model)
        )
        return view

    def _upload(self, body: dict[str, Any]) -> Any:
        from google.cloud import aiplatform_v1

        self.uploads.append(body)
        model = aiplatform_v1.Model.from_json(json.dumps(body.get("model") or {}), ignore_unknown_fields=True)
        if not model.container_spec.image_uri:
            raise RpcError(INVALID_ARGUMENT, "model.container_spec.image_uri is required for a custom model")
        if model.artifact_uri and not model.artifact_uri.startswith("gs://"):
            raise RpcError(INVALID_ARGUMENT, "model.artifact_uri must be a gs:// URI")
        model_id = body.get("modelId") or str(self.new_id())
        name = f"{self.parent}/models/{model_id}"
        if any(unversioned(key) == name for key in self.models):
            raise RpcError(ALREADY_EXISTS, f"Model {name} already exists")
        model.name, model.version_id = name, "1"
        model.create_time = datetime.now(UTC)

        def effect() -> None:
            self.models[f"{name}@1"] = model

        response = aiplatform_v1.UploadModelResponse(model=name, model_version_id="1")
        return self.start_operation(name, response, effect)

    def _delete_model(self, name: str) -> Any:
        if "@" in name:
            raise RpcError(
                INVALID_ARGUMENT, f"DeleteModel takes a model name without a version ({name}); use DeleteModelVersion"
            )
        for model in self._versions(name):
            if refs := self._deployments_of(model):
                raise RpcError(
                    FAILED_PRECONDITION, f"Model {name} is deployed to {refs[0][0]}; undeploy it before deleting"
                )

        def effect() -> None:
            for key in [k for k in self.models if unversioned(k) == name]:
                del self.models[key]
            self.deleted.append(name)

        return self.start_operation(name, effect=effect)

    def _delete_version(self, name: str) -> Any:
        if "@" not in name:
            raise RpcError(INVALID_ARGUMENT, f"DeleteModelVersion needs a version id in the name ({name})")
        model = self._model(name)
        if len(self._versions(name)) == 1:
            raise RpcError(FAILED_PRECONDITION, f"{name} is the model's only version: delete the model instead")
        if refs := self._deployments_of(model):
            raise RpcError(FAILED_PRECONDITION, f"Model version {name} is deployed to {refs[0][0]}")

        def effect() -> None:
            del self.models[name]
            self.deleted.append(name)

        return self.start_operation(unversioned(name), effect=effect)

    # -- endpoints --------------------------------------------------------------------------------------

    def _create_endpoint(self, body: dict[str, Any], endpoint_id: str) -> Any:
        from google.cloud import aiplatform_v1

        self.created_endpoints.append({**body, "endpointId": endpoint_id})
        endpoint = aiplatform_v1.Endpoint.from_json(json.dumps(body), ignore_unknown_fields=True)
        if not endpoint.display_name:
            raise RpcError(INVALID_ARGUMENT, "endpoint.display_name is required")
        if endpoint_id and not re.fullmatch(r"[a-z][a-z0-9-]{0,61}[a-z0-9]|[1-9][0-9]{0,8}", endpoint_id):
            raise RpcError(INVALID_ARGUMENT, f"invalid endpoint_id {endpoint_id!r}")
        name = f"{self.parent}/endpoints/{endpoint_id or self.new_id()}"
        if name in self.endpoints:
            raise RpcError(ALREADY_EXISTS, f"Endpoint {name} already exists")
        endpoint.name, endpoint.create_time = name, datetime.now(UTC)

        def effect() -> None:
            self.endpoints[name] = endpoint

        return self.start_operation(name, endpoint, effect)

    def _delete_endpoint(self, endpoint: Any) -> Any:
        if endpoint.deployed_models:
            raise RpcError(
                FAILED_PRECONDITION, f"Endpoint {endpoint.name} has deployed models; undeploy them before deleting"
            )
        name = endpoint.name

        def effect() -> None:
            self.endpoints.pop(name, None)
            self.deleted.append(name)

        return self.start_operation(name, effect=effect)

    def _deploy(self, endpoint: Any, body: dict[str, Any]) -> Any:
        from google.cloud import aiplatform_v1

        self.deploy_requests.append(body)
        deployed = aiplatform_v1.DeployedModel.from_json(
            json.dumps(body.get("deployedModel") or {}), ignore_unknown_fields=True
        )
        model = self._model(deployed.model)  # NOT_FOUND for a model that does not exist (yet)
        dedicated = deployed.dedicated_resources
        if model.container_spec.image_uri and "dedicated_resources" not in deployed:
            raise RpcError(INVALID_ARGUMENT, "a custom-container model needs dedicated_resources")
        if "dedicated_resources" in deployed:
            spec = dedicated.machine_spec
            if not spec.machine_type:
                raise RpcError(INVALID_ARGUMENT, "dedicated_resources.machine_spec.machine_type is required")
            if (spec.accelerator_count > 0) != (spec.accelerator_type != 0):
                raise RpcError(INVALID_ARGUMENT, "accelerator_type and accelerator_count go together")
            if dedicated.min_replica_count < 1 or dedicated.max_replica_count < dedicated.min_replica_count:
                raise RpcError(INVALID_ARGUMENT, "need 1 <= min_replica_count <= max_replica_count")
        split = {k: int(v) for k, v in (body.get("trafficSplit") or {}).items()}
        if split and sum(split.values()) != 100:
            raise RpcError(INVALID_ARGUMENT, f"traffic_split must sum to 100, got {split}")
        deployed.id = str(self.new_id())
        deployed.create_time = datetime.now(UTC)
        error, self.fail_next_deploy = self.fail_next_deploy, None

        def effect() -> None:
            if error is not None:
                return
            endpoint.deployed_models.append(deployed)
            if split:
                endpoint.traffic_split.clear()
                endpoint.traffic_split.update({(deployed.id if k == "0" else k): v for k, v in split.items()})

        response = aiplatform_v1.DeployModelResponse(deployed_model=deployed)
        return self.start_operation(endpoint.name, response, effect, error)

    def _undeploy(self, endpoint: Any, body: dict[str, Any]) -> Any:
        from google.cloud import aiplatform_v1

        target = body.get("deployedModelId", "")
        split = {k: int(v) for k, v in (body.get("trafficSplit") or {}).items()}
        self.undeployed.append((endpoint.name, target, split))
        ids = [d.id for d in endpoint.deployed_models]
        if target not in ids:
            raise RpcError(NOT_FOUND, f"DeployedModel {target} not found in {endpoint.name}")
        remaining = [i for i in ids if i != target]
        if split:
            if split.get(target) or sum(split.values()) != 100 or set(split) - set(remaining):
                raise RpcError(INVALID_ARGUMENT, f"traffic_split {split} must give 100 to the models that stay")
        elif endpoint.traffic_split.get(target) and remaining:
            raise RpcError(
                FAILED_PRECONDITION,
                f"DeployedModel {target} still receives traffic; reassign it with traffic_split to undeploy it",
            )

        def effect() -> None:
            kept = [d for d in endpoint.deployed_models if d.id != target]
            del endpoint.deployed_models[:]
            endpoint.deployed_models.extend(kept)
            new_split = split or {k: v for k, v in endpoint.traffic_split.items() if k != target}
            endpoint.traffic_split.clear()
            if kept:
                endpoint.traffic_split.update(new_split)

        return self.start_operation(endpoint.name, aiplatform_v1.UndeployModelResponse(), effect)
