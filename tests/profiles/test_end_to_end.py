"""`profile chat` and `profile eval` end to end: the real CLI, the real OpenAI and Anthropic adapters (official
SDKs), and the real local backend (`tunedeck serve`) answering with the SmolLM2 base model at temperature 0.

The answers come from a real model, so the assertions are on structure: citations listed, both columns
filled, scores in [0, 1] — never on the exact text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import MODEL_CACHE, REPO_ROOT
from tests.profiles.conftest import write_dataset
from tunedeck.settings import Settings, load_settings

# Every generated token costs real CPU time on a shared machine, so replies are capped at a few tokens.
pytestmark = pytest.mark.slow
BASE_MODEL = "smollm2-135m-instruct"
HELD_OUT = [
    ("My VPN shows a certificate error.", "Run Refresh VPN Profile in Software Center."),
    ("Printouts come out faint grey.", "The toner is low; spare cartridges are by the kitchen."),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m tunedeck serve --port 0` on loopback; yields its base URL (…/v1)."""
    home = tmp_path_factory.mktemp("serve-home")
    data_dir = home / "backend"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUNEDECK_")}
    env |= {"TUNEDECK_HOME": str(home), "TUNEDECK_CACHE_DIR": str(MODEL_CACHE)}
    # One intra-op thread: on a busy 2-core machine torch's thread pool thrashes, and decoding measured
    # ~10x slower with two threads (10 s vs 1 s for 8 tokens at load 11) than with one.
    env["OMP_NUM_THREADS"] = "1"
    log = (home / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tunedeck", "serve", "--port", "0", "--data-dir", str(data_dir)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=REPO_ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        info = data_dir / "server.json"
        while not info.is_file():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("tunedeck serve did not start:\n" + (home / "serve.log").read_text())
            time.sleep(0.1)
        yield json.loads(info.read_text())["base_url"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def project(server: str, profile_dir: Path, isolated_home: Path) -> Path:
    """The profile fixture pointed at the local server through config.toml, as a user would configure it."""
    config = isolated_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    root = server.removesuffix("/v1")
    config.write_text(
        f'[openai]\nbase_url = "{server}"\n\n[anthropic]\nbase_url = "{root}"\n\n[local]\nbase_url = "{server}"\n',
        encoding="utf-8",
    )
    profile = profile_dir / "profiles" / "helpdesk.toml"
    text = profile.read_text(encoding="utf-8").replace('provider = "anthropic"', 'provider = "openai"')
    text = text.replace('model = "claude-test"', f'model = "{BASE_MODEL}"\nmax_tokens = 8')
    profile.write_text(text, encoding="utf-8")
    write_dataset(profile_dir / "heldout.jsonl", HELD_OUT)
    return profile_dir


@pytest.fixture
def settings_for_project(project: Path) -> Settings:
    return load_settings()  # after `project` wrote config.toml


def cli(project: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "tunedeck", "profile", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=project,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    return result


def test_chat_repl_streams_an_answer_then_lists_sources(project: Path) -> None:
    result = cli(project, "chat", "helpdesk", stdin="How do I fix a VPN certificate error?\n/exit\n")
    assert "you>" in result.stderr  # the REPL prompt is a diagnostic: stdout holds only answers
    answer, _, sources = result.stdout.partition("\nSources:" if "\nSources:" in result.stdout else "\nRetrieved")
    assert answer.strip(), result.stdout
    labels = [line.strip() for line in sources.splitlines() if line.strip().startswith("[")]
    assert labels and labels[0] == "[1] docs/vpn.md#Certificate errors"


def test_chat_json_through_the_anthropic_adapter_uses_the_xml_layout(project: Path) -> None:
    result = cli(project, "chat", "helpdesk", "--provider", "anthropic", "--message", "printer toner is low", "--json")
    data = json.loads(result.stdout)
    assert data["answer"].strip() and data["layout"] == "xml"
    assert data["sources"][0]["label"] == "docs/printing.md#Toner"
    assert set(data["cited"]) <= {source["label"] for source in data["sources"]}
    assert data["completion_tokens"] is None or 0 < data["completion_tokens"] <= 8


def test_eval_json_fills_both_columns_with_scores(project: Path) -> None:
    # `profile eval` is `eval run --model profile:NAME --model OTHER`, keeping its options.
    args = ("heldout.jsonl", "--against-provider", "local", "--against-model", BASE_MODEL, "--max-tokens", "4")
    result = cli(project, "eval", "helpdesk", *args, "--yes", "--json")
    data = json.loads(result.stdout)
    assert [m["label"] for m in data["models"]] == ["profile:helpdesk", "tuned"]
    assert data["models"][0]["description"] == f"profile helpdesk on openai:{BASE_MODEL}"
    assert data["models"][1]["description"] == f"local:{BASE_MODEL}"  # the local adapter, same server
    assert [row["question"] for row in data["samples"]] == [q for q, _ in HELD_OUT]
    for row in data["samples"]:
        for label in ("profile:helpdesk", "tuned"):
            answer = row["answers"][label]
            assert answer["error"] is None and answer["output"].strip()
            assert set(answer["scores"]) == {"rouge-l", "token-f1"}
            assert all(0.0 <= value <= 1.0 for value in answer["scores"].values())
    for summary in data["summaries"]:
        assert summary["n"] == 2 and 0.0 <= summary["value"] <= 1.0
    assert [c["outcome"] for c in data["comparisons"]] == ["too-few-items", "too-few-items"]  # 2 items cannot tell


def test_eval_table_has_scores_and_verdicts(project: Path) -> None:
    result = cli(project, "eval", "helpdesk", "heldout.jsonl", "--limit", "1", "--max-tokens", "4", "--yes")
    assert "profile:helpdesk" in result.stdout and "bare" in result.stdout
    assert "scores (95% interval)" in result.stdout and "too few items to tell" in result.stdout


def test_a_profile_in_eval_run_publishes_progress_and_records_each_answer(
    project: Path, settings_for_project: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tunedeck.evaluation import EvalActions, EvalRequest, ModelRef
    from tunedeck.events import ProgressAdvanced
    from tunedeck.workspace import Workspace

    monkeypatch.chdir(project)
    workspace = Workspace.open(settings_for_project)
    events: list[ProgressAdvanced] = []
    workspace.bus.subscribe(events.append, lambda e: isinstance(e, ProgressAdvanced))  # type: ignore[arg-type]
    models = [ModelRef.parse("profile:helpdesk"), ModelRef.parse(f"bare={BASE_MODEL}", "openai")]
    try:
        report = EvalActions(workspace).run(EvalRequest(models=models, data=project / "heldout.jsonl", max_tokens=2))
        samples = workspace.store.eval_samples(report.run_id)
    finally:
        workspace.close()
    assert [e.done for e in events] == [0, 1, 2, 3, 4, 4] and events[-1].total == 4
    assert len(samples) == 4 and all(s.output is not None and s.completion_tokens for s in samples)
    # The profile's prompt differs from the bare one (system, facts, retrieved docs): two cache keys per item.
    assert len({s.cache_key for s in samples}) == 4


def test_eval_stops_on_an_unknown_comparison_model(project: Path) -> None:
    args = ["eval", "helpdesk", "heldout.jsonl", "--against-model", "no-such-model", "--limit", "1"]
    args += ["--max-tokens", "2", "--yes"]
    result = subprocess.run(
        [sys.executable, "-m", "tunedeck", "profile", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=project,
    )
    assert result.returncode != 0 and result.stdout == ""
    assert "no-such-model" in result.stderr and "Traceback" not in result.stderr
    assert "Not confirmed" not in result.stderr  # it failed on the model, not on the question
