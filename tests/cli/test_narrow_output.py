"""Issue 11, item 11: at 80 columns `jobs list` never cuts what users copy (ids, states, dates, model names);
`jobs show` prints metrics as a table, not a Python dict."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from tests.cli.test_jobs_cli import DATASET, MODEL, run
from tests.core.openai_wire import WireState
from tunedeck.cli import jobs as jobs_cli

pytest_plugins = ["tests.cli.test_jobs_cli"]  # its `wire` fixture: a loopback OpenAI stand-in


def column(out: str, header: str, next_header: str | None) -> list[str]:
    """Each row's text in one column, its wrapped lines joined (cut at the header positions)."""
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.lstrip().startswith("id "))
    start = lines[head].index(header)
    end = lines[head].index(next_header) if next_header else None
    rows: list[str] = []
    for line in lines[head + 2 :]:  # below the header's rule
        piece = line[start:end].strip()
        if line[: lines[head].index("state")].strip():  # a new row starts where the id column is filled
            rows.append(piece)
        elif rows:
            rows[-1] += piece
    return rows


@pytest.fixture
def two_jobs(wire: WireState) -> list[dict]:
    code, out, err = run("jobs", "submit", str(DATASET), "-p", "openai", "-m", MODEL, "--yes", "--watch", "--json")
    assert code == 0, err
    done = json.loads(out)
    wire.states = ["running"]
    code, out, _ = run("jobs", "submit", str(DATASET), "-p", "openai", "-m", MODEL, "--yes", "--json", "--suffix", "x")
    return [json.loads(out), done]  # newest first, as listed


def test_jobs_list_at_80_columns_cuts_nothing_users_copy(two_jobs: list[dict], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs_cli, "stdout", Console(width=80))
    code, out, err = run("jobs", "list")
    assert code == 0 and "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert column(out, "id", "state") == [j["id"] for j in two_jobs]
    assert column(out, "state", "created") == [j["display_state"] for j in two_jobs]
    assert column(out, "created", "base model") == [j["created_at"][:16].replace("T", " ") for j in two_jobs]
    assert column(out, "base model", "fine-tuned model") == [MODEL, MODEL]
    assert column(out, "fine-tuned model", None) == ["", f"ft:{MODEL}:tunedeck:ftjob-1"]
    flat = " ".join(err.split())
    assert "provider, est., actual left out to fit 80 columns" in flat and "jobs show ID" in flat


def test_jobs_list_on_a_wide_terminal_shows_every_column(two_jobs: list[dict], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs_cli, "stdout", Console(width=160))
    code, out, err = run("jobs", "list")
    header = next(line for line in out.splitlines() if line.lstrip().startswith("id "))
    words = ["id", "state", "created", "base", "model", "fine-tuned", "model", "provider", "est.", "actual"]
    assert code == 0 and header.split() == words
    assert f"ft:{MODEL}:tunedeck:ftjob-1" in out and "left out" not in err


def test_jobs_show_prints_metrics_as_a_table(two_jobs: list[dict], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs_cli, "stdout", Console(width=80))
    code, out, _ = run("jobs", "show", two_jobs[1]["id"])
    assert code == 0 and "{" not in out and "'step'" not in out
    assert "metrics (last 3 of 3)" in out
    rows = [line.split("│")[1:-1] for line in out.splitlines() if line.startswith("│")]
    assert [[cell.strip() for cell in row] for row in rows] == [
        ["1", "1.0000", "—"],
        ["2", "0.5000", "—"],
        ["3", "0.3333", "—"],
    ]
    assert f"ft:{MODEL}:tunedeck:ftjob-1" in out  # the key/value lines never cut either


def test_jobs_list_narrower_still_stacks_each_job_on_lines(
    two_jobs: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs_cli, "stdout", Console(width=60))
    code, out, _ = run("jobs", "list")
    lines = out.splitlines()
    assert code == 0 and "…" not in out and max(len(line) for line in lines) <= 60
    done = two_jobs[1]
    assert f"{done['id']}  succeeded  {done['created_at'][:16].replace('T', ' ')}" in lines
    assert "fine-tuned model:" in out and f"ft:{MODEL}:tunedeck:ftjob-1" in [line.split(": ")[-1] for line in lines]
