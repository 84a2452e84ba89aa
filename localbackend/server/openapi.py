"""The server's OpenAPI document (`/openapi.json`) as the server really answers, for clients and the fuzz suite.

FastAPI documents a 422 with its own validation-error body on every route; this server answers 400 and every
other client error in OpenAI's error shape (Anthropic's under /v1/messages), streams chat as server-sent events
and serves file content as bytes. `install_openapi` rewrites the generated document to say exactly that.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

_NULLABLE_STRING = {"anyOf": [{"type": "string"}, {"type": "null"}]}
ERROR_SCHEMAS: dict[str, Any] = {
    "ErrorResponse": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message", "type", "param", "code"],
                "properties": {
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                    "param": _NULLABLE_STRING,
                    "code": _NULLABLE_STRING,
                },
            }
        },
    },
    "AnthropicErrorResponse": {
        "type": "object",
        "required": ["type", "error"],
        "properties": {
            "type": {"type": "string", "enum": ["error"]},
            "error": {
                "type": "object",
                "required": ["type", "message"],
                "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
_STREAMING = {"/v1/chat/completions", "/v1/messages"}


def _integral_bounds(node: Any) -> None:
    # FastAPI's OpenAPI models hold bounds as floats (`maximum: 50.0` on an integer): put whole numbers back.
    if isinstance(node, dict):
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            value = node.get(key)
            if isinstance(value, float) and value.is_integer() and node.get("type") == "integer":
                node[key] = int(value)
        for child in node.values():
            _integral_bounds(child)
    elif isinstance(node, list):
        for child in node:
            _integral_bounds(child)


def describe(document: dict[str, Any]) -> dict[str, Any]:
    """Rewrite FastAPI's generated document in place (and return it)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(ERROR_SCHEMAS)
    for path, operations in document.get("paths", {}).items():
        error = "AnthropicErrorResponse" if path.startswith("/v1/messages") else "ErrorResponse"
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            ok = responses.setdefault("200", {"description": "Successful Response"})
            if path in _STREAMING:
                ok.setdefault("content", {})["text/event-stream"] = {"schema": {"type": "string"}}
            if path.endswith("/content"):
                ok["content"] = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
            if path != "/health":
                responses["4XX"] = {
                    "description": "A client error, in the API's error shape",
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{error}"}}},
                }
    _integral_bounds(document)
    return document


def install_openapi(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document
