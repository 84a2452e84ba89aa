"""The server's edge: every string a request carries is checked before a route sees it.

A lone surrogate (`"\\ud800"` in JSON) is valid JSON but not valid Unicode: it can be stored, yet never encoded
again, so one such job made every later job listing fail. NUL breaks SQLite's JSON paths and C-string APIs. Both
are refused with a 400 naming the field, in JSON bodies (keys and values, at any depth), query strings, path
parameters and form fields, so nothing reaches a route, the database or the tokenizer. `NaN`/`Infinity`, which
Python's parser accepts but JSON does not have, are refused too.

Rows stored before this check existed still render (`errors.SafeJSONResponse`), so they can be listed and cancelled.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from localbackend.server.errors import bad_request


def string_problem(text: str) -> str | None:
    """Why `text` cannot be accepted, or None. Cheap for the usual ASCII text."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000)"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "contains a lone surrogate (an unpaired \\ud800-\\udfff escape), which is not valid Unicode"
    return None


def check_text(text: str, param: str) -> None:
    problem = string_problem(text)
    if problem is not None:
        raise bad_request(f"Invalid value for '{param}': the text {problem}.", param=param)


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def check_json(value: Any) -> None:
    """Reject the first bad string in a parsed JSON document, naming where it is (`messages[0].content`).

    Iterative, so a deeply nested document cannot exhaust the stack here."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            check_text(item, path or "body")
        elif isinstance(item, dict):
            for key, child in item.items():
                if (problem := string_problem(key)) is not None:
                    param = path or "body"
                    raise bad_request(f"Invalid key in '{param}': the key {problem}.", param=param)
                stack.append((child, _child(path, key)))
        elif isinstance(item, list):
            stack.extend((child, _child(path, index)) for index, child in enumerate(item))


def _refuse_constant(name: str) -> Any:
    raise bad_request(f"We could not parse the JSON body of your request: {name} is not a JSON value.")


class CheckedRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), parse_constant=_refuse_constant)
            check_json(self._json)
        return self._json


def check_request_strings(request: Request) -> None:
    """Query parameters and path parameters: percent-decoding can yield NUL (never a lone surrogate)."""
    for name, value in request.query_params.multi_items():
        check_text(name, name)
        check_text(value, name)
    for name, value in request.path_params.items():
        if isinstance(value, str):
            check_text(value, name)


class EdgeRoute(APIRoute):
    """The route class of every router: strings are checked before FastAPI parses or validates anything."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            check_request_strings(request)
            return await handler(CheckedRequest(request.scope, request.receive))

        return checked
