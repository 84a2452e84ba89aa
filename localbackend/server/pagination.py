"""OpenAI's list envelope: `{"object": "list", "data": [...], "has_more", "first_id", "last_id"}`."""

from __future__ import annotations

from typing import Any

from localbackend.server.errors import bad_request


def check_limit(limit: int, maximum: int = 100) -> int:
    if limit < 1 or limit > maximum:
        raise bad_request(f"Invalid 'limit': must be between 1 and {maximum}, got {limit}.", param="limit")
    return limit


def list_page(data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "has_more": has_more,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }
