"""Property-based fuzzing of `tunedeck data validate | stats | convert | split` through the real CLI entry.

Hypothesis writes datasets mixing valid examples with hostile lines (broken and truncated JSON, non-objects,
wrong types, lone surrogates as JSON escapes, NUL and invalid UTF-8 bytes, huge fields, CRLF, a BOM, CSV
quoting quirks) and checks, for every run:
- never a traceback, and the exit code is in the README's set for the command;
- outputs appear only where asked (no temp files, no output at all when nothing was writable);
- what the commands claim holds: counts match the files written, a lossless conversion converts back to
  the same examples, a split is deterministic and never puts an example on both sides.
"""

from __future__ import annotations

import json
import string
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.data.helpers import run_cli
from tests.fuzz.conftest import FUZZ
from tunedeck.data.reader import iter_examples

# -- strategies ----------------------------------------------------------------------------------------

# Every code point, lone surrogates included (Hypothesis leaves category Cs out unless asked).
ANY_CHAR = st.characters(codec=None, categories=None, exclude_categories=())
ODD_TEXT = st.text(
    alphabet=st.one_of(ANY_CHAR, st.sampled_from(["\u0000", "\u2028", "\ufeff", "\U0001f5a5", "\r", "\n", '"', ","])),
    max_size=40,
)
SAFE_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)
HUGE_TEXT = st.builds(lambda piece, n: piece * n, st.sampled_from(["a", "é", "🖥️", "\\", " "]), st.integers(1, 60_000))


def _chat(system: str | None, user: str, assistant: str) -> dict[str, Any]:
    messages = [] if system is None else [{"role": "system", "content": system}]
    return {"messages": [*messages, {"role": "user", "content": user}, {"role": "assistant", "content": assistant}]}


VALID_CHAT = st.builds(_chat, st.none() | SAFE_TEXT, SAFE_TEXT, st.one_of(SAFE_TEXT, HUGE_TEXT))
ODD_CHAT = st.builds(_chat, st.none() | ODD_TEXT, ODD_TEXT, ODD_TEXT)
WRONG_SHAPES = st.sampled_from(
    [
        {"messages": "hello"},
        {"messages": []},
        {"messages": [{"role": "user"}]},
        {"messages": [{"role": 5, "content": "x"}]},
        {"messages": [{"role": "wizard", "content": "x"}]},
        {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
        {"messages": [{"role": "user", "content": None}, {"role": "assistant", "content": {"a": 1}}]},
        {"contents": [{"role": "model", "parts": "nope"}]},
        {"input_text": 3, "output_text": None},
        {"prompt": "p"},
        {},
    ]
)


def _json_line(value: Any) -> bytes:
    # ensure_ascii writes lone surrogates as \udXXX escapes: exactly what a hostile file contains.
    return json.dumps(value, ensure_ascii=True).encode()


def _truncated(value: dict[str, Any], cut: int) -> bytes:
    line = _json_line(value)
    return line[: max(1, min(cut, len(line) - 1))]


GOOD_LINE = VALID_CHAT.map(_json_line)
BAD_LINE = st.one_of(
    ODD_CHAT.map(_json_line),
    WRONG_SHAPES.map(_json_line),
    st.builds(_truncated, VALID_CHAT, st.integers(1, 200)),
    st.sampled_from([b"", b"   ", b"[1, 2]", b"42", b'"text"', b"null", b"{", b'{"messages": [}']),
    st.binary(max_size=60).filter(lambda b: b"\n" not in b),
    st.just(b'{"messages": [{"role": "user", "content": "\\ud800"}, {"role": "assistant", "content": "x"}]}'),
    st.just(b'{"messages": [{"role": "user", "content": "a\x00b"}, {"role": "assistant", "content": "x"}]}'),
    st.just(b"\xff\xfe\x00{not utf-8}"),
)


@st.composite
def jsonl_files(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.one_of(GOOD_LINE, GOOD_LINE, BAD_LINE), max_size=14))
    ending = draw(st.sampled_from([b"\n", b"\r\n"]))
    body = ending.join(lines) + (ending if lines and draw(st.booleans()) else b"")
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + body


