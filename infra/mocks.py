"""Pulumi mocks that stand in for GCP and record every resource the program declares.

The fake values follow the documented shapes of the real ones (bucket `url`, service account `email`,
endpoint ids `projects/P/locations/L/endpoints/N`) so outputs look like what `pulumi up` would export.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

FAKE_PROJECT_NUMBER = "123456789012"
REDACTED = "[secret]"
# How the engine's wire format marks a secret value (pulumi.runtime.rpc's special signature).
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def redact(value: Any) -> Any:
    """Inputs with secrets replaced by a placeholder, so a plan never prints one."""
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return REDACTED
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


@dataclass
class RecordedResource:
    type: str
    name: str
    custom: bool
    parent_type: str | None
    parent_name: str | None
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> dict[str, str]:
        labels = self.inputs.get("labels")
        return dict(labels) if isinstance(labels, dict) else {}


def _parent(urn: str) -> tuple[str | None, str | None]:
    # urn:pulumi:<stack>::<project>::<qualified type>::<name>; the last `$` segment is the parent's own type.
    parts = urn.split("::")
    if len(parts) < 4:
        return None, None
    return parts[2].split("$")[-1], parts[3]


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[RecordedResource] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._parents: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def note_parent(self, type_: str, name: str, parent_urn: str) -> None:
        with self._lock:
            self._parents[(type_, name)] = parent_urn

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = redact(dict(args.inputs))
        resource_id, outputs = _fake_state(args.typ, args.name, inputs)
        with self._lock:
            parent_type, parent_name = _parent(self._parents.get((args.typ, args.name), ""))
            self.resources.append(
                RecordedResource(args.typ, args.name, bool(args.custom), parent_type, parent_name, inputs, outputs)
            )
        return resource_id, outputs

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.calls.append((args.token, dict(args.args)))
        if args.token == "gcp:organizations/getProject:getProject":
            project = args.args.get("projectId", "my-project")
            return {"number": FAKE_PROJECT_NUMBER, "projectId": project, "name": project}, []
        if args.token == "gcp:storage/getProjectServiceAccount:getProjectServiceAccount":
            email = f"service-{FAKE_PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
            return {"emailAddress": email, "member": f"serviceAccount:{email}"}, []
        return {}, []

    def custom(self) -> list[RecordedResource]:
        return [r for r in self.resources if r.custom]

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]


class RecordingMonitor(MockMonitor):
    """Tells the mocks each resource's parent, which `MockResourceArgs` leaves out."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recorder = mocks

    def RegisterResource(self, request: Any) -> Any:
        self.recorder.note_parent(request.type, request.name, request.parent)
        return super().RegisterResource(request)


def _fake_state(type_: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    outputs = dict(inputs)
    project = inputs.get("project", "my-project")
    if type_ == "gcp:storage/bucket:Bucket":
        bucket = inputs.get("name", name)
        outputs.update(name=bucket, url=f"gs://{bucket}", selfLink=f"https://www.googleapis.com/storage/v1/b/{bucket}")
        return bucket, outputs
    if type_ == "gcp:serviceaccount/account:Account":
        email = f"{inputs.get('accountId')}@{project}.iam.gserviceaccount.com"
        account = f"projects/{project}/serviceAccounts/{email}"
        outputs.update(email=email, member=f"serviceAccount:{email}", name=account)
        return outputs["name"], outputs
    if type_ == "gcp:projects/serviceIdentity:ServiceIdentity":
        agent = str(inputs.get("service", "")).split(".")[0]
        email = f"service-{FAKE_PROJECT_NUMBER}@gcp-sa-{agent}.iam.gserviceaccount.com"
        outputs.update(email=email, member=f"serviceAccount:{email}")
        return f"projects/{project}/services/{inputs.get('service')}", outputs
    if type_ == "gcp:vertex/aiEndpoint:AiEndpoint":
        # Vertex assigns numeric endpoint ids; a stable hash keeps plans reproducible.
        number = str(zlib.crc32(name.encode()) % 9_000_000_000 + 1_000_000_000)
        outputs["name"] = number
        return f"projects/{project}/locations/{inputs.get('location')}/endpoints/{number}", outputs
    return f"{name}-id", outputs
