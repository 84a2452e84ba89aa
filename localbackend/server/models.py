"""`/v1/models`: the base model and every fine-tuned model (checkpoints resolve too); delete fine-tuned ones."""

from __future__ import annotations

import shutil
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from localbackend.basemodel import BASE_MODEL_ID
from localbackend.registry import ResolvedModel, UnknownModelError
from localbackend.server.edge import EdgeRoute
from localbackend.server.errors import APIError, not_found
from localbackend.server.state import Services, Svc

router = APIRouter(prefix="/v1/models", tags=["models"], route_class=EdgeRoute)


def model_object(model: ResolvedModel) -> dict[str, Any]:
    return {
        "id": model.id,
        "object": "model",
        "created": model.created_at,
        "owned_by": "tunedeck" if model.adapter is None else "user",
    }


def resolve_or_404(svc: Services, model_id: str, param: str = "model") -> ResolvedModel:
    try:
        return svc.registry.resolve(model_id)
    except UnknownModelError as exc:
        raise not_found(
            f"The model '{model_id}' does not exist or you do not have access to it.",
            param=param,
            code="model_not_found",
        ) from exc


@router.get("")
async def list_models(svc: Svc) -> dict[str, Any]:
    models = [
        svc.registry.resolve(BASE_MODEL_ID),
        *[m for m in svc.registry.fine_tuned() if m.adapter and m.adapter.is_dir()],
    ]
    return {"object": "list", "data": [model_object(m) for m in models]}


@router.get("/{model_id:path}")
async def retrieve_model(model_id: str, svc: Svc) -> dict[str, Any]:
    return model_object(resolve_or_404(svc, model_id))


@router.delete("/{model_id:path}")
async def delete_model(model_id: str, svc: Svc) -> dict[str, Any]:
    model = resolve_or_404(svc, model_id)
    if model.adapter is None or model.checkpoint:
        raise APIError(403, f"Only fine-tuned models can be deleted; '{model_id}' is not one.", param="model")
    engine = svc.engine_if_started()
    if engine is not None:
        await run_in_threadpool(engine.unload, model.adapter)
    svc.registry.forget(model_id)
    # Only the final adapter goes: the job's checkpoints stay servable, as OpenAI keeps them.
    await run_in_threadpool(shutil.rmtree, model.adapter, True)
    return {"id": model_id, "object": "model", "deleted": True}
