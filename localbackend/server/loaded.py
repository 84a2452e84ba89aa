"""`/v1/loaded_models` (tunedeck's extension): what the chat engine holds in memory, and unloading it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from localbackend.server.edge import EdgeRoute
from localbackend.server.errors import not_found
from localbackend.server.models import resolve_or_404
from localbackend.server.state import Svc

router = APIRouter(prefix="/v1/loaded_models", tags=["loaded models"], route_class=EdgeRoute)


@router.get("")
async def list_loaded(svc: Svc) -> dict[str, Any]:
    engine = svc.engine_if_started()
    loaded = await run_in_threadpool(engine.loaded) if engine is not None else []
    data = []
    for item in loaded:
        model_id = svc.registry.id_for_adapter(item.adapter_path) or item.name
        data.append(
            {
                "object": "loaded_model",
                "id": model_id,
                "memory_bytes": item.memory_bytes,
                "loaded_at": int(item.loaded_at),
                "last_used_at": int(item.last_used_at),
            }
        )
    return {"object": "list", "data": data}


@router.delete("/{model_id:path}")
async def unload(model_id: str, svc: Svc) -> dict[str, Any]:
    model = resolve_or_404(svc, model_id)
    engine = svc.engine_if_started()
    unloaded = bool(engine is not None and await run_in_threadpool(engine.unload, model.adapter))
    if not unloaded:
        raise not_found(f"The model '{model_id}' is not loaded.", param="model_id", code="model_not_loaded")
    return {"id": model_id, "object": "loaded_model", "deleted": True}
