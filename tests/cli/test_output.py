"""The one error path (`tunedeck.cli.errorpath`): human errors on stderr, `--json` errors on stdout for every
command, usage errors with exit 2, Ctrl-C with exit 4, and bugs as one line plus a crash log — never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from tests.data.helpers import run_cli
from tunedeck.cli.errorpath import json_requested
from tunedeck.cli.output import report_error
from tunedeck.errors import TunedeckError, UsageError


def test_report_error_prints_title_and_hint_verbatim(capsys: pytest.CaptureFixture[str]) -> None:
    # Titles quote user text; rich would swallow "[datasets/]" as markup if it were not escaped.
    report_error(TunedeckError("No file at gs://b/[datasets/]x.jsonl.", "Check [infra] bucket."))
    err = capsys.readouterr().err
    assert "error: No file at gs://b/[datasets/]x.jsonl." in err
    assert "hint: Check [infra] bucket." in err


def test_report_error_as_json_writes_the_document_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    report_error(UsageError("Bad [thing].", "Do that."), as_json=True)
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"error": {"title": "Bad [thing].", "hint": "Do that.", "code": 2}}
    assert "Bad [thing]." in captured.err


def test_json_requested_stops_at_double_dash() -> None:
    assert json_requested(["data", "stats", "x", "--json"])
    assert not json_requested(["chat", "--message", "x", "--", "--json"])


def _leaf_commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        found += _leaf_commands(command, path) if hasattr(command, "commands") else [path]
    return found


def _commands() -> list[tuple[str, ...]]:
    from tunedeck.cli.main import app

    return _leaf_commands(typer.main.get_command(app))


def test_the_command_tree_is_walked() -> None:
    names = {" ".join(path) for path in _commands()}
    assert {"data convert", "jobs submit", "endpoints teardown", "serve", "infra plan", "profile chat"} <= names


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_command_answers_usage_errors_as_json(command: tuple[str, ...]) -> None:
    code, out, err = run_cli(*command, "--json", "--no-such-option-here")
    assert code == 2
    document = json.loads(out)
    assert document["error"]["code"] == 2 and document["error"]["title"].startswith("No such option: --")
    assert "--help" in document["error"]["hint"]
    assert "Traceback" not in err


def test_usage_errors_without_json_keep_typers_panel() -> None:
    code, out, err = run_cli("serve", "--port", "70000")
    assert code == 2 and out == ""
    assert "--port" in err and "65535" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ("serve", "--port", "70000"),
        ("serve", "--port", "-1"),
        ("serve", "--max-upload-mb", "-5"),
        ("serve", "--max-upload-mb", "0"),
        ("serve", "--idle-unload", "-1"),
        ("serve", "--log-level", "loud"),
        ("endpoints", "teardown", "x", "--provider", "bogus"),
        ("endpoints", "list", "--provider", "bogus"),
    ],
    ids=" ".join,
)
def test_out_of_range_options_are_usage_errors(args: tuple[str, ...]) -> None:
    code, out, err = run_cli(*args)
    flat = " ".join(err.split())
    assert code == 2 and out == ""
    assert f"Invalid value for '{args[-2]}'" in flat
    assert "Traceback" not in err and "OverflowError" not in err


def test_teardown_checks_the_provider_before_asking(isolated_home: Path) -> None:
    # The provider is checked while parsing: nothing is opened, listed or asked first.
    code, out, err = run_cli("endpoints", "teardown", "ep-1", "--provider", "bogus", "--json")
    assert code == 2 and "bogus" in json.loads(out)["error"]["title"]
    assert "Tear down" not in err
    assert not (isolated_home / "data" / "tunedeck.db").exists()


def _boom(*_args: object, **_kwargs: object) -> None:
    raise ValueError("boom with sk-proj-abcdefghijklmnopqrstuvwx1234 inside")


def test_an_unexpected_exception_is_one_line_and_a_crash_log(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tunedeck.data.validate as validate_module

    monkeypatch.setattr(validate_module, "validate_file", _boom)
    dataset = isolated_home.parent / "d.jsonl"
    dataset.write_text("{}\n")
    code, out, err = run_cli("data", "stats", dataset)
    assert code == 1 and out == ""
    assert "Traceback" not in err and "internal error (ValueError" in err and "TUNEDECK_DEBUG=1" in err
    logs = list((isolated_home / "data" / "logs").glob("crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err
    text = logs[0].read_text()
    assert "Traceback" in text and "_boom" in text
    assert "sk-proj-" not in text and "sk-proj-" not in err  # the log is redacted like every other output
    assert logs[0].stat().st_mode & 0o077 == 0


def test_an_unexpected_exception_under_json_is_an_error_document(monkeypatch: pytest.MonkeyPatch) -> None:
    import tunedeck.data.validate as validate_module

    monkeypatch.setattr(validate_module, "validate_file", _boom)
    code, out, _ = run_cli("data", "stats", "whatever.jsonl", "--json")
    error = json.loads(out)["error"]
    assert code == 1 and error["code"] == 1 and error["title"].startswith("internal error (ValueError")


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import tunedeck.data.validate as validate_module

    monkeypatch.setattr(validate_module, "validate_file", _boom)
    monkeypatch.setenv("TUNEDECK_DEBUG", "1")
    code, _, err = run_cli("data", "stats", "whatever.jsonl")
    assert code == 1 and "Traceback" in err and "_boom" in err


def _interrupt(*_args: object, **_kwargs: object) -> None:
    raise KeyboardInterrupt


def test_ctrl_c_anywhere_exits_4(monkeypatch: pytest.MonkeyPatch) -> None:
    import tunedeck.data.validate as validate_module

    monkeypatch.setattr(validate_module, "validate_file", _interrupt)
    code, out, err = run_cli("data", "validate", "x.jsonl", "--json")
    assert code == 4 and json.loads(out)["error"]["code"] == 4 and "Interrupted" in err


def test_console_script_path_in_a_subprocess(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.jsonl"
    run = subprocess.run(
        [sys.executable, "-m", "tunedeck", "data", "stats", str(missing), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert json.loads(run.stdout)["error"]["code"] == 2 and "does not exist" in run.stdout
    assert "Traceback" not in run.stderr
