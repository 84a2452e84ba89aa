"""Issue 11's "done when": the README's first screen (after `make demo` / `make test`) is the path formats →
validate → estimate → try locally → compare → price on the clouds → tear down, every command in it exists with
the options it uses, and every dataset example in "Dataset formats" is valid in the format it is named for."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from tests.cli.test_jobs_cli import run
from tests.conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
STEPS = ["0 formats", "1 validate", "2 estimate", "3 try locally", "4 compare", "5 price on the clouds", "6 tear down"]


def first_use_block() -> str:
    return README.split("```sh\n", 1)[1].split("```", 1)[0]


def commands() -> list[list[str]]:
    joined = first_use_block().replace("\\\n", " ")
    return [shlex.split(line.split("#", 1)[0]) for line in joined.splitlines() if line.startswith("tunedeck ")]


def test_the_first_screen_is_the_path_below_make_demo_and_make_test() -> None:
    lines = [line for line in README.splitlines() if line.strip()]
    assert lines[1].startswith("`make demo`") and lines[2].startswith("`make test`")
    screen = "\n".join(README.splitlines()[:30])
    assert "```sh" in screen
    positions = [screen.find(f"# {step}") for step in STEPS]
    assert -1 not in positions and positions == sorted(positions), dict(zip(STEPS, positions, strict=True))


@pytest.mark.parametrize("argv", commands(), ids=lambda argv: " ".join(argv[1:4]))
def test_every_command_of_the_path_exists_with_its_options(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    words = [w for w in argv[1:] if not w.startswith("-")]
    group_and_command = words[:2]
    code, out, err = run(*group_and_command, "--help")
    assert code == 0, err
    for option in (w for w in argv if w.startswith("-")):
        assert re.search(rf"(^|[\s,│]){re.escape(option)}([\s,]|$)", out, re.M), f"{option} not in {argv[1:3]} help"


def format_examples() -> dict[str, str]:
    section = README.split("## Dataset formats", 1)[1].split("\n## ", 1)[0]
    found: dict[str, str] = {}
    for line in section.splitlines():
        match = re.match(r"\| `([a-z-]+)` \| `(\{.*?\})` ", line)
        if match:
            found[match.group(1)] = match.group(2)
        elif line.startswith("| `csv` |"):
            header, row = re.findall(r"`(system,user,assistant)` then `(.+?)` \|", line)[0]
            found["csv"] = f"{header}\n{row}\n"
    return found


def test_every_dataset_example_is_valid_in_its_format(tmp_path: Path) -> None:
    examples = format_examples()
    assert set(examples) == {"openai-chat", "vertex", "gemini-legacy-chat", "instruction", "csv"}
    for name, text in examples.items():
        path = tmp_path / (f"{name}.csv" if name == "csv" else f"{name}.jsonl")
        path.write_text(text if name == "csv" else text + "\n", encoding="utf-8")
        code, out, err = run("data", "validate", str(path), "--provider", "local", "--json")
        report = json.loads(out)
        assert code == 0 and report["format"] == name and report["n_errors"] == 0, (name, err)
        assert report["stats"]["n_valid_examples"] == 1
