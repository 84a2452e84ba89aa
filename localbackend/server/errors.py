"""Errors as OpenAI's API writes them (`{"error": {message, type, param, code}}`), Anthropic's under /v1/messages.

Every failure leaves the server as one of these: validation errors become 400s, unknown routes 404s and
anything unexpected a 500 with a generic message (the traceback goes to the server log, never the client).
Every JSON answer, error or not, is a `SafeJSONResponse`, which cannot fail to render.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("localbackend.server")

_SURROGATE = re.compile("[\ud800-\udfff]")

# OpenAI's error `type` for each status, and Anthropic's equivalent.
_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    429: "rate_limit_error",
    503: "server_error",
}
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
}


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_scrub(key): _scrub(child) for key, child in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(child) for child in value]
    return value


class SafeJSONResponse(JSONResponse):
    """JSON that always renders: a lone surrogate stored before the edge checked strings (it can't encode as
    UTF-8, so it made every listing that held it a 500) is sent as U+FFFD. The usual path costs nothing extra."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return super().render(_scrub(content))


class APIError(StarletteHTTPException):
    """An error for the client: HTTP status, a message a person can act on, and OpenAI's param/code.

    A Starlette HTTPException so that FastAPI re-raises it untouched when it surfaces while a body is read
    (the size guard raises it from `receive`), instead of wrapping it in a generic 400.
    """

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(400, message, param=param, code=code)


def not_found(message: str, *, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(404, message, param=param, code=code)


def error_body(request_path: str, status: int, message: str, param: str | None, code: str | None) -> dict[str, Any]:
    if request_path.startswith("/v1/messages"):
        kind = _ANTHROPIC_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
        return {"type": "error", "error": {"type": kind, "message": message}}
    kind = _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def error_response(request: Request, error: APIError) -> JSONResponse:
    body = error_body(request.url.path, error.status, error.message, error.param, error.code)
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return SafeJSONResponse(body, status_code=error.status, headers=headers)


# What pydantic puts in an error's location besides field names: the union member that was tried
# ("int", "literal['auto']", "function-after[...]") or a model's class name. Clients need the field alone.
_TYPE_TAGS = {"int", "float", "str", "bool", "none", "list", "dict", "set", "tuple", "bytes"}


def _is_type_tag(part: str) -> bool:
    return part in _TYPE_TAGS or any(c in part for c in "[]'-") or part[:1].isupper()


def param_name(loc: tuple[Any, ...] | list[Any]) -> str | None:
    """`("body", "messages", 0, "content")` → `messages[0].content`, OpenAI's way of naming a parameter."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        elif part in ("body", "query", "path") and not name:
            continue
        elif not _is_type_tag(str(part)):
            name += f".{part}" if name else str(part)
    return name or None


def _describe_validation(exc: RequestValidationError) -> tuple[str, str | None]:
    errors = list(exc.errors())
    first = errors[0] if errors else {}
    param = param_name(first.get("loc", ()))
    kind = first.get("type", "")
    if kind == "json_invalid":
        return "We could not parse the JSON body of your request: it is not valid JSON.", None
    if kind == "missing":
        return f"Missing required parameter: '{param}'.", param
    if kind == "extra_forbidden":
        return f"Unrecognized request argument supplied: {param}", param
    # A union reports one error per member it tried; say them together, once each.
    details: list[str] = []
    for error in errors:
        if param_name(error.get("loc", ())) == param and error.get("msg") not in details:
            details.append(str(error.get("msg", "invalid value")))
    if all(d.startswith("Input should be ") for d in details):
        detail = "must be " + " or ".join(d.removeprefix("Input should be ") for d in details)
    else:
        detail = "; ".join(d.removeprefix("Value error, ") for d in details)
    return (f"Invalid value for '{param}': {detail}." if param else f"Invalid request: {detail}."), param


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, param = _describe_validation(exc)
        return error_response(request, APIError(400, message, param=param))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            message = f"Unknown request URL: {request.method} {request.url.path}."
        elif exc.status_code == 405:
            message = f"Method {request.method} is not allowed on {request.url.path}."
        else:
            message = str(exc.detail)
        return error_response(request, APIError(exc.status_code, message))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            request, APIError(500, "The server had an error while processing your request.", code="server_error")
        )
