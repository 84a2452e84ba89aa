"""ASGI guards in front of every route: the bearer-token check and request-size limits.

Pure ASGI (not BaseHTTPMiddleware) so streamed responses pass through untouched.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from localbackend.server.errors import APIError, error_body

# Paths that answer without a token: liveness checks must work before a client has its key.
_OPEN_PATHS = {"/health"}


async def _send_error(scope: Scope, send: Send, status: int, message: str, code: str | None) -> None:
    body = json.dumps(error_body(scope.get("path", ""), status, message, None, code)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _presented_key(scope: Scope) -> str | None:
    headers = {name.lower(): value for name, value in scope.get("headers", [])}
    authorization = headers.get(b"authorization", b"").decode("latin-1")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    api_key = headers.get(b"x-api-key")  # what the Anthropic SDK sends
    return api_key.decode("latin-1").strip() if api_key else None


class AuthGuard:
    """Requires `Authorization: Bearer KEY` (or Anthropic's `x-api-key`) when the server has a key."""

    def __init__(self, app: ASGIApp, api_key: str | None) -> None:
        self.app = app
        self._key = api_key.encode() if api_key else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._key is None or scope.get("path") in _OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        presented = _presented_key(scope)
        if presented is None:
            await _send_error(
                scope,
                send,
                401,
                "You didn't provide an API key. Send it as 'Authorization: Bearer KEY'.",
                "missing_api_key",
            )
            return
        if not hmac.compare_digest(presented.encode(), self._key):
            # Never echo the presented key back: it may be a real key meant for another service.
            await _send_error(scope, send, 401, "Incorrect API key provided.", "invalid_api_key")
            return
        await self.app(scope, receive, send)


class SizeGuard:
    """Rejects bodies over the limit with a 413: early from Content-Length, else while the body streams in."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    def _limit(self, scope: Scope) -> tuple[int, str]:
        if scope.get("path", "").rstrip("/") == "/v1/files":
            return self.max_upload_bytes, "upload"
        return self.max_body_bytes, "request body"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, what = self._limit(scope)
        message = f"The {what} is too large: the limit is {limit} bytes."
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _drain_and_reject(scope, receive, send, message)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            msg: dict[str, Any] = dict(await receive())
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise APIError(413, message, code="request_too_large")
            return msg

        await self.app(scope, counting_receive, send)


async def _drain_and_reject(scope: Scope, receive: Receive, send: Send, message: str) -> None:
    # Read and discard the body first: answering mid-upload makes HTTP clients see a reset connection
    # (and retry) instead of the 413. Nothing is kept, so memory stays flat however much arrives.
    while True:
        msg = await receive()
        if msg["type"] != "http.request" or not msg.get("more_body", False):
            break
    await _send_error(scope, send, 413, message, "request_too_large")
