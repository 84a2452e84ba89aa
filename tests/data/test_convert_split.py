"""Conversion round trips and notes, deterministic duplicate-safe splits, and atomic, input-safe writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.data.helpers import chat, good_file, write_lines
from tests.data.test_formats import OPENAI_FULL
from tunedeck.data import convert as convert_module
from tunedeck.data.convert import convert_file
from tunedeck.data.formats import DatasetFormat
from tunedeck.data.model import Example
from tunedeck.data.reader import load_conversations
from tunedeck.data.split import split_file
from tunedeck.data.writers import Written
from tunedeck.errors import UsageError

TRICKY_TEXT = 'Ünïcödé "quotes", commas,\nnewlines\r\n\ttabs and trailing spaces  '


def texts(path: Path) -> list[list[tuple[str, str]]]:
    return [[(m["role"], m["content"]) for m in conv] for conv in load_conversations(path)]


def test_openai_vertex_openai_round_trip_is_exact(tmp_path: Path) -> None:
    source = write_lines(
        tmp_path / "in.jsonl",
        [chat(i) for i in range(5)]
        + [
            {
                "messages": [
                    {"role": "system", "content": TRICKY_TEXT},
                    {"role": "user", "content": TRICKY_TEXT},
                    {"role": "assistant", "content": TRICKY_TEXT},
                ]
            }
        ]
        + [
            {
                "messages": [
                    {"role": "user", "content": "a"},
                    {"role": "assistant", "content": "b"},
                    {"role": "user", "content": "c"},
                    {"role": "assistant", "content": "d"},
                ]
            }
        ],
    )
    vertex = convert_file(source, tmp_path / "v.jsonl", "vertex")
    assert vertex.n_written == 7 and vertex.lossless
    first = json.loads((tmp_path / "v.jsonl").read_text().splitlines()[0])
    assert first["systemInstruction"] == {"parts": [{"text": chat(0)["messages"][0]["content"]}]}
    assert [c["role"] for c in first["contents"]] == ["user", "model"]
    back = convert_file(tmp_path / "v.jsonl", tmp_path / "back.jsonl", "openai-chat")
    assert back.lossless
    assert (tmp_path / "back.jsonl").read_bytes().splitlines() == [
        json.dumps(json.loads(line), separators=(",", ":"), ensure_ascii=False).encode()
        for line in source.read_bytes().splitlines()
    ]


@pytest.mark.parametrize("to", ["vertex", "gemini-legacy-chat", "instruction", "csv", "openai-chat"])
def test_every_format_round_trips_single_turn_text(tmp_path: Path, to: str) -> None:
    rows = [
        {"messages": [{"role": "user", "content": TRICKY_TEXT + str(i)}, {"role": "assistant", "content": f"r{i}"}]}
        for i in range(3)
    ]
    source = write_lines(tmp_path / "in.jsonl", rows)
    middle = tmp_path / ("mid.csv" if to == "csv" else "mid.jsonl")
    assert convert_file(source, middle, to).n_written == 3
    convert_file(middle, tmp_path / "out.jsonl", "openai-chat")
    assert texts(tmp_path / "out.jsonl") == texts(source)


def test_lossy_conversions_are_reported(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.jsonl", [OPENAI_FULL, chat(1)])
    result = convert_file(source, tmp_path / "v.jsonl", "vertex")
    codes = {note.code: note for note in result.notes}
    assert {"weight-dropped", "name-dropped", "tool-calls-dropped", "tool-messages-dropped", "tools-dropped"} <= set(
        codes
    )
    assert codes["weight-dropped"].lines == [1] and codes["weight-dropped"].count == 1
    instruction = convert_file(source, tmp_path / "i.jsonl", "instruction")
    skipped = {note.code: note for note in instruction.notes}
    assert skipped["multi-turn-skipped"].lines == [1]
    assert "system-dropped" in skipped
    assert instruction.n_written == 1 and instruction.n_skipped == 1


def test_convert_reports_broken_input_records(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.jsonl", [chat(1), "broken", chat(2)])
    result = convert_file(source, tmp_path / "out.jsonl", "vertex")
    assert result.n_written == 2 and [e.line for e in result.input_errors] == [2]


def test_convert_refuses_to_overwrite_input(tmp_path: Path) -> None:
    source = good_file(tmp_path / "in.jsonl")
    before = source.read_bytes()
    with pytest.raises(UsageError):
        convert_file(source, source, "vertex")
    with pytest.raises(UsageError):
        convert_file(source, tmp_path / "." / "in.jsonl", "vertex")
    assert source.read_bytes() == before


def test_failure_mid_write_leaves_no_file_and_the_input_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = good_file(tmp_path / "in.jsonl", n=50)
    before = source.read_bytes()
    target = tmp_path / "out.jsonl"
    target.write_text("previous content")
    calls = {"n": 0}
    real = convert_module.JSONL_WRITERS[DatasetFormat.VERTEX]

    def flaky(example: Example) -> Written:
        calls["n"] += 1
        if calls["n"] == 30:
            raise RuntimeError("disk full")
        return real(example)

    monkeypatch.setitem(convert_module.JSONL_WRITERS, DatasetFormat.VERTEX, flaky)
    with pytest.raises(RuntimeError):
        convert_file(source, target, "vertex", overwrite=True)
    assert target.read_text() == "previous content"  # the old file survives untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]  # no temp file left
    assert source.read_bytes() == before


def test_split_is_deterministic_and_keeps_duplicates_together(tmp_path: Path) -> None:
    rows = [chat(i) for i in range(200)] + [chat(7)] * 5 + ["", "broken"]
    source = write_lines(tmp_path / "data.jsonl", rows)
    first = split_file(source, validation=0.1, seed=42)
    assert first.train_path.endswith("data.train.jsonl") and first.validation_path.endswith("data.validation.jsonl")
    train1 = Path(first.train_path).read_bytes()
    val1 = Path(first.validation_path).read_bytes()
    assert first.n_train + first.n_validation == 205 and first.duplicates == 5
    assert 19 <= first.n_validation <= 26
    assert [issue.line for issue in first.skipped] == [207]
    again = split_file(source, validation=0.1, seed=42, overwrite=True)
    assert (Path(again.train_path).read_bytes(), Path(again.validation_path).read_bytes()) == (train1, val1)
    other = split_file(source, 0.1, 43, tmp_path / "t.jsonl", tmp_path / "v.jsonl")
    assert Path(other.validation_path).read_bytes() != val1
    train_lines, val_lines = set(train1.splitlines()), set(val1.splitlines())
    assert not train_lines & val_lines
    dup = json.dumps(chat(7)).encode()
    assert (dup in train_lines) != (dup in val_lines)


def test_split_csv_keeps_header_and_raw_records(tmp_path: Path) -> None:
    body = "".join(f'"q{i},\nmore",a{i}\n' for i in range(20))
    source = tmp_path / "d.csv"
    source.write_text("input_text,output_text\n" + body)
    result = split_file(source, validation=0.25, seed=1)
    train, val = Path(result.train_path), Path(result.validation_path)
    assert train.name == "d.train.csv" and val.name == "d.validation.csv"
    assert train.read_text().startswith("input_text,output_text\n") and val.read_text().startswith(
        "input_text,output_text\n"
    )
    assert len(load_conversations(train)) + len(load_conversations(val)) == 20
    assert result.n_validation == 5


def test_split_guards(tmp_path: Path) -> None:
    source = good_file(tmp_path / "d.jsonl")
    with pytest.raises(UsageError):
        split_file(source, validation=1.5)
    with pytest.raises(UsageError):
        split_file(source, train_out=source)
    with pytest.raises(UsageError):
        split_file(source, train_out=tmp_path / "x.jsonl", validation_out=tmp_path / "x.jsonl")
