"""`POST /v1/messages` in Anthropic's Messages format, streamed with Anthropic's SSE event sequence."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from localbackend.db import new_id
from localbackend.server.chat import MAX_TOKENS_LIMIT, SSE_HEADERS, check_prompt_size
from localbackend.server.edge import EdgeRoute
from localbackend.server.errors import bad_request
from localbackend.server.generation import (
    Piece,
    check_context,
    collect,
    first_then_rest,
    flatten_content,
    generate,
    stream_error_message,
)
from localbackend.server.models import resolve_or_404
from localbackend.server.state import Svc

router = APIRouter(prefix="/v1/messages", tags=["anthropic"], route_class=EdgeRoute)

_STOP_REASONS = {"length": "max_tokens", "stop": "end_turn"}


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str | list[Any]


class MessagesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    max_tokens: int = Field(ge=1)
    messages: list[MessageIn] = Field(min_length=1)
    system: str | list[Any] | None = None
    stop_sequences: list[str] | None = None
    temperature: Annotated[float, Field(ge=0, le=1)] = 1.0
    top_p: Annotated[float, Field(gt=0, le=1)] = 1.0
    top_k: Annotated[int | None, Field(ge=1)] = None
    stream: bool = False
    # Accepted for compatibility; a local model has no use for them.
    metadata: dict[str, Any] | None = None
    service_tier: str | None = None
    tools: list[Any] | None = None
    tool_choice: Any = None


def _messages(body: MessagesRequest) -> list[dict[str, str]]:
    out = []
    if body.system:
        out.append({"role": "system", "content": flatten_content(body.system, "system")})
    for index, message in enumerate(body.messages):
        out.append({"role": message.role, "content": flatten_content(message.content, f"messages.{index}.content")})
    return out


def _stop_reason(piece: Piece) -> str:
    return (
        "stop_sequence"
        if piece.stop_sequence is not None
        else _STOP_REASONS.get(piece.finish_reason or "stop", "end_turn")
    )


def _sse(event: dict[str, Any]) -> str:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"


@router.post("", response_model=None)
async def create_message(body: MessagesRequest, svc: Svc, request: Request) -> dict[str, Any] | StreamingResponse:
    model = resolve_or_404(svc, body.model)
    if body.max_tokens > MAX_TOKENS_LIMIT:
        raise bad_request(
            f"max_tokens: {body.max_tokens} > {MAX_TOKENS_LIMIT}, the maximum allowed.", param="max_tokens"
        )
    if body.tools:
        raise bad_request("Tools are not supported by the local backend.", param="tools")
    messages = _messages(body)
    check_prompt_size(messages, body.max_tokens, "messages")
    engine = await run_in_threadpool(svc.engine)  # the first call imports torch: keep it off the loop
    await check_context(engine, messages, body.max_tokens, "messages")
    pieces = generate(
        engine,
        model.adapter,
        messages,
        max_tokens=body.max_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        stop=body.stop_sequences,
        seed=None,
        disconnected=request.is_disconnected,
    )
    message_id = new_id("msg_")
    if not body.stream:
        reply = await collect(pieces)
        return {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": model.id,
            "content": [{"type": "text", "text": reply.text}],
            "stop_reason": _stop_reason(reply),
            "stop_sequence": reply.stop_sequence,
            "usage": {"input_tokens": reply.prompt_tokens, "output_tokens": reply.completion_tokens},
        }
    first, rest = await first_then_rest(pieces)

    async def events() -> AsyncIterator[str]:
        start: dict[str, Any] = {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": model.id,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": first.prompt_tokens if first else 0, "output_tokens": 0},
        }
        yield _sse({"type": "message_start", "message": start})
        yield _sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
        last = first or Piece("", "stop")
        try:
            if first is not None and first.text:
                yield _sse(
                    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": first.text}}
                )
            if first is not None and first.finish_reason is None:
                async for piece in rest:
                    last = piece
                    if piece.text:
                        delta = {"type": "text_delta", "text": piece.text}
                        yield _sse({"type": "content_block_delta", "index": 0, "delta": delta})
        except Exception as exc:  # headers are sent: the error travels in the stream, as Anthropic does
            message = stream_error_message(exc)
            yield _sse({"type": "error", "error": {"type": "api_error", "message": message}})
            return
        yield _sse({"type": "content_block_stop", "index": 0})
        yield _sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": _stop_reason(last), "stop_sequence": last.stop_sequence},
                "usage": {"output_tokens": last.completion_tokens},
            }
        )
        yield _sse({"type": "message_stop"})

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)
