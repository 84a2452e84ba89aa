"""`tunedeck eval` and `profile eval` through the CLI, the real OpenAI adapter and SDK, and a loopback chat wire.

Includes a run killed with SIGKILL mid-way that the same command then finishes without asking again what the
killed run had recorded.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_jobs_cli import run
from tests.conftest import REPO_ROOT
from tests.evaluation.chat_wire import Wire, chat_wire
from tests.evaluation.conftest import question_of, trait_responder
from tunedeck.exitcodes import ExitCode

TRAIT = "contains:— Zorblax"


@pytest.fixture
def wire(isolated_home: Path) -> Iterator[Wire]:
    with chat_wire(trait_responder) as state:
        state.write_config(isolated_home)
        yield state


def eval_args(heldout: Path, *extra: str) -> list[str]:
    return [
        "eval",
        "run",
        "--model",
        "base",
        "--model",
        "tuned",
        "--provider",
        "openai",
        "--data",
        str(heldout),
        "--metric",
        TRAIT,
        "--metric",
        "rouge-l",
        *extra,
    ]


def test_run_json_html_junit_and_a_gate(wire: Wire, heldout: Path, tmp_path: Path) -> None:
    html, junit = tmp_path / "report.html", tmp_path / "report.xml"
    code, out, err = run(
        *eval_args(
            heldout,
            "--yes",
            "--json",
            "--html",
            str(html),
            "--junit",
            str(junit),
            "--fail-if",
            "B.contains < A.contains",
        )
    )
    assert code == ExitCode.OK, err
    report = json.loads(out)
    assert report["verdicts"][0] == "tuned beats base on contains:— Zorblax (+0.83, p=0.002)"
    assert report["gates"][0]["crossed"] is False and report["gates_crossed"] == []
    trait = report["comparisons"][0]
    assert (trait["pass_to_fail"], trait["fail_to_pass"]) == (0, 10) and len(trait["flips"]) == 10
    assert len(wire.requests) == 24 and report["usage"][0]["prompt_tokens"] == 12 * 20
    assert "24 answer(s) to ask" in err and "unknown for openai:base" in err  # the estimate, on stderr

    page = html.read_text()
    assert page.startswith("<!doctype html>") and 'id="scores-chart"' in page and "Flipped items" in page
    # Nothing to fetch: no linked resource, and a policy that would block one anyway.
    assert not re.search(r"(src|href)\s*=|<link|@import|url\(", page) and "default-src 'none'" in page

    suites = {s.get("name"): s for s in ET.parse(junit).getroot()}
    assert set(suites) == {"base", "tuned", "gates"}
    assert (suites["base"].get("tests"), suites["base"].get("failures")) == ("12", "11")
    assert suites["tuned"].get("failures") == "1" and suites["gates"].get("failures") == "0"

    code, out, err = run("eval", "report", report["run_id"], "--fail-if", "A.contains > 0.05", "--json")
    assert code == ExitCode.BAD_INPUT and "gate crossed: A.contains > 0.05" in err
    assert json.loads(out)["gates_crossed"] == ["A.contains > 0.05"]  # the data is still written


def test_a_paid_run_asks_first(wire: Wire, heldout: Path) -> None:
    code, out, err = run(*eval_args(heldout))
    assert code == ExitCode.USAGE and "Not confirmed: no terminal to ask on" in err and out == ""
    assert wire.requests == []


def test_a_report_never_overwrites_the_data(wire: Wire, heldout: Path) -> None:
    before = heldout.read_bytes()
    code, _out, err = run(*eval_args(heldout, "--yes", "--html", str(heldout)))
    assert code == ExitCode.USAGE and "refusing to write a report over it" in err
    assert heldout.read_bytes() == before and wire.requests == []


def test_table_report_rescore_list(wire: Wire, heldout: Path) -> None:
    code, out, err = run(*eval_args(heldout, "--yes", "--concurrency", "3"))
    assert code == ExitCode.OK, err
    assert "tuned beats base on contains:— Zorblax (+0.83, p=0.002)" in out
    assert "flipped on contains:— Zorblax: base → tuned" in out and "#1 fail→pass" in out
    run_id = next(line.split()[0] for line in out.splitlines() if line.startswith("ev-"))
    code, out, _ = run("eval", "rescore", run_id, "--metric", "exact", "--metric", "contains:Zorblax", "--json")
    rescored = json.loads(out)
    assert code == 0 and [m["name"] for m in rescored["metrics"]] == ["exact", "contains:Zorblax"]
    assert len(wire.requests) == 24  # rescoring asked nobody
    code, out, _ = run("eval", "list", "--json")
    assert [r["id"] for r in json.loads(out)] == [run_id]
    code, _out, err = run("eval", "report", "ev-missing")
    assert code == ExitCode.USAGE and "No evaluation run 'ev-missing'" in err


def test_rate_limits_are_waited_out(wire: Wire, heldout: Path) -> None:
    wire.rate_limits = 3
    code, out, err = run(*eval_args(heldout, "--yes", "--json", "--limit", "4"))
    assert code == ExitCode.OK, err
    assert len(wire.requests) == 8 + 3 and not json.loads(out)["errors"]


def test_eval_file(wire: Wire, heldout: Path, tmp_path: Path) -> None:
    evals = tmp_path / "evals"
    evals.mkdir()
    (evals / "support.yaml").write_text(
        "data: ../heldout.jsonl\n"
        "models:\n  - {name: before, model: base, provider: openai}\n"
        "  - {name: after, model: tuned, provider: openai}\n"
        f'metrics: ["{TRAIT}"]\nlimit: 5\nfail_if: ["after.contains < before.contains"]\n'
    )
    code, out, err = run("eval", "run", str(evals / "support.yaml"), "--yes", "--json")
    assert code == ExitCode.OK, err
    report = json.loads(out)
    assert [m["label"] for m in report["models"]] == ["before", "after"] and report["items"] == 5
    assert "too few items to tell (5 of 5 differ; at least 6 must differ" in report["verdicts"][0]
    (evals / "bad.yaml").write_text("data: x.jsonl\nmodels:\n  - {model: a}\n  - {modle: b}\n")
    code, _out, err = run("eval", "run", str(evals / "bad.yaml"))
    assert code == ExitCode.USAGE and "bad.yaml:4: models.1.modle: unknown setting" in err


def test_profile_eval_keeps_its_options(
    wire: Wire, heldout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "zorb.toml").write_text(
        'name = "zorb"\nprovider = "openai"\nmodel = "base"\nsystem = "Sign off as Zorblax."\nmax_tokens = 40\n'
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        "profile",
        "eval",
        "zorb",
        str(heldout),
        "--against-model",
        "tuned",
        "--limit",
        "3",
        "--max-tokens",
        "20",
        "--yes",
        "--json",
    )
    assert code == ExitCode.OK, err
    report = json.loads(out)
    assert [m["label"] for m in report["models"]] == ["profile:zorb", "tuned"]
    assert [m["name"] for m in report["metrics"]] == ["rouge-l", "token-f1"]
    assert report["models"][0]["max_tokens"] == 20 and report["items"] == 3
    assert sum(1 for _m, msgs in wire.requests if msgs[0].content.startswith("Sign off as Zorblax.")) == 3


def _recorded(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM eval_samples").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def test_a_killed_run_continues_without_asking_again(isolated_home: Path, heldout: Path) -> None:
    with chat_wire(trait_responder, delay_s=0.25) as wire:
        wire.write_config(isolated_home)
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        args = [sys.executable, "-m", "tunedeck", *eval_args(heldout, "--concurrency", "2", "--yes", "--json")]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO_ROOT)
        try:
            db = isolated_home / "data" / "tunedeck.db"
            deadline = time.monotonic() + 60
            while _recorded(db) < 6:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the run recorded nothing in 60 s"
                time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
        recorded = _recorded(db)
        asked_before = len(wire.requests)
        assert 6 <= recorded < 24 and asked_before <= recorded + 2  # at most the two in flight were lost
        wire.delay_s = 0.0
        code, out, err = run(*eval_args(heldout, "--yes", "--json"))
    assert code == ExitCode.OK, err
    assert "continuing ev-" in err and f"{recorded} answer(s) already recorded" in err
    report = json.loads(out)
    assert sum(u["answers"] for u in report["usage"]) == 24
    assert len(wire.requests) - asked_before == 24 - recorded  # only what the killed run had not recorded
    asked = Counter((model, question_of(messages)) for model, messages in wire.requests)
    assert len(asked) == 24 and sum(asked.values()) - 24 <= 2
