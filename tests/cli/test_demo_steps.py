"""The demo's pure steps, without training (the end-to-end run is in test_demo.py, marked slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunedeck.demo import read_prompts
from tunedeck.errors import UnreadableInputError, UsageError


def test_read_prompts_skips_blank_lines_and_keeps_the_first_n(tmp_path: Path) -> None:
    path = tmp_path / "prompts.txt"
    path.write_text("  one \n\ntwo\nthree\n", encoding="utf-8")
    assert read_prompts(path, 2) == ["one", "two"]


def test_read_prompts_missing_or_empty_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInputError, match="does not exist"):
        read_prompts(tmp_path / "nope.txt", 4)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n", encoding="utf-8")
    with pytest.raises(UsageError, match="holds no prompts"):
        read_prompts(empty, 4)
