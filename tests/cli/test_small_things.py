"""Issue 11, item 12's small things: flags show bare in help (`--json`, not `--json <bool>`), `profile list` with
no profiles prints where it looked, and the base-model list matches the local backend's own id."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from localbackend.basemodel import BASE_MODEL_ID
from tests.cli.test_jobs_cli import run
from tunedeck.costs.base_models import catalog


@pytest.mark.parametrize(
    "command",
    [["jobs", "submit"], ["endpoints", "list"], ["infra", "plan"], ["data", "split"], ["profile", "list"], ["chat"]],
)
def test_flags_show_bare_and_options_keep_their_type(command: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    code, out, _ = run(*command, "--help")
    assert code == 0
    assert re.search(r"--json\s+<bool>", out) is None and re.search(r"--help\s+<bool>", out) is None
    assert re.search(r"--json\s+Write", out)  # the flag, then straight its help
    code, _, err = run(*command, "--json", "true")
    assert code == 2 or "true" in err  # a flag takes no value: `true` is an unexpected argument


def test_options_that_take_a_value_still_show_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    out = run("jobs", "submit", "--help")[1]
    assert re.search(r"--epochs\s+<int range>", out) and re.search(r"--provider\s+-p\s+<str>", out)


def test_profile_list_with_none_prints_the_search_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./profiles or ./examples/profiles here
    code, out, err = run("profile", "list")
    lines = [line.strip() for line in err.splitlines()]
    assert code == 0 and out == "" and lines[0] == "No profiles found in:"
    assert lines[1:] == [
        str(tmp_path / "profiles"),
        str(tmp_path / "examples" / "profiles"),
        str(isolated_home / "config" / "profiles"),
    ]


def test_the_local_base_model_listed_is_the_one_the_backend_tunes() -> None:
    assert catalog()["local"].models == (BASE_MODEL_ID,)
