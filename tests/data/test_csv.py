"""CSV quirks: quoted commas, multi-line fields, BOM, header layouts, wrong column counts, bad bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunedeck.data.convert import convert_file
from tunedeck.data.formats import DatasetFormat, detect_format
from tunedeck.data.reader import iter_examples, load_conversations
from tunedeck.data.validate import validate_file
from tunedeck.errors import TunedeckError


def write(tmp_path: Path, text: str | bytes, name: str = "d.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_quoted_commas_multiline_fields_and_bom(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '\ufeffSystem,User,Assistant\r\nBe brief.,"Hello, world","Line one\r\nline two"\r\n,"He said ""hi""",ok\r\n',
    )
    assert detect_format(path) == DatasetFormat.CSV
    records = [r for r in iter_examples(path) if r.example is not None]
    assert [r.line for r in records] == [2, 4]  # the second record starts after a two-line field
    first, second = (r.example for r in records)
    assert first is not None and second is not None
    assert first.system == "Be brief." and first.messages[0].content == "Hello, world"
    assert first.messages[1].content == "Line one\r\nline two"
    assert second.system is None and second.messages[0].content == 'He said "hi"'


def test_instruction_headers(tmp_path: Path) -> None:
    path = write(tmp_path, "output_text,input_text\nanswer,question\n")
    assert load_conversations(path) == [
        [{"role": "user", "content": "question"}, {"role": "assistant", "content": "answer"}]
    ]
    path = write(tmp_path, "prompt,completion\nq,a\n", "p.csv")
    assert load_conversations(path)[0][1]["content"] == "a"


def test_wrong_column_count_reports_start_line_and_continues(tmp_path: Path) -> None:
    path = write(tmp_path, 'input_text,output_text\nq1,a1\n"multi\nline",a2,extra\nq3\n\nq4,a4\n')
    report = validate_file(path, provider="local")
    bad = [(p.line, p.code) for p in report.errors]
    assert bad == [(3, "csv-column-count"), (5, "csv-column-count")]
    assert [(p.line, p.code) for p in report.warnings if p.code == "blank-line"] == [(6, "blank-line")]
    assert report.stats.n_valid_examples == 2


def test_bad_header(tmp_path: Path) -> None:
    report = validate_file(write(tmp_path, "question,answer\nq,a\n"), provider="local")
    # The file-level problem carries no line (line 1 is the header's own problem) and is listed after the lines.
    assert [(p.line, p.code) for p in report.errors] == [(1, "csv-bad-header"), (None, "too-few-examples")]


def test_invalid_utf8_in_csv_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = write(tmp_path, b"input_text,output_text\nq1,a1\ncaf\xe9,a2\nq3,a3\n")
    report = validate_file(path, provider="local")
    assert [(p.line, p.code) for p in report.errors] == [(3, "invalid-utf8")]
    assert report.stats.n_valid_examples == 2


def test_csv_is_not_accepted_by_openai_directly(tmp_path: Path) -> None:
    report = validate_file(write(tmp_path, "input_text,output_text\nq,a\n"))
    assert "format-not-accepted" in report.counts


def test_convert_reports_an_unreadable_header_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(TunedeckError, match="no usable example") as caught:
        convert_file(write(tmp_path, "question,answer\nq,a\n"), tmp_path / "out.jsonl", "openai-chat")
    assert caught.value.exit_code == 1 and "names no known columns" in caught.value.hint
    assert not (tmp_path / "out.jsonl").exists()
