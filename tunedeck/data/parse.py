"""Turn one decoded JSON record of a known format into an `Example`, reporting every structural problem.

Structure only (types, roles, fields); whether an example is useful for training is `checks.py`'s job.
A record with a problem that leaves no usable example returns None with its issues.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tunedeck.data.formats import DatasetFormat
from tunedeck.data.issues import Code, Issue, issue
from tunedeck.data.model import Example, Message, Role

Parsed = tuple[Example | None, list[Issue]]

_OPENAI_ROLES = frozenset({"system", "user", "assistant", "tool"})
_FAST_ROLES = frozenset({"system", "user", "assistant"})
_VERTEX_ROLES: dict[str, Role] = {"user": "user", "model": "assistant"}
_VERTEX_OTHER_PARTS = frozenset({"functionCall", "functionResponse", "inlineData", "fileData"})


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__.replace("dict", "object").replace("str", "string")


def _openai_content(content: Any) -> tuple[str, list[dict[str, Any]]] | str:
    """(text, non-text parts) or a sentence saying what is wrong with the content."""
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        return f"content is {_type_name(content)}; give a string or a list of parts"
    texts: list[str] = []
    others: list[dict[str, Any]] = []
    for index, part in enumerate(content, 1):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            return f"content part {index} is not an object with a `type`"
        if part["type"] == "text":
            if not isinstance(part.get("text"), str):
                return f"content part {index} has type text but no string `text`"
            texts.append(part["text"])
        else:
            others.append(part)
    return "".join(texts), others


def parse_openai(record: dict[str, Any], line: int) -> Parsed:
    problems: list[Issue] = []
    messages = record.get("messages")
    if messages is None:
        return None, [issue(line, Code.MISSING_MESSAGES, 'No `messages` field; each line needs {"messages": [...]}.')]
    if not isinstance(messages, list):
        return None, [issue(line, Code.MESSAGES_NOT_LIST, f"`messages` is {_type_name(messages)}; make it a list.")]
    if not messages:
        return None, [issue(line, Code.EMPTY_CONVERSATION, "`messages` is empty; add the conversation's turns.")]
    system: str | None = None
    turns: list[Message] = []
    for index, raw in enumerate(messages, 1):
        if type(raw) is dict and len(raw) == 2:
            content = raw.get("content")
            if type(content) is str:
                role = raw.get("role")
                if role in _FAST_ROLES:
                    # The common case, {"role", "content": str}, skips the field-by-field checks below.
                    if role == "system" and not turns and system is None:
                        system = content
                    else:
                        turns.append(Message(role, content))
                    continue
        where = f"Message {index}"
        if not isinstance(raw, dict):
            problems.append(issue(line, Code.MESSAGE_NOT_OBJECT, f"{where} is {_type_name(raw)}; make it an object."))
            continue
        role = raw.get("role")
        if role is None:
            problems.append(issue(line, Code.MISSING_ROLE, f"{where} has no `role`; use system, user or assistant."))
            continue
        if role not in _OPENAI_ROLES:
            hint = " (OpenAI calls it `assistant`)" if role == "model" else ""
            problems.append(
                issue(line, Code.UNKNOWN_ROLE, f"{where} has role {role!r}{hint}; use system, user, assistant or tool.")
            )
            continue
        tool_calls = raw.get("tool_calls")
        content = raw.get("content")
        others: list[dict[str, Any]] = []
        if content is None and role == "assistant" and tool_calls:
            text, is_null = "", True
        else:
            parsed = _openai_content(content)
            if isinstance(parsed, str):
                missing = "content" not in raw
                detail = "has no `content`" if missing else parsed
                problems.append(issue(line, Code.CONTENT_WRONG_TYPE, f"{where} ({role}) {detail}."))
                continue
            (text, others), is_null = parsed, False
        name = raw.get("name")
        if name is not None and not isinstance(name, str):
            problems.append(issue(line, Code.FIELD_WRONG_TYPE, f"{where}: `name` is {_type_name(name)}; use a string."))
            name = None
        weight = raw.get("weight")
        if weight is not None and (type(weight) is not int or weight not in (0, 1) or role != "assistant"):
            problems.append(
                issue(line, Code.BAD_WEIGHT, f"{where}: `weight` must be 0 or 1 and only on assistant messages.")
            )
            weight = None
        if tool_calls is not None and (
            not isinstance(tool_calls, list) or not all(isinstance(c, dict) for c in tool_calls) or role != "assistant"
        ):
            problems.append(
                issue(
                    line, Code.BAD_TOOL_CALLS, f"{where}: `tool_calls` must be a list of objects on an assistant turn."
                )
            )
            tool_calls = None
        call_id = raw.get("tool_call_id")
        if role == "system" and not turns and system is None:
            system = text
            continue
        turns.append(
            Message(
                role=role,
                content=text,
                name=name,
                weight=weight,
                tool_calls=tool_calls,
                tool_call_id=call_id if isinstance(call_id, str) else None,
                other_parts=others,
                content_is_null=is_null,
            )
        )
    tools = record.get("tools")
    if tools is not None and (not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools)):
        problems.append(issue(line, Code.BAD_TOOLS, "`tools` must be a list of tool definitions (objects)."))
        tools = None
    return Example(system=system, messages=turns, tools=tools), problems


def _vertex_parts(parts: Any) -> tuple[str, list[dict[str, Any]]] | str:
    if not isinstance(parts, list) or not parts:
        return f'`parts` is {_type_name(parts) if parts is not None else "missing"}; give a list like [{{"text": ...}}]'
    texts: list[str] = []
    others: list[dict[str, Any]] = []
    for index, part in enumerate(parts, 1):
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif isinstance(part, dict) and _VERTEX_OTHER_PARTS & part.keys():
            others.append(part)
        else:
            return f"part {index} has no string `text`"
    return "".join(texts), others


def parse_vertex(record: dict[str, Any], line: int) -> Parsed:
    problems: list[Issue] = []
    system: str | None = None
    instruction = record.get("systemInstruction")
    if instruction is not None:
        parsed = _vertex_parts(instruction.get("parts") if isinstance(instruction, dict) else None)
        if isinstance(parsed, str):
            problems.append(issue(line, Code.FIELD_WRONG_TYPE, f"`systemInstruction`: {parsed}."))
        else:
            system = parsed[0]
    contents = record.get("contents")
    if contents is None:
        problems.append(issue(line, Code.MISSING_MESSAGES, 'No `contents` field; each line needs {"contents": [...]}.'))
        return None, problems
    if not isinstance(contents, list):
        problems.append(issue(line, Code.MESSAGES_NOT_LIST, f"`contents` is {_type_name(contents)}; make it a list."))
        return None, problems
    if not contents:
        problems.append(issue(line, Code.EMPTY_CONVERSATION, "`contents` is empty; add user and model turns."))
        return None, problems
    turns: list[Message] = []
    for index, raw in enumerate(contents, 1):
        where = f"Turn {index}"
        if not isinstance(raw, dict):
            problems.append(issue(line, Code.MESSAGE_NOT_OBJECT, f"{where} is {_type_name(raw)}; make it an object."))
            continue
        role = raw.get("role")
        if role is None:
            problems.append(issue(line, Code.MISSING_ROLE, f"{where} has no `role`; use user or model."))
            continue
        if role not in _VERTEX_ROLES:
            hint = " (Vertex calls it `model`)" if role == "assistant" else ""
            problems.append(issue(line, Code.UNKNOWN_ROLE, f"{where} has role {role!r}{hint}; use user or model."))
            continue
        parsed = _vertex_parts(raw.get("parts"))
        if isinstance(parsed, str):
            problems.append(issue(line, Code.CONTENT_WRONG_TYPE, f"{where} ({role}): {parsed}."))
            continue
        turns.append(Message(role=_VERTEX_ROLES[role], content=parsed[0], other_parts=parsed[1]))
    return Example(system=system, messages=turns), problems


def parse_legacy_chat(record: dict[str, Any], line: int) -> Parsed:
    problems: list[Issue] = []
    messages = record.get("messages")
    if messages is None:
        return None, [issue(line, Code.MISSING_MESSAGES, 'No `messages` field; each line needs {"messages": [...]}.')]
    if not isinstance(messages, list):
        return None, [issue(line, Code.MESSAGES_NOT_LIST, f"`messages` is {_type_name(messages)}; make it a list.")]
    if not messages:
        return None, [issue(line, Code.EMPTY_CONVERSATION, "`messages` is empty; add user and model turns.")]
    context = record.get("context")
    if context is not None and not isinstance(context, str):
        problems.append(issue(line, Code.FIELD_WRONG_TYPE, f"`context` is {_type_name(context)}; use a string."))
        context = None
    turns: list[Message] = []
    for index, raw in enumerate(messages, 1):
        where = f"Message {index}"
        if not isinstance(raw, dict):
            problems.append(issue(line, Code.MESSAGE_NOT_OBJECT, f"{where} is {_type_name(raw)}; make it an object."))
            continue
        author = raw.get("author")
        if author is None:
            problems.append(issue(line, Code.MISSING_ROLE, f"{where} has no `author`; use user or model."))
            continue
        if author not in _VERTEX_ROLES:
            problems.append(issue(line, Code.UNKNOWN_ROLE, f"{where} has author {author!r}; use user or model."))
            continue
        content = raw.get("content")
        if not isinstance(content, str):
            problems.append(issue(line, Code.CONTENT_WRONG_TYPE, f"{where}: `content` is {_type_name(content)}."))
            continue
        turns.append(Message(role=_VERTEX_ROLES[author], content=content))
    return Example(system=context, messages=turns), problems


def parse_instruction(record: dict[str, Any], line: int) -> Parsed:
    keys = ("prompt", "completion") if "prompt" in record or "completion" in record else ("input_text", "output_text")
    values: list[str] = []
    problems: list[Issue] = []
    for key in keys:
        value = record.get(key)
        if value is None:
            problems.append(
                issue(
                    line,
                    Code.MISSING_MESSAGES,
                    f"No `{key}` field; instruction records need both `{keys[0]}` and `{keys[1]}`.",
                )
            )
        elif not isinstance(value, str):
            problems.append(issue(line, Code.CONTENT_WRONG_TYPE, f"`{key}` is {_type_name(value)}; use a string."))
        else:
            values.append(value)
    if problems:
        return None, problems
    return Example(system=None, messages=[Message("user", values[0]), Message("assistant", values[1])]), []


PARSERS: dict[DatasetFormat, Callable[[dict[str, Any], int], Parsed]] = {
    DatasetFormat.OPENAI_CHAT: parse_openai,
    DatasetFormat.VERTEX: parse_vertex,
    DatasetFormat.GEMINI_LEGACY_CHAT: parse_legacy_chat,
    DatasetFormat.INSTRUCTION: parse_instruction,
}
