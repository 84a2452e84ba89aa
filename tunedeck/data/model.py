"""The normalized example every format is read into and written from."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(slots=True)
class Message:
    """One turn. `role` is always the OpenAI vocabulary; readers map `model`/`author` onto it.

    `system` appears here only for a system message that is not the first one; the leading
    system prompt lives on `Example.system`.
    """

    role: Role
    content: str
    name: str | None = None
    weight: int | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    # Non-text parts (images, Vertex function calls) kept verbatim so conversion can report them.
    other_parts: list[dict[str, Any]] = field(default_factory=list)
    # OpenAI allows `content: null` beside tool calls; remembered so it is written back the same way.
    content_is_null: bool = False

    def to_openai(self) -> dict[str, Any]:
        content: Any = None if self.content_is_null else self.content
        # Only OpenAI-style parts (with a `type`) can go back into OpenAI content; others are Vertex's.
        openai_parts = [part for part in self.other_parts if "type" in part]
        if openai_parts:
            content = ([{"type": "text", "text": self.content}] if self.content else []) + openai_parts
        out: dict[str, Any] = {"role": self.role, "content": content}
        if self.name is not None:
            out["name"] = self.name
        if self.weight is not None:
            out["weight"] = self.weight
        if self.tool_calls is not None:
            out["tool_calls"] = self.tool_calls
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        return out


@dataclass(slots=True)
class Example:
    """A training example: an optional system prompt, the turns, and the tools offered."""

    system: str | None
    messages: list[Message]
    tools: list[dict[str, Any]] | None = None

    def to_openai_messages(self) -> list[dict[str, Any]]:
        """The example as OpenAI chat messages, system first when there is one."""
        head = [{"role": "system", "content": self.system}] if self.system is not None else []
        return head + [message.to_openai() for message in self.messages]

    def roles(self) -> list[str]:
        return [message.role for message in self.messages]

    def has_role(self, role: str) -> bool:
        return any(message.role == role for message in self.messages)

    def learnable_turns(self) -> int:
        """Assistant turns the model is trained on (OpenAI skips those with weight 0)."""
        return sum(1 for m in self.messages if m.role == "assistant" and m.weight != 0)

    def digest(self) -> int:
        """A 64-bit fingerprint of the content, equal for equal examples whatever their source format."""
        payload = orjson.dumps(
            (
                self.system,
                [
                    (m.role, m.content, m.name, m.weight, m.tool_calls, m.tool_call_id, m.other_parts or None)
                    for m in self.messages
                ],
                self.tools,
            )
        )
        return int.from_bytes(hashlib.blake2b(payload, digest_size=8).digest(), "big")
