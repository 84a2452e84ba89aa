"""Every error code and warning of `validate_file`, each at the line where it belongs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.data.helpers import SYSTEM, chat, good_file, write_lines
from tunedeck.data.issues import WARNING_CODES, Code
from tunedeck.data.validate import validate_file
from tunedeck.errors import UnreadableInputError
from tunedeck.events import ProgressAdvanced

U = {"role": "user", "content": "Hi"}
A = {"role": "assistant", "content": "Hello!"}
S = {"role": "system", "content": SYSTEM}

# (code, bad line placed after 12 good ones (so it is line 13), provider)
LINE_CASES: list[tuple[Code, Any, str]] = [
    (Code.INVALID_JSON, '{"messages": [', "openai"),
    (Code.INVALID_UTF8, b'{"messages": [{"role": "user", "content": "caf\xe9"}]}', "openai"),
    (Code.NOT_AN_OBJECT, "[1, 2, 3]", "openai"),
    (Code.MISSING_MESSAGES, {"prompt_text": "x"}, "openai"),
    (Code.MESSAGES_NOT_LIST, {"messages": "hello"}, "openai"),
    (Code.MESSAGE_NOT_OBJECT, {"messages": [S, "hi", A]}, "openai"),
    (Code.EMPTY_CONVERSATION, {"messages": []}, "openai"),
    (Code.EMPTY_CONVERSATION, {"messages": [S]}, "openai"),
    (Code.MISSING_ROLE, {"messages": [S, {"content": "hi"}, A]}, "openai"),
    (Code.UNKNOWN_ROLE, {"messages": [S, U, {"role": "model", "content": "x"}]}, "openai"),
    (Code.CONTENT_WRONG_TYPE, {"messages": [S, {"role": "user", "content": 42}, A]}, "openai"),
    (Code.CONTENT_WRONG_TYPE, {"messages": [S, {"role": "user"}, A]}, "openai"),
    (Code.CONTENT_WRONG_TYPE, {"messages": [S, {"role": "user", "content": [{"text": "x"}]}, A]}, "openai"),
    (Code.CONTENT_EMPTY, {"messages": [S, {"role": "user", "content": "  "}, A]}, "openai"),
    (Code.CONTENT_EMPTY, {"messages": [{"role": "system", "content": ""}, U, A]}, "openai"),
    (Code.FIELD_WRONG_TYPE, {"messages": [S, {"role": "user", "content": "x", "name": 3}, A]}, "openai"),
    (Code.BAD_WEIGHT, {"messages": [S, U, {"role": "assistant", "content": "x", "weight": 0.5}]}, "openai"),
    (Code.BAD_WEIGHT, {"messages": [S, {"role": "user", "content": "x", "weight": 1}, A]}, "openai"),
    (Code.BAD_TOOL_CALLS, {"messages": [S, U, {"role": "assistant", "content": "x", "tool_calls": "f()"}]}, "openai"),
    (Code.BAD_TOOLS, {"messages": [S, U, A], "tools": {"name": "f"}}, "openai"),
    (Code.NO_LEARNABLE_TURN, {"messages": [S, U]}, "openai"),
    (Code.NO_LEARNABLE_TURN, {"messages": [S, U, {"role": "assistant", "content": "x", "weight": 0}]}, "openai"),
    (
        Code.SYSTEM_MID_CONVERSATION,
        {"messages": [S, U, A, {"role": "system", "content": "Now be rude."}, U, A]},
        "openai",
    ),
    (Code.BLANK_LINE, "   ", "openai"),
    (Code.DUPLICATE_EXAMPLE, chat(3), "openai"),
    (Code.MISSING_SYSTEM, {"messages": [U, A]}, "openai"),
    (Code.MISSING_USER, {"messages": [S, A]}, "openai"),
    (Code.DEGENERATE_REPETITION, {"messages": [S, U, {"role": "assistant", "content": "I am sorry. " * 40}]}, "openai"),
]


@pytest.mark.parametrize(
    ("code", "bad", "provider"), LINE_CASES, ids=[f"{c[0].value}-{i}" for i, c in enumerate(LINE_CASES)]
)
def test_each_problem_is_reported_at_its_line(tmp_path: Path, code: Code, bad: Any, provider: str) -> None:
    path = write_lines(tmp_path / "data.jsonl", [chat(i) for i in range(12)] + [bad] + [chat(99)])
    report = validate_file(path, provider=provider)
    found = [p for p in report.errors + report.warnings if p.code == code.value]
    assert found, [p.model_dump() for p in report.errors + report.warnings]
    assert found[0].line == 13
    assert found[0].severity == ("warning" if code in WARNING_CODES else "error")
    assert found[0].message.endswith(".")
    # The line after the bad one is still checked: one bad line never stops the scan.
    assert report.stats.n_examples >= 13
    assert report.ok == (code in WARNING_CODES)


VERTEX_GOOD = {
    "systemInstruction": {"parts": [{"text": SYSTEM}]},
    "contents": [{"role": "user", "parts": [{"text": "Hi"}]}, {"role": "model", "parts": [{"text": "Hello"}]}],
}


def vertex(i: int) -> dict[str, Any]:
    record = dict(VERTEX_GOOD)
    record["contents"] = [
        {"role": "user", "parts": [{"text": f"Hi {i}"}]},
        {"role": "model", "parts": [{"text": f"Hello {i}"}]},
    ]
    return record


@pytest.mark.parametrize(
    ("code", "bad"),
    [
        (
            Code.BAD_FINAL_TURN,
            {
                "contents": [
                    {"role": "user", "parts": [{"text": "a"}]},
                    {"role": "model", "parts": [{"text": "b"}]},
                    {"role": "user", "parts": [{"text": "c"}]},
                ]
            },
        ),
        (
            Code.UNKNOWN_ROLE,
            {"contents": [{"role": "user", "parts": [{"text": "a"}]}, {"role": "assistant", "parts": [{"text": "b"}]}]},
        ),
        (Code.MISSING_MESSAGES, {"systemInstruction": {"parts": [{"text": "x"}]}}),
        (
            Code.CONTENT_WRONG_TYPE,
            {"contents": [{"role": "user", "parts": "a"}, {"role": "model", "parts": [{"text": "b"}]}]},
        ),
        (Code.NO_LEARNABLE_TURN, {"contents": [{"role": "user", "parts": [{"text": "a"}]}]}),
        (Code.FIELD_WRONG_TYPE, {"systemInstruction": "be nice", "contents": VERTEX_GOOD["contents"]}),
    ],
)
def test_vertex_rules(tmp_path: Path, code: Code, bad: dict[str, Any]) -> None:
    path = write_lines(tmp_path / "v.jsonl", [vertex(i) for i in range(5)] + [bad])
    report = validate_file(path, provider="vertex")
    assert any(p.code == code.value and p.line == 6 for p in report.errors + report.warnings), report.errors


def test_vertex_clean_file_passes_with_estimate_label(tmp_path: Path) -> None:
    report = validate_file(write_lines(tmp_path / "v.jsonl", [vertex(i) for i in range(5)]), provider="vertex")
    assert report.ok, report.errors
    assert report.stats.tokens_are_estimate
    assert "estimate" in report.stats.token_method
    assert report.stats.auto_epochs is None and report.stats.epochs == 3


def test_file_level_rules(tmp_path: Path) -> None:
    few = validate_file(good_file(tmp_path / "few.jsonl", n=3))
    assert [(p.code, p.line) for p in few.errors] == [(Code.TOO_FEW_EXAMPLES.value, None)]
    enough = validate_file(good_file(tmp_path / "ok.jsonl", n=12))
    assert enough.ok and [p.code for p in enough.warnings] == [Code.FEW_EXAMPLES.value]
    many = validate_file(good_file(tmp_path / "many.jsonl", n=100))
    assert many.ok and many.warnings == []
    assert validate_file(good_file(tmp_path / "one.jsonl", n=1), provider="local").ok
    # A validation set is not held to the training-set size rules.
    held_out = validate_file(good_file(tmp_path / "held.jsonl", n=3), validation_set=True)
    assert held_out.ok and held_out.warnings == []
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert [p.code for p in validate_file(empty).errors] == [Code.TOO_FEW_EXAMPLES.value]


def test_format_not_accepted_by_provider(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "v.jsonl", [vertex(i) for i in range(12)])
    report = validate_file(path, provider="openai")
    assert [p.code for p in report.errors] == [Code.FORMAT_NOT_ACCEPTED.value]
    assert "tunedeck data convert" in report.errors[0].message
    assert validate_file(path, provider="local").ok  # the local backend reads every format


def test_inconsistent_system_prompts(tmp_path: Path) -> None:
    lines = [chat(i) for i in range(10)] + [chat(10, system="You are a pirate.")]
    report = validate_file(write_lines(tmp_path / "d.jsonl", lines))
    found = [p for p in report.warnings if p.code == Code.INCONSISTENT_SYSTEM_PROMPT.value]
    assert len(found) == 1 and found[0].line == 11
    assert report.stats.distinct_system_prompts == 2


def test_over_token_limit_local(tmp_path: Path) -> None:
    long_text = " ".join(f"token{i}" for i in range(1500))
    lines = [
        chat(0),
        {"messages": [{"role": "user", "content": "Summarise"}, {"role": "assistant", "content": long_text}]},
    ]
    report = validate_file(write_lines(tmp_path / "d.jsonl", lines), provider="local")
    over = [p for p in report.warnings if p.code == Code.OVER_TOKEN_LIMIT.value]
    assert [p.line for p in over] == [2]
    assert report.stats.over_token_limit == 1 and report.stats.token_limit == 2048
    assert report.stats.billable_tokens < report.stats.total_tokens  # billed up to the limit only


def test_validation_overlap(tmp_path: Path) -> None:
    train = good_file(tmp_path / "train.jsonl", n=12)
    held = write_lines(tmp_path / "val.jsonl", [chat(100), chat(5)])
    report = validate_file(train, validation_path=held)
    overlap = [p for p in report.warnings if p.code == Code.VALIDATION_OVERLAP.value]
    assert [p.line for p in overlap] == [6]
    assert "line 2" in overlap[0].message


def test_every_code_is_exercised() -> None:
    covered = {case[0] for case in LINE_CASES} | {
        Code.BAD_FINAL_TURN,
        Code.TOO_FEW_EXAMPLES,
        Code.FEW_EXAMPLES,
        Code.FORMAT_NOT_ACCEPTED,
        Code.INCONSISTENT_SYSTEM_PROMPT,
        Code.OVER_TOKEN_LIMIT,
        Code.VALIDATION_OVERLAP,
        Code.CSV_BAD_HEADER,  # tests/data/test_csv.py
        Code.CSV_COLUMN_COUNT,  # tests/data/test_csv.py
    }
    assert set(Code) - covered == set()


def test_unreadable_files_raise(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInputError):
        validate_file(tmp_path / "missing.jsonl")
    with pytest.raises(UnreadableInputError):
        validate_file(tmp_path)


def test_report_is_complete_on_a_file_of_bad_lines(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bad.jsonl", ["nope"] * 50 + [chat(1)])
    report = validate_file(path)
    assert [p.line for p in report.errors if p.code == "invalid-json"] == list(range(1, 51))
    assert report.counts["invalid-json"] == 50


def test_issue_lists_are_capped_per_code_but_counts_stay_exact(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "d.jsonl", [chat(i, system=None) for i in range(30)])
    report = validate_file(path, provider="local", max_per_code=5)
    assert report.counts["missing-system"] == 30
    assert len([w for w in report.warnings if w.code == "missing-system"]) == 5
    assert report.omitted == {"missing-system": 25}
    assert validate_file(path, provider="local", max_per_code=None).omitted == {}


def test_progress_is_reported_in_bytes(tmp_path: Path) -> None:
    path = good_file(tmp_path / "d.jsonl", n=2100)
    seen: list[ProgressAdvanced] = []

    def sink(progress: ProgressAdvanced) -> None:
        seen.append(progress)

    validate_file(path, progress=sink)
    assert len(seen) >= 2
    assert seen[-1].done == seen[-1].total == path.stat().st_size
    assert all(p.unit == "B" for p in seen)
