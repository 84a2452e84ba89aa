"""Stack output names (shared by the program that exports them and every reader) and their typed model.

A leaf: it imports nothing else of infra, so the program, the Automation driver and the core all use it
without a cycle. Reading outputs (live, or the copy saved in the store) is the core's job (tunedeck.stacks).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from infra.errors import StackNotDeployedError

PROJECT = "project"
REGION = "region"
BUCKET_NAME = "bucket_name"
BUCKET_URI = "bucket_uri"
SERVICE_ACCOUNT_EMAIL = "service_account_email"
ENDPOINT_NAMES = "endpoint_names"
DATASET_PREFIX = "dataset_prefix"
ALL_OUTPUTS = (PROJECT, REGION, BUCKET_NAME, BUCKET_URI, SERVICE_ACCOUNT_EMAIL, ENDPOINT_NAMES, DATASET_PREFIX)
SERVING_SERVICE_ACCOUNT_EMAIL = "serving_service_account_email"
OPTIONAL_OUTPUTS = (SERVING_SERVICE_ACCOUNT_EMAIL,)
"""Exported by newer programs; a stack written before them still reads (the value is then empty)."""


class StackOutputs(BaseModel):
    """What a deployed stack tells the rest of tunedeck (the Vertex adapter needs nothing hand-copied)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stack: str
    project: str
    region: str
    bucket_name: str
    bucket_uri: str
    service_account_email: str
    endpoint_names: list[str]
    """Full resource names, projects/P/locations/L/endpoints/N."""
    dataset_prefix: str
    """Upload datasets under this prefix: the bucket's lifecycle rule expires them after the retention age."""
    serving_service_account_email: str = ""
    """The account deployed models run as (empty for a stack from before it existed)."""
    source: Literal["pulumi", "saved"]
    """`pulumi`: read live from the backend; `saved`: the copy tunedeck stored after the last up/outputs."""
    saved_at: datetime | None = None

    @classmethod
    def from_outputs(
        cls,
        stack: str,
        outputs: Mapping[str, Any],
        source: Literal["pulumi", "saved"],
        saved_at: datetime | None = None,
    ) -> StackOutputs:
        missing = [name for name in ALL_OUTPUTS if outputs.get(name) in (None, "")]
        if missing:
            raise StackNotDeployedError(
                f"Stack {stack!r} has no {', '.join(missing)} output.",
                f"Run `tunedeck infra up --stack {stack}` to (re)create it.",
            )
        try:
            return cls(
                stack=stack,
                source=source,
                saved_at=saved_at,
                **{name: outputs[name] for name in ALL_OUTPUTS},
                **{name: outputs[name] for name in OPTIONAL_OUTPUTS if outputs.get(name)},
            )
        except ValidationError as exc:
            raise StackNotDeployedError(
                f"Stack {stack!r} has outputs tunedeck cannot read: {exc.errors()[0]['msg']}.",
                f"Run `tunedeck infra up --stack {stack}` with this version of tunedeck.",
            ) from exc

    def as_outputs(self) -> dict[str, Any]:
        """The plain output map, as Pulumi exports it (what the store keeps)."""
        values = self.model_dump(mode="json", include=set(ALL_OUTPUTS) | set(OPTIONAL_OUTPUTS))
        return {name: value for name, value in values.items() if name in ALL_OUTPUTS or value}
