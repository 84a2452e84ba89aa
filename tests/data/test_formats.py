"""Reading every format (JSONL and CSV), format detection, and the normalized Example."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.data.helpers import chat, write_lines
from tunedeck.data.formats import DatasetFormat, detect_format
from tunedeck.data.reader import iter_examples, load_conversations
from tunedeck.data.validate import validate_file
from tunedeck.errors import TunedeckError

OPENAI_FULL = {
    "messages": [
        {"role": "system", "content": "Sys"},
        {"role": "user", "content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}], "name": "ann"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
        {"role": "assistant", "content": "It is 42.", "weight": 1},
    ],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
}


def test_openai_chat_with_every_field(tmp_path: Path) -> None:
    [record] = list(iter_examples(write_lines(tmp_path / "a.jsonl", [OPENAI_FULL])))
    assert record.problems == [] and record.example is not None
    example = record.example
    assert example.system == "Sys"
    assert example.roles() == ["user", "assistant", "tool", "assistant"]
    assert example.messages[0].content == "Hello" and example.messages[0].name == "ann"
    assert example.messages[1].tool_calls and example.messages[1].content_is_null
    assert example.messages[3].weight == 1
    assert example.tools == OPENAI_FULL["tools"]
    back = example.to_openai_messages()
    assert back[0] == {"role": "system", "content": "Sys"}
    assert back[2]["content"] is None and back[3] == {"role": "tool", "content": "42", "tool_call_id": "c1"}


def test_vertex_and_legacy_and_instruction(tmp_path: Path) -> None:
    vertex = {
        "systemInstruction": {"parts": [{"text": "Sys"}]},
        "contents": [
            {"role": "user", "parts": [{"text": "a"}, {"text": "b"}]},
            {"role": "model", "parts": [{"text": "c"}]},
        ],
    }
    legacy = {"context": "Sys", "messages": [{"author": "user", "content": "ab"}, {"author": "model", "content": "c"}]}
    for record, fmt in ((vertex, "vertex"), (legacy, "gemini-legacy-chat")):
        path = write_lines(tmp_path / f"{fmt}.jsonl", [record])
        assert detect_format(path) == DatasetFormat(fmt)
        assert load_conversations(path) == [
            [
                {"role": "system", "content": "Sys"},
                {"role": "user", "content": "ab"},
                {"role": "assistant", "content": "c"},
            ]
        ]
    for keys in (("input_text", "output_text"), ("prompt", "completion")):
        path = write_lines(tmp_path / f"{keys[0]}.jsonl", [{keys[0]: "q", keys[1]: "a"}])
        assert detect_format(path) == DatasetFormat.INSTRUCTION
        assert load_conversations(path) == [[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]]


def test_detection_skips_broken_leading_lines_and_can_be_overridden(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "d.jsonl", ["", "oops", {"input_text": "q", "output_text": "a"}])
    assert detect_format(path) == DatasetFormat.INSTRUCTION
    report = validate_file(path, provider="local", fmt="openai-chat")
    assert report.format == "openai-chat"
    assert any(p.code == "missing-messages" for p in report.errors)


def test_load_conversations_keeps_weights_and_raises_on_errors(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "w.jsonl", [OPENAI_FULL, chat(1)])
    conversations = load_conversations(path)
    assert conversations[0][-1] == {"role": "assistant", "content": "It is 42.", "weight": 1}
    assert conversations[1][0]["role"] == "system"
    bad = write_lines(tmp_path / "bad.jsonl", [chat(1), "not json"])
    with pytest.raises(TunedeckError) as caught:
        load_conversations(bad)
    assert "line 2" in caught.value.title


def test_bom_and_crlf_in_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + b'{"input_text": "q", "output_text": "a"}\r\n{"input_text": "q2", "output_text": "a2"}\r\n'
    )
    records = list(iter_examples(path))
    assert [r.problems for r in records] == [[], []]
    assert records[1].example is not None and records[1].example.messages[0].content == "q2"


def test_digest_ignores_source_format(tmp_path: Path) -> None:
    openai = write_lines(
        tmp_path / "o.jsonl", [{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}]
    )
    instruction = write_lines(tmp_path / "i.jsonl", [{"input_text": "q", "output_text": "a"}])
    [a], [b] = list(iter_examples(openai)), list(iter_examples(instruction))
    assert a.example is not None and b.example is not None
    assert a.example.digest() == b.example.digest()


def test_load_conversations_refuses_examples_with_nothing_to_learn(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "d.jsonl", [chat(1), {"messages": [{"role": "user", "content": "hi"}]}])
    with pytest.raises(TunedeckError) as caught:
        load_conversations(path)
    assert "line 2" in caught.value.title and "assistant" in caught.value.title
