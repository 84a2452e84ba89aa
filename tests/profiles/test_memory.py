"""Remembered facts: append and forget atomically, keep the user's comments, never lose a concurrent write."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tunedeck.errors import UsageError
from tunedeck.profiles.memory import all_facts, forget, memory_file, read_facts, remember
from tunedeck.profiles.schema import Memory, Profile
from tunedeck.settings import Settings


def test_remember_then_forget_by_number_and_text(tmp_path: Path) -> None:
    path = tmp_path / "facts.txt"
    assert remember(path, "I use a Mac") == ["I use a Mac"]
    assert remember(path, "  My desk is\n on floor 2 ") == ["I use a Mac", "My desk is on floor 2"]
    assert remember(path, "I use a Mac") == ["I use a Mac", "My desk is on floor 2"]  # no duplicates
    removed, left = forget(path, "1")
    assert (removed, left) == ("I use a Mac", ["My desk is on floor 2"])
    removed, left = forget(path, "my desk is on FLOOR 2")
    assert left == [] and read_facts(path) == []
    assert not list(tmp_path.glob(".facts.txt.*.tmp"))  # the atomic writer left nothing behind


def test_edits_keep_comments_and_markdown_bullets(tmp_path: Path) -> None:
    path = tmp_path / "facts.md"
    path.write_text("# My facts\n- Prefers short answers\n\n# Work\n- Team: finance\n", encoding="utf-8")
    assert read_facts(path) == ["Prefers short answers", "Team: finance"]
    remember(path, "Works Fridays from home")
    forget(path, "short answers")  # a unique substring is enough
    assert path.read_text(encoding="utf-8") == "# My facts\n\n# Work\n- Team: finance\nWorks Fridays from home\n"


def test_forget_errors_are_clear(tmp_path: Path) -> None:
    path = tmp_path / "facts.txt"
    remember(path, "uses Teams")
    remember(path, "uses Zoom")
    with pytest.raises(UsageError, match="2 facts contain"):
        forget(path, "uses")
    with pytest.raises(UsageError, match="No stored fact"):
        forget(path, "Slack")
    with pytest.raises(UsageError, match="empty"):
        remember(path, "   ")


def test_concurrent_remembers_all_survive(tmp_path: Path) -> None:
    path = tmp_path / "facts.txt"
    code = "import sys; from pathlib import Path; from tunedeck.profiles.memory import remember\n"
    code += "for i in range(15): remember(Path(sys.argv[1]), f'{sys.argv[2]}-{i}')"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), f"w{n}"]) for n in range(4)]
    assert [proc.wait(timeout=60) for proc in procs] == [0, 0, 0, 0]
    assert sorted(read_facts(path)) == sorted(f"w{n}-{i}" for n in range(4) for i in range(15))


def test_default_file_is_in_data_dir_and_inline_facts_come_first(settings: Settings, tmp_path: Path) -> None:
    profile = Profile(name="p", provider="openai", model="m", memory=Memory(facts=["inline fact"]))
    path = memory_file(profile, settings)
    assert path == settings.data_dir / "profiles" / "memory" / "p.txt"
    remember(path, "stored fact")
    remember(path, "inline fact")
    assert all_facts(profile, settings) == ["inline fact", "stored fact"]
    custom = Profile.model_validate(
        {"name": "p", "provider": "openai", "model": "m", "memory": {"file": "mem.txt"}}, context={"base_dir": tmp_path}
    )
    assert memory_file(custom, settings) == tmp_path / "mem.txt"
