"""`POST /v1/chat/completions` in OpenAI's format, streamed as `chat.completion.chunk` server-sent events."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from localbackend.db import new_id
from localbackend.server.edge import EdgeRoute
from localbackend.server.errors import APIError, bad_request
from localbackend.server.generation import (
    CONTEXT_TOKENS,
    Piece,
    check_context,
    collect,
    first_then_rest,
    flatten_content,
    generate,
    stream_error_message,
)
from localbackend.server.models import resolve_or_404
from localbackend.server.params import INT64_MAX, INT64_MIN, Range
from localbackend.server.state import Svc

router = APIRouter(prefix="/v1/chat", tags=["chat"], route_class=EdgeRoute)

MAX_TOKENS_LIMIT = 4096
DEFAULT_MAX_TOKENS = 512
_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# The longest token of SmolLM2's vocabulary is 81 bytes (a newline and 80 spaces), and a character is at least a
# byte, so a prompt of more than this many characters per token of room cannot fit: refused without tokenizing
# (7.5 MB of text took 12 s to tokenize just to learn it was too long). Rounded up for safety.
MAX_CHARS_PER_TOKEN = 96


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[Any] | None = None


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    messages: list[ChatMessageIn] = Field(min_length=1)
    temperature: Annotated[float, Field(ge=0, le=2)] = 1.0
    top_p: Annotated[float, Field(gt=0, le=1)] = 1.0
    max_tokens: Annotated[int | None, Field(ge=1)] = None
    max_completion_tokens: Annotated[int | None, Field(ge=1)] = None
    stop: str | list[str] | None = None
    seed: Annotated[int | None, Range(INT64_MIN, INT64_MAX, optional=True)] = None
    n: int = 1
    stream: bool = False
    stream_options: StreamOptions | None = None
    # Accepted for compatibility; they don't change what a local model does.
    user: str | None = None
    store: bool | None = None
    metadata: dict[str, str] | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logprobs: Literal[False] | None = None
    response_format: dict[str, Any] | None = None
    tools: list[Any] | None = None
    tool_choice: Any = None
    parallel_tool_calls: bool | None = None
    service_tier: str | None = None


def _messages(body: ChatRequest) -> list[dict[str, str]]:
    out = []
    for index, message in enumerate(body.messages):
        role = _ROLES.get(message.role)
        if role is None:
            raise bad_request(
                f"Role {message.role!r} is not supported by the local backend (system, developer, user, assistant).",
                param=f"messages[{index}].role",
            )
        out.append({"role": role, "content": flatten_content(message.content, f"messages[{index}].content")})
    return out


def _checked(body: ChatRequest) -> tuple[int, list[str] | None]:
    if body.n != 1:
        raise bad_request("The local backend generates one choice per request: 'n' must be 1.", param="n")
    if body.tools:
        raise bad_request("Tools are not supported by the local backend.", param="tools")
    if body.response_format and body.response_format.get("type", "text") != "text":
        raise bad_request("Only text responses are supported by the local backend.", param="response_format")
    max_tokens = body.max_completion_tokens or body.max_tokens or DEFAULT_MAX_TOKENS
    if max_tokens > MAX_TOKENS_LIMIT:
        raise bad_request(
            f"max_tokens is too large: {max_tokens}. The limit is {MAX_TOKENS_LIMIT}.",
            param="max_completion_tokens" if body.max_completion_tokens else "max_tokens",
        )
    stop = [body.stop] if isinstance(body.stop, str) else body.stop
    if stop is not None and len(stop) > 4:
        raise bad_request("At most 4 stop sequences are allowed.", param="stop")
    return max_tokens, stop


def check_prompt_size(messages: list[dict[str, str]], max_tokens: int, param: str) -> None:
    """A cheap context-length check before the tokenizer: counting characters is instant, tokenizing is not."""
    chars = sum(len(m["content"]) for m in messages)
    if chars > MAX_CHARS_PER_TOKEN * max(0, CONTEXT_TOKENS - max_tokens):
        raise APIError(
            400,
            f"This model's maximum context length is {CONTEXT_TOKENS} tokens. However, your messages are {chars} "
            f"characters long, more than {CONTEXT_TOKENS - max_tokens} tokens of text can be (with {max_tokens} "
            "in the completion). Please reduce the length of the messages or completion.",
            param=param,
            code="context_length_exceeded",
        )


def _usage(piece: Piece) -> dict[str, int]:
    return {
        "prompt_tokens": piece.prompt_tokens,
        "completion_tokens": piece.completion_tokens,
        "total_tokens": piece.prompt_tokens + piece.completion_tokens,
    }


@router.post("/completions", response_model=None)
async def chat_completions(body: ChatRequest, svc: Svc, request: Request) -> dict[str, Any] | StreamingResponse:
    model = resolve_or_404(svc, body.model)
    max_tokens, stop = _checked(body)
    messages = _messages(body)
    check_prompt_size(messages, max_tokens, "messages")
    engine = await run_in_threadpool(svc.engine)  # the first call imports torch: keep it off the loop
    await check_context(engine, messages, max_tokens, "messages")
    pieces = generate(
        engine,
        model.adapter,
        messages,
        max_tokens=max_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        stop=stop,
        seed=body.seed,
        disconnected=request.is_disconnected,
    )
    completion_id, created = new_id("chatcmpl-"), int(time.time())
    if not body.stream:
        reply = await collect(pieces)
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model.id,
            "system_fingerprint": "tunedeck-local",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.text, "refusal": None},
                    "finish_reason": reply.finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": _usage(reply),
        }
    first, rest = await first_then_rest(pieces)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        data: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model.id,
            "system_fingerprint": "tunedeck-local",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }
        if include_usage:
            data["usage"] = None
        return f"data: {json.dumps(data)}\n\n"

    async def events() -> AsyncIterator[str]:
        yield chunk({"role": "assistant", "content": ""})
        last = first or Piece("", "stop")
        try:
            if first is not None and first.text:
                yield chunk({"content": first.text})
            if first is not None and first.finish_reason is None:
                async for piece in rest:
                    last = piece
                    if piece.text:
                        yield chunk({"content": piece.text})
        except Exception as exc:  # headers are sent: the error travels in the stream, as OpenAI does
            message = stream_error_message(exc)
            error = {"message": message, "type": "server_error", "param": None, "code": None}
            yield f"data: {json.dumps({'error': error})}\n\n"
            return
        yield chunk({}, last.finish_reason or "stop")
        if include_usage:
            usage = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model.id,
                "choices": [],
                "usage": _usage(last),
            }
            yield f"data: {json.dumps(usage)}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)