CSV_HEADERS = st.sampled_from(
    ["input_text,output_text", "prompt,completion", "system,user,assistant", "user,assistant", "q,a", ""]
)
CSV_FIELD = st.one_of(
    st.text(alphabet=string.ascii_letters + " ,\"'\r\n\t;é🖥️", max_size=20),
    SAFE_TEXT,
)


def _csv_field(text: str, quote: bool) -> str:
    return '"' + text.replace('"', '""') + '"' if quote or any(c in text for c in ',"\r\n') else text


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    header = draw(CSV_HEADERS)
    rows = []
    for _ in range(draw(st.integers(0, 10))):
        fields = draw(st.lists(CSV_FIELD, min_size=1, max_size=4))
        raw = draw(st.booleans())  # sometimes leave quoting broken on purpose
        rows.append(",".join(f if raw else _csv_field(f, draw(st.booleans())) for f in fields))
    text = "\n".join([header, *rows]) + "\n"
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + text.encode("utf-8", "surrogatepass")


DATASETS = st.one_of(
    jsonl_files().map(lambda content: (content, "data.jsonl")),
    jsonl_files().map(lambda content: (content, "data.jsonl")),
    csv_files().map(lambda content: (content, "data.csv")),
)


# -- helpers -------------------------------------------------------------------------------------------


def _in_a_fresh_dir(content: bytes, name: str, check: Callable[[Path, Path], None]) -> None:
    with tempfile.TemporaryDirectory(prefix="tunedeck-fuzz-") as folder:
        root = Path(folder)
        source = root / name
        source.write_bytes(content)
        check(root, source)


def _no_traceback(err: str) -> None:
    assert "Traceback" not in err and "internal error" not in err, err


def _files(root: Path) -> set[str]:
    return {p.name for p in root.iterdir()}


def _examples(path: Path) -> list[Any]:
    return [r.example.to_openai_messages() for r in iter_examples(path) if r.example is not None and not r.has_error]


# -- properties ----------------------------------------------------------------------------------------


@FUZZ
@given(dataset=DATASETS, provider=st.sampled_from(["openai", "local"]))
def test_validate_never_crashes_and_writes_nothing(dataset: tuple[bytes, str], provider: str) -> None:
    def check(root: Path, source: Path) -> None:
        code, out, err = run_cli("data", "validate", source, "--provider", provider, "--json")
        _no_traceback(err)
        assert code in (0, 1)
        report = json.loads(out)
        assert report["ok"] is (code == 0) is (report["n_errors"] == 0)
        assert report["n_errors"] + report["n_warnings"] == sum(report["counts"].values())
        code, _, err = run_cli("data", "stats", source)
        _no_traceback(err)
        assert code in (0, 1)
        assert _files(root) == {source.name}

    _in_a_fresh_dir(*dataset, check)


@FUZZ
@given(dataset=DATASETS, to=st.sampled_from(["openai-chat", "vertex", "gemini-legacy-chat", "instruction", "csv"]))
def test_convert_writes_whole_files_or_nothing(dataset: tuple[bytes, str], to: str) -> None:
    def check(root: Path, source: Path) -> None:
        target = root / ("out.csv" if to == "csv" else "out.jsonl")
        code, out, err = run_cli("data", "convert", source, target, "--to", to, "--json")
        _no_traceback(err)
        assert code in (0, 1)
        result = json.loads(out)
        if "error" in result:  # nothing writable: an error document, and no file
            assert result["error"]["code"] == code == 1 and _files(root) == {source.name}
            return
        assert _files(root) == {source.name, target.name}
        assert code == (1 if result["input_errors"] else 0)
        assert result["n_written"] >= 1 and result["n_written"] + result["n_skipped"] == result["n_read"]
        written = list(iter_examples(target))
        assert len([r for r in written if not r.header and not r.blank]) == result["n_written"]
        assert all(r.example is not None for r in written if not r.header and not r.blank)
        # Writing again needs --force; with it the same bytes come out.
        first = target.read_bytes()
        assert run_cli("data", "convert", source, target, "--to", to)[0] == 2 and target.read_bytes() == first
        assert run_cli("data", "convert", source, target, "--to", to, "--force")[0] == code
        assert target.read_bytes() == first

    _in_a_fresh_dir(*dataset, check)


