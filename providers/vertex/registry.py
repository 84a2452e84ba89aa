"""The Vertex Model Registry: deleting a tuned model the way Vertex allows it, and the serving copies that
`deploy` uploads (a registry entry pointing a serving container at the tuned weights).

Vertex's rules, from google-cloud-aiplatform's `ModelService` docstrings: `DeleteModel` takes `models/ID` with
no version and refuses a model any endpoint still serves; a single version goes through `DeleteModelVersion`,
which refuses the model's only version. So: undeploy everywhere first, then delete the version, or the whole
model when it is its only version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import errors
from providers.base import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from providers.vertex import endpoints, open_models
from providers.vertex.config import VertexConfig
from providers.vertex.operations import Progress, await_operation, quiet

SERVING_LABEL = "tunedeck-serving"
"""On a registry entry tunedeck uploaded only to serve a deployment: teardown deletes it once unused."""
LRO_TIMEOUT_S = 900.0


def _await(config: VertexConfig, operation: Any, what: str, progress: Progress) -> Any:
    return await_operation(operation, what, poll_s=config.lro_poll_s, timeout_s=LRO_TIMEOUT_S, progress=progress)


def delete_model(config: VertexConfig, name: str, progress: Progress = quiet) -> None:
    """Delete a tuned model (`…/models/ID@V` deletes that version; `…/models/ID` the model), undeploying it from
    every endpoint first. An endpoint left empty that tunedeck owns (a tuned Gemini model's own endpoint is
    labelled with the job's labels) is deleted too, unless the Pulumi stack declares it."""
    models = endpoints.model_client(config)
    base = name.split("@", 1)[0]
    versions = list(models.list_model_versions(name=base))
    if "@" in name:
        version = name.split("@", 1)[1]
        targets = [v for v in versions if v.version_id == version]
        if not targets:
            raise errors.NotFoundError(f"Vertex has no version {version} of {base}.", "See `tunedeck models list`.")
    else:
        targets = versions
    for model in targets:
        for ref in model.deployed_models:
            endpoints.undeploy(config, ref.endpoint, ref.deployed_model_id, progress)
            _delete_if_empty_and_ours(config, ref.endpoint, progress)
    if "@" in name and len(versions) > 1:
        _await(config, models.delete_model_version(name=name), f"delete version {name}", progress)
    else:
        _await(config, models.delete_model(name=base), f"delete {base}", progress)


def _delete_if_empty_and_ours(config: VertexConfig, endpoint_name: str, progress: Progress) -> None:
    endpoint = endpoints.endpoint_client(config).get_endpoint(name=endpoint_name)
    owned = endpoint.labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE
    if not endpoint.deployed_models and owned and endpoint_name not in config.endpoints:
        endpoints.delete_endpoint(config, endpoint_name, progress)


def delete_serving_copy(config: VertexConfig, model_name: str, progress: Progress = quiet) -> None:
    """Delete a registry entry tunedeck uploaded for serving, once no endpoint serves it; anything else stays."""
    from google.api_core import exceptions as core  # deferred: loaded with the client anyway

    models = endpoints.model_client(config)
    try:
        model = models.get_model(name=model_name)
    except core.NotFound:
        return
    if model.labels.get(SERVING_LABEL) != "copy" or model.labels.get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE:
        return
    if not model.deployed_models:
        _await(config, models.delete_model(name=model.name), f"delete serving copy {model.name}", progress)


def vllm_args(weights_uri: str, accelerator_count: int, max_model_len: int | None) -> list[str]:
    """The command Model Garden's vLLM container runs, as Vertex's notebooks give it for tuned open models."""
    args = [
        "python",
        "-m",
        "vllm.entrypoints.api_server",
        "--host=0.0.0.0",
        "--port=8080",
        f"--model={weights_uri}",
        f"--tensor-parallel-size={max(accelerator_count, 1)}",
        "--gpu-memory-utilization=0.9",
        "--disable-log-requests",
    ]
    return [*args, f"--max-model-len={max_model_len}"] if max_model_len else args


def upload_serving_copy(
    config: VertexConfig,
    *,
    model_id: str,
    display_name: str,
    weights_uri: str,
    base_model: str,
    accelerator_count: int,
    max_model_len: int | None,
    labels: Mapping[str, str],
    progress: Progress = quiet,
    on_started: Any = None,
) -> str:
    """Register the tuned weights with the serving container; returns the model's resource name. A retry with
    the same `model_id` finds the entry the first attempt made instead of making a second one."""
    from google.api_core import exceptions as core
    from google.cloud import aiplatform_v1

    container = open_models.serving_container()
    spec = aiplatform_v1.ModelContainerSpec(
        image_uri=container.image_uri,
        args=vllm_args(weights_uri, accelerator_count, max_model_len),
        env=[aiplatform_v1.EnvVar(name="MODEL_ID", value=base_model)],
        ports=[aiplatform_v1.Port(container_port=container.port)],
        predict_route=container.predict_route,
        health_route=container.health_route,
        shared_memory_size_mb=container.shared_memory_mb,
    )
    model = aiplatform_v1.Model(
        display_name=display_name,
        description=f"Serves the tuned weights in {weights_uri} (base {base_model}); uploaded by tunedeck.",
        container_spec=spec,
        labels={**labels, SERVING_LABEL: "copy"},
    )
    models = endpoints.model_client(config)
    name = f"{config.parent}/models/{model_id}"
    try:
        request = aiplatform_v1.UploadModelRequest(parent=config.parent, model=model, model_id=model_id)
        operation = models.upload_model(request=request, timeout=config.timeout_s)
    except core.Conflict:  # 409: ALREADY_EXISTS (api_core maps the status, not the reason)
        progress(f"upload {model_id}: already registered by an earlier attempt")
        return name
    if on_started is not None:
        on_started(name)
    result = _await(config, operation, f"upload {model_id}", progress)
    return str(result.model or name)
