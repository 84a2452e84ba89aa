"""`tunedeck jobs` and `chat` end to end against a loopback OpenAI wire stand-in, through the real adapter."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO_ROOT
from tests.core.openai_wire import WireState, openai_wire
from tunedeck.cli.context import CliState
from tunedeck.cli.main import app
from tunedeck.errors import TunedeckError
from tunedeck.exitcodes import ExitCode
from tunedeck.workspace import Workspace

DATASET = REPO_ROOT / "examples" / "helpdesk.jsonl"
MODEL = "gpt-4o-mini-2024-07-18"


@pytest.fixture
def wire(isolated_home: Path) -> Iterator[WireState]:
    with openai_wire() as state:
        config = isolated_home / "config" / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        openai = f'[openai]\nbase_url = "{state.url}"\nmax_retries = 0\n'
        config.write_text(openai + "[monitor]\ninterval_s = 0.01\nmax_interval_s = 0.02\n")
        yield state


def run(*args: str, workspace: Callable[[], Workspace] | None = None) -> tuple[int, str, str]:
    """Invoke the CLI in-process (with `workspace` making its workspace, as a front end injects one); our errors
    become exit codes as `tunedeck.cli.main.run` makes them."""
    result = CliRunner().invoke(app, list(args), obj=CliState(workspace))
    error = result.exception
    if isinstance(error, TunedeckError):
        return int(error.exit_code), result.stdout, result.stderr + str(error)
    if error and not isinstance(error, SystemExit):
        raise error
    return result.exit_code, result.stdout, result.stderr


def test_submit_watch_list_show_then_chat(wire: WireState) -> None:
    code, out, err = run(
        "jobs", "submit", str(DATASET), "--provider", "openai", "--model", MODEL, "--epochs", "1", "--yes",
        "--watch", "--json",
    )  # fmt: skip
    assert code == ExitCode.OK, err
    job = json.loads(out)
    assert job["state"] == "succeeded" and job["submission"] == "submitted"
    assert job["fine_tuned_model"] == f"ft:{MODEL}:tunedeck:ftjob-1"
    assert job["estimated_cost_usd"] > 0 and job["actual_cost_usd"] > 0
    assert "cost: estimated $" in err
    assert len(wire.creates) == 1 and wire.creates[0]["metadata"]["managed-by"] == "tunedeck"
    assert wire.creates[0]["method"]["supervised"]["hyperparameters"]["n_epochs"] == 1

    code, out, _ = run("jobs", "list", "--json")
    assert code == 0 and [j["id"] for j in json.loads(out)] == [job["id"]]
    code, out, _ = run("jobs", "show", job["provider_job_id"], "--json", "--events")
    shown = json.loads(out)
    assert [c["state"] for c in shown["state_history"]][-1] == "succeeded"
    assert [e["metrics"]["step"] for e in shown["events"] if e["metrics"]] == [1.0, 2.0, 3.0]

    code, out, err = run("chat", "--model", job["fine_tuned_model"], "--message", "How do I reset?")
    assert code == 0, err
    assert out.strip() == "Reset it in Settings."
    assert wire.chats[0]["messages"] == [{"role": "user", "content": "How do I reset?"}]
    code, out, _ = run("chat", "--model", job["fine_tuned_model"], "--message", "again", "--json")
    assert json.loads(out)["reply"] == "Reset it in Settings." and json.loads(out)["completion_tokens"] == 4


def test_same_client_key_resubmitted_creates_no_second_job(wire: WireState) -> None:
    args = ("jobs", "submit", str(DATASET), "-p", "openai", "-m", MODEL, "--yes", "--client-key", "tdk-cli", "--json")
    first = json.loads(run(*args)[1])
    second = json.loads(run(*args)[1])
    assert first["id"] == second["id"] and len(wire.creates) == 1
    # The dataset was uploaded once: the second run found its hash in the store.
    assert sum(1 for _, method, path in wire.requests if method == "POST" and path == "/v1/files") == 1


def test_invalid_dataset_is_refused_before_anything_is_sent(wire: WireState, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n{not json\n')
    code, _, err = run("jobs", "submit", str(bad), "-p", "openai", "-m", MODEL, "--yes")
    assert code == ExitCode.BAD_INPUT and "error" in err
    assert wire.requests == []


def test_without_yes_and_no_terminal_nothing_is_spent(wire: WireState) -> None:
    code, _, err = run("jobs", "submit", str(DATASET), "-p", "openai", "-m", MODEL)
    assert code == ExitCode.USAGE and "--yes" in err
    assert wire.creates == []


def test_failed_job_exits_1_and_cancel(wire: WireState) -> None:
    wire.states = ["validating_files", "running", "failed"]
    code, out, _ = run("jobs", "submit", str(DATASET), "-p", "openai", "-m", MODEL, "--yes", "--watch", "--json")
    assert code == ExitCode.BAD_INPUT and json.loads(out)["state"] == "failed"
    wire.states = ["running"]
    job = json.loads(
        run("jobs", "submit", str(DATASET), "-p", "openai", "-m", MODEL, "--yes", "--json", "--suffix", "b")[1]
    )
    code, out, _ = run("jobs", "cancel", job["id"], "--yes", "--json")
    assert code == 0 and json.loads(out)["state"] == "cancelled"
    code, _, err = run("jobs", "show", "td-nope")
    assert code == ExitCode.USAGE and "No job" in err


def test_bad_validation_file_blocks_submission_and_is_named(wire: WireState, tmp_path: Path) -> None:
    held_out = tmp_path / "held-out.jsonl"
    held_out.write_text("{broken\n")
    code, out, err = run(
        "jobs", "submit", str(DATASET), "-p", "openai", "-m", MODEL, "--validation", str(held_out), "--yes", "--json"
    )
    assert code == ExitCode.BAD_INPUT and "held-out.jsonl:1" in err
    assert json.loads(out)["validation"]["ok"] is False and wire.requests == []


def test_submitting_to_anthropic_points_to_profiles(tmp_path: Path) -> None:
    dataset = tmp_path / "d.jsonl"
    dataset.write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n')
    code, _, err = run("jobs", "submit", str(dataset), "--provider", "anthropic", "--model", "claude-x", "--yes")
    assert code == ExitCode.USAGE
    flat = " ".join(err.split())
    assert "no public fine-tuning API" in flat and "tunedeck profile chat NAME" in flat
