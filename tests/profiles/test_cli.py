"""The `profile` commands that need no model: list, show, remember/forget, --show-prompt, and error exits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tunedeck.cli.main import app

runner = CliRunner()


@pytest.fixture
def in_project(profile_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(profile_dir)
    return profile_dir


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["profile", *args], catch_exceptions=False)
    return result.exit_code, result.stdout


def test_list_and_show(in_project: Path) -> None:
    code, out = invoke("list", "--json")
    assert code == 0
    assert json.loads(out) == [
        {"name": "helpdesk", "path": str(in_project / "profiles" / "helpdesk.toml"), "origin": "project"}
    ]
    code, out = invoke("show", "helpdesk")
    assert code == 0
    assert "target:    anthropic:claude-test  (layout xml)" in out
    assert "few-shot:  2 × similar from " + str(in_project / "data" / "train.jsonl") in out


def test_remember_show_forget_roundtrip(in_project: Path, isolated_home: Path) -> None:
    assert invoke("remember", "helpdesk", "Prefers [short] answers")[0] == 0
    shown = json.loads(invoke("show", "helpdesk", "--json")[1])
    assert shown["stored_facts"] == ["Prefers [short] answers"]
    assert Path(shown["memory_file"]).is_relative_to(isolated_home)
    assert "   1. Prefers [short] answers" in invoke("show", "helpdesk")[1]
    assert invoke("forget", "helpdesk", "1")[0] == 0
    assert json.loads(invoke("show", "helpdesk", "--json")[1])["stored_facts"] == []


def test_show_prompt_needs_no_model(in_project: Path) -> None:
    invoke("remember", "helpdesk", "Works from the Leeds office")
    code, out = invoke("chat", "helpdesk", "--message", "vpn certificate error", "--show-prompt")
    assert code == 0
    assert out.startswith("=== system ===\n<instructions>\nYou are Byte.")
    assert "<fact>Works from the Leeds office</fact>" in out
    assert "<source>docs/vpn.md#Certificate errors</source>" in out
    assert out.rstrip().endswith("=== user ===\nvpn certificate error")
    code, out = invoke("chat", "helpdesk", "-p", "openai", "--message", "toner", "--show-prompt", "--json")
    data = json.loads(out)
    assert data["layout"] == "markdown" and data["sources"][0]["heading"] == "Toner"
    assert [m["role"] for m in data["chat_messages"]] == ["system", "user", "assistant", "user", "assistant", "user"]


def test_errors_exit_with_usage_codes(in_project: Path) -> None:
    from tunedeck.errors import UsageError

    with pytest.raises(UsageError, match="No profile named"):
        invoke("show", "nope")
    with pytest.raises(UsageError, match="need --message"):
        invoke("chat", "helpdesk", "--json")
    (in_project / "profiles" / "broken.toml").write_text('provider = "x"\nmodel = "m"\ntemprature = 1\n')
    with pytest.raises(UsageError, match=r"broken.toml:3: temprature: unknown setting"):
        invoke("show", "broken")
