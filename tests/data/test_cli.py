"""The real `tunedeck data` commands: exit codes, human output, and the JSON report schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.data.helpers import chat, good_file, run_cli, write_lines


def invoke(*args: str | Path) -> tuple[int, str]:
    code, out, _ = run_cli("data", *args)
    return code, out


def test_validate_exit_codes(tmp_path: Path) -> None:
    clean = good_file(tmp_path / "clean.jsonl", n=12)
    assert invoke("validate", clean)[0] == 0
    broken = write_lines(tmp_path / "broken.jsonl", [chat(i) for i in range(12)] + ["{oops"])
    code, out = invoke("validate", broken)
    assert code == 1
    assert "invalid-json" in out and "line" in out and "13" in out
    assert invoke("validate", tmp_path / "missing.jsonl")[0] == 2
    assert invoke("validate", tmp_path)[0] == 2
    assert invoke("validate", clean, "--provider", "nobody")[0] == 2


def test_validate_json_schema(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "d.jsonl", [chat(i) for i in range(12)] + ["", "[1]"])
    code, out = invoke("validate", path, "--json")
    assert code == 1
    report = json.loads(out)
    assert {"ok", "errors", "warnings", "counts", "stats", "format", "provider", "model"} <= report.keys()
    assert report["ok"] is False
    for item in report["errors"] + report["warnings"]:
        assert {"line", "code", "message"} <= item.keys()
        # A problem of the whole file (here: few-examples) has no line; every other issue names its line.
        file_level = item["code"] in {"few-examples", "too-few-examples"}
        assert (item["line"] is None) if file_level else isinstance(item["line"], int)
        assert isinstance(item["code"], str)
    assert report["errors"][0] == {
        "line": 14,
        "code": "not-an-object",
        "message": report["errors"][0]["message"],
        "severity": "error",
    }
    assert report["counts"] == {"blank-line": 1, "not-an-object": 1, "few-examples": 1}
    stats = report["stats"]
    assert stats["n_valid_examples"] == 12
    assert {"min", "max", "mean", "median", "p10", "p90"} == stats["tokens_per_example"].keys()
    assert stats["cost"]["price"]["as_of"] and stats["cost"]["price"]["source"]


def test_stats_json_and_human(tmp_path: Path) -> None:
    path = good_file(tmp_path / "d.jsonl", n=30)
    code, out = invoke("stats", path, "--json", "--encoding", "cl100k_base")
    assert code == 0
    stats = json.loads(out)
    assert stats["encoding"] == "cl100k_base" and stats["auto_epochs"] == 4
    assert stats["cost"]["estimated_usd"] > 0
    code, out = invoke("stats", path, "--provider", "vertex", "--model", "gemini-2.5-flash")
    assert code == 0
    assert "estimate" in out and "estimated $" in out


def test_convert_and_split_commands(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.jsonl", [chat(i, **{}) for i in range(20)])
    code, out = invoke("convert", source, tmp_path / "out.jsonl", "--to", "vertex")
    assert code == 0 and "Wrote 20 of 20" in out
    assert invoke("convert", source, source, "--to", "vertex")[0] == 2
    assert invoke("convert", source, tmp_path / "x.jsonl", "--to", "nonsense")[0] == 2
    code, out = invoke("split", source, "--validation", "0.2", "--seed", "5", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["n_train"] == 16 and result["n_validation"] == 4
    assert Path(result["train_path"]).name == "in.train.jsonl"
    assert invoke("split", source, "--validation", "0")[0] == 2


def test_python_dash_m_subprocess(tmp_path: Path) -> None:
    broken = write_lines(tmp_path / "b.jsonl", ["nope"])
    run = subprocess.run(
        [sys.executable, "-m", "tunedeck", "data", "validate", str(broken), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert json.loads(run.stdout)["errors"][0]["code"] == "invalid-json"
    missing = subprocess.run(
        [sys.executable, "-m", "tunedeck", "data", "stats", str(tmp_path / "nothing.jsonl")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "does not exist" in " ".join(missing.stderr.split())


def test_human_output_keeps_brackets_literal(tmp_path: Path) -> None:
    path = good_file(tmp_path / "[bold]odd.jsonl", n=12)
    code, out = invoke("stats", path, "--model", "gpt-5-mini")
    assert code == 0
    assert '[prices.openai."gpt-5-mini"]' in out
    code, out = invoke("validate", path)
    assert code == 0 and "[bold]odd.jsonl" in out