@FUZZ
@given(examples=st.lists(VALID_CHAT, min_size=1, max_size=8), via=st.sampled_from(["vertex", "gemini-legacy-chat"]))
def test_a_lossless_round_trip_gives_back_the_same_examples(examples: list[dict[str, Any]], via: str) -> None:
    content = b"\n".join(_json_line(e) for e in examples) + b"\n"

    def check(root: Path, source: Path) -> None:
        code, out, err = run_cli("data", "convert", source, root / "mid.jsonl", "--to", via, "--json")
        _no_traceback(err)
        result = json.loads(out)
        assert code == 0 and result["n_written"] == len(examples)
        code, out, err = run_cli("data", "convert", root / "mid.jsonl", root / "back.jsonl", "--to", "openai-chat")
        assert code == 0, err
        if not result["notes"]:  # the conversion claimed to lose nothing: hold it to that
            assert _examples(root / "back.jsonl") == _examples(source)

    _in_a_fresh_dir(content, "data.jsonl", check)


@FUZZ
@given(dataset=DATASETS, seed=st.integers(0, 2**31), share=st.floats(0.05, 0.95))
def test_split_is_deterministic_and_never_leaks_across(dataset: tuple[bytes, str], seed: int, share: float) -> None:
    def check(root: Path, source: Path) -> None:
        args = ("data", "split", source, "--validation", f"{share:.3f}", "--seed", str(seed))
        code, out, err = run_cli(*args, "--json")
        _no_traceback(err)
        assert code in (0, 1)
        stem, suffix = source.stem, source.suffix
        outputs = {f"{stem}.train{suffix}", f"{stem}.validation{suffix}"}
        result = json.loads(out)
        if "error" in result:
            assert result["error"]["code"] == code == 1 and _files(root) == {source.name}
            return
        assert _files(root) == {source.name, *outputs}
        train, held_out = root / f"{stem}.train{suffix}", root / f"{stem}.validation{suffix}"
        usable = _examples(source)
        train_examples, held_examples = _examples(train), _examples(held_out)
        assert len(train_examples) == result["n_train"] >= 1 and len(held_examples) == result["n_validation"]
        assert sorted(map(repr, train_examples + held_examples)) == sorted(map(repr, usable))
        assert not {repr(e) for e in train_examples} & {repr(e) for e in held_examples}
        before = train.read_bytes(), held_out.read_bytes()
        assert run_cli(*args, "--force")[0] == code
        assert (train.read_bytes(), held_out.read_bytes()) == before

    _in_a_fresh_dir(*dataset, check)


@pytest.mark.fuzz_long
@FUZZ
@given(lines=st.lists(st.one_of(GOOD_LINE, BAD_LINE, HUGE_TEXT.map(str.encode)), min_size=50, max_size=400))
def test_long_files_with_everything_mixed(lines: list[bytes]) -> None:
    content = b"\n".join(lines) + b"\n"

    def check(root: Path, source: Path) -> None:
        for args in (("validate", source), ("convert", source, root / "o.csv", "--to", "csv"), ("split", source)):
            code, _, err = run_cli("data", *args)
            _no_traceback(err)
            assert code in (0, 1)

    _in_a_fresh_dir(content, "data.jsonl", check)
