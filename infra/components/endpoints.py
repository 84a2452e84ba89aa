"""Dedicated Vertex AI endpoints for models tunedeck deploys, exactly as listed in config."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra.components import COMPONENT_PREFIX
from infra.config import EndpointSpec


@dataclass(frozen=True)
class TuningEndpointsArgs:
    project: str
    endpoints: Sequence[EndpointSpec]
    labels: Mapping[str, str]
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class TuningEndpoints(pulumi.ComponentResource):
    def __init__(self, name: str, args: TuningEndpointsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT_PREFIX}:TuningEndpoints", name, None, opts)
        self.endpoints = [
            gcp.vertex.AiEndpoint(
                f"{name}-{spec.name}",
                project=args.project,
                location=spec.region,
                region=spec.region,
                display_name=spec.name,
                description="Serves models deployed by tunedeck.",
                labels={**spec.labels, **args.labels},
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
            )
            for spec in args.endpoints
        ]
        # The provider id is the full resource name, projects/P/locations/L/endpoints/N, which Vertex SDKs take.
        self.resource_names: pulumi.Output[list[str]] = pulumi.Output.all(*[ep.id for ep in self.endpoints]).apply(
            lambda ids: [str(i) for i in ids]
        )
        self.register_outputs({"resource_names": self.resource_names})
