"""Write a normalized `Example` in each JSONL format, naming whatever the target format cannot hold."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tunedeck.data.formats import DatasetFormat
from tunedeck.data.model import Example, Message

# Note codes → what they mean to the user; convert reports each with a count and sample lines.
NOTES: dict[str, str] = {
    "weight-dropped": "`weight` on assistant messages (the target format has no per-message weights)",
    "name-dropped": "`name` on messages",
    "tool-calls-dropped": "assistant `tool_calls`",
    "tool-messages-dropped": "`tool` result messages",
    "tools-dropped": "`tools` definitions",
    "non-text-parts-dropped": "non-text content parts (images, function calls, files)",
    "system-dropped": "the system prompt (the target format has no place for it)",
    "mid-system-dropped": "system messages after the first turn",
    "multi-turn-skipped": "whole examples that are not one user turn and one reply (skipped)",
}

Written = tuple[dict[str, Any] | None, set[str]]


def _lossy_turn(message: Message, notes: set[str], keep_parts: bool) -> None:
    if message.weight is not None:
        notes.add("weight-dropped")
    if message.name is not None:
        notes.add("name-dropped")
    if message.tool_calls:
        notes.add("tool-calls-dropped")
    if message.other_parts and not keep_parts:
        notes.add("non-text-parts-dropped")


def _gemini_turns(example: Example, notes: set[str]) -> list[Message]:
    """The turns a user/model format can carry; the rest are noted."""
    kept: list[Message] = []
    for message in example.messages:
        if message.role == "tool":
            notes.add("tool-messages-dropped")
        elif message.role == "system":
            notes.add("mid-system-dropped")
        elif message.tool_calls and not message.content and not message.other_parts:
            notes.add("tool-calls-dropped")  # a turn that only called tools has nothing left to say
        else:
            kept.append(message)
    if example.tools:
        notes.add("tools-dropped")
    return kept


def to_openai(example: Example) -> Written:
    notes: set[str] = set()
    if any(part for m in example.messages for part in m.other_parts if "type" not in part):
        notes.add("non-text-parts-dropped")
    record: dict[str, Any] = {"messages": example.to_openai_messages()}
    if example.tools:
        record["tools"] = example.tools
    return record, notes


def to_vertex(example: Example) -> Written:
    notes: set[str] = set()
    contents = []
    for message in _gemini_turns(example, notes):
        # Vertex's own parts (function calls) go back as they came; OpenAI's image parts cannot.
        vertex_parts = [part for part in message.other_parts if "type" not in part]
        _lossy_turn(message, notes, keep_parts=len(vertex_parts) == len(message.other_parts))
        parts: list[dict[str, Any]] = [{"text": message.content}] if message.content or not vertex_parts else []
        contents.append({"role": "model" if message.role == "assistant" else "user", "parts": parts + vertex_parts})
    record: dict[str, Any] = {}
    if example.system is not None:
        record["systemInstruction"] = {"parts": [{"text": example.system}]}
    record["contents"] = contents
    return record, notes


def to_legacy_chat(example: Example) -> Written:
    notes: set[str] = set()
    messages = []
    for message in _gemini_turns(example, notes):
        _lossy_turn(message, notes, keep_parts=False)
        messages.append({"author": "model" if message.role == "assistant" else "user", "content": message.content})
    record: dict[str, Any] = {}
    if example.system is not None:
        record["context"] = example.system
    record["messages"] = messages
    return record, notes


def to_instruction(example: Example) -> Written:
    if example.roles() != ["user", "assistant"]:
        return None, {"multi-turn-skipped"}
    notes: set[str] = set()
    if example.system is not None:
        notes.add("system-dropped")
    if example.tools:
        notes.add("tools-dropped")
    for message in example.messages:
        _lossy_turn(message, notes, keep_parts=False)
    return {"input_text": example.messages[0].content, "output_text": example.messages[1].content}, notes


JSONL_WRITERS: dict[DatasetFormat, Callable[[Example], Written]] = {
    DatasetFormat.OPENAI_CHAT: to_openai,
    DatasetFormat.VERTEX: to_vertex,
    DatasetFormat.GEMINI_LEGACY_CHAT: to_legacy_chat,
    DatasetFormat.INSTRUCTION: to_instruction,
}


def csv_row_notes(example: Example) -> set[str]:
    """What a (system, user, assistant) CSV row loses beyond the text."""
    notes: set[str] = set()
    if example.tools:
        notes.add("tools-dropped")
    for message in example.messages:
        _lossy_turn(message, notes, keep_parts=False)
    return notes
