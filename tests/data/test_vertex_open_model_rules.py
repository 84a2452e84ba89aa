"""`data validate --provider vertex --model <open model>` checks the shape open-model tuning reads (turn-based chat
`messages`, ending on the assistant's reply), not Gemini's `contents`; Gemini models keep their own rules."""

from __future__ import annotations

import json
from pathlib import Path

from tests.data.helpers import chat, good_file, run_cli, write_lines
from tunedeck.data.convert import convert_file
from tunedeck.data.formats import DatasetFormat
from tunedeck.data.rules import is_vertex_open_model, rules_for
from tunedeck.data.validate import validate_file

LLAMA = "meta/llama3_1@llama-3.1-8b-instruct"


def test_open_model_ids_get_the_chat_rules_and_gemini_keeps_its_own() -> None:
    assert is_vertex_open_model(LLAMA) and is_vertex_open_model("google/gemma3@gemma-3-1b-it")
    for gemini in ("gemini-2.5-flash", "projects/p/locations/l/models/5@1", None, ""):
        assert not is_vertex_open_model(gemini), gemini
    assert rules_for("vertex", LLAMA).native_format is DatasetFormat.OPENAI_CHAT
    assert rules_for("vertex", "gemini-2.5-flash").native_format is DatasetFormat.VERTEX
    assert rules_for("openai", LLAMA).native_format is DatasetFormat.OPENAI_CHAT  # only Vertex reads the id


def test_a_chat_file_passes_for_an_open_model_and_is_refused_for_gemini(tmp_path: Path) -> None:
    path = good_file(tmp_path / "chat.jsonl", n=12)
    report = validate_file(path, "vertex", LLAMA)
    assert report.ok, report.errors
    assert report.format == "openai-chat" and report.model == LLAMA
    assert "open model's own tokenizer" in report.stats.token_method
    refused = validate_file(path, "vertex", "gemini-2.5-flash")
    assert not refused.ok and [e.code for e in refused.errors] == ["format-not-accepted"]


def test_a_file_in_geminis_format_is_accepted_too(tmp_path: Path) -> None:
    # tunedeck converts it to chat before upload (providers/vertex/open_models.chat_dataset).
    source = good_file(tmp_path / "chat.jsonl", n=12)
    gemini = tmp_path / "gemini.jsonl"
    convert_file(source, gemini, DatasetFormat.VERTEX)
    report = validate_file(gemini, "vertex", LLAMA)
    assert report.ok and report.format == "vertex", report.errors


def test_an_example_must_end_on_the_assistants_reply(tmp_path: Path) -> None:
    rows = [chat(i) for i in range(12)]
    rows[3]["messages"].append({"role": "user", "content": "and then?"})
    report = validate_file(write_lines(tmp_path / "d.jsonl", rows), "vertex", LLAMA)
    (error,) = report.errors
    assert (error.line, error.code) == (4, "bad-final-turn") and "assistant turn" in error.message


def test_the_cli_applies_the_open_model_rules(tmp_path: Path) -> None:
    path = good_file(tmp_path / "chat.jsonl", n=12)
    code, out, _ = run_cli("data", "validate", path, "--provider", "vertex", "--model", LLAMA, "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    code, out, _ = run_cli("data", "validate", path, "--provider", "vertex", "--json")
    assert code == 1 and json.loads(out)["errors"][0]["code"] == "format-not-accepted"
