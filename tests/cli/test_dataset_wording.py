"""Issue 11, items 8 and 12: what a data report says about a 50-row CSV — rows read and why none is usable, a
warning repeated on every row said once with its count and first lines, model names in any case, what using the
tuned model costs, and `data split --help` naming the files a CSV really gets."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from tests.cli.test_jobs_cli import run
from tests.core.fakes import FakeProvider
from tunedeck.workspace import Workspace


class LocalFake(FakeProvider):
    name = "local"


def support_csv(path: Path, header: tuple[str, str]) -> Path:
    rows = [header] + [(f"How do I reset my password ({i})?", f"Settings > Security > Reset ({i}).") for i in range(50)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_a_header_that_names_no_known_columns_reads_as_what_it_is(tmp_path: Path) -> None:
    path = support_csv(tmp_path / "support.csv", ("question", "answer"))
    code, out, _ = run("data", "validate", str(path), "--provider", "local")
    flat = " ".join(out.split())
    assert code == 1
    assert "50 rows read, 0 usable, csv" in flat and "50 examples" not in flat
    assert "use input_text,output_text or system,user,assistant" in flat
    assert "50 rows read, none usable because of the header (line 1); local needs at least 1." in flat
    code, out, _ = run("data", "validate", str(path), "--provider", "local", "--json")
    (too_few,) = [e for e in json.loads(out)["errors"] if e["code"] == "too-few-examples"]
    assert too_few["message"].startswith("50 rows read, none usable because of the header (line 1)")


def test_a_warning_on_every_row_is_said_once_with_its_count_and_first_lines(tmp_path: Path) -> None:
    path = support_csv(tmp_path / "support.csv", ("input_text", "output_text"))
    code, out, _ = run("data", "validate", str(path), "--provider", "local", "--model", "SmolLM2-135M-Instruct")
    assert code == 0
    warnings = out.split("Warnings", 1)[1].split("Per code", 1)[0]
    said = [line for line in warnings.splitlines() if "missing-system" in line]
    assert len(said) == 1 and re.search(r"50×\s+missing-system\s+No system message", said[0])
    assert said[0].rstrip().endswith("(lines 2, 3, 4, 5, 6, …)")
    assert "checked for local / smollm2-135m-instruct" in " ".join(out.split())  # the README's spelling works

    fake = LocalFake()
    code, _, err = run(
        "jobs", "submit", str(path), "-p", "local", "-m", "smollm2-135m-instruct", "--yes",
        workspace=lambda: Workspace.open(provider_factory=lambda name: fake),
    )  # fmt: skip
    flat = " ".join(err.split())
    assert code == 0, err
    assert flat.count("No system message") == 1
    assert "warning support.csv (50×, lines 2, 3, 4, 5, 6, …): No system message" in flat


def test_data_reports_say_what_using_the_tuned_model_costs(tmp_path: Path) -> None:
    path = support_csv(tmp_path / "support.csv", ("input_text", "output_text"))
    code, out, err = run("data", "stats", str(path), "--provider", "local")
    flat = " ".join(out.split())
    assert code == 0 and "using the tuned model free (runs locally" in flat
    assert "days old" not in err  # a free price never goes stale
    jsonl = tmp_path / "support.jsonl"
    assert run("data", "convert", str(path), str(jsonl), "--to", "vertex")[0] == 0
    code, out, err = run("data", "validate", str(jsonl), "--provider", "vertex", "--model", "Gemini-2.5-Flash")
    flat = " ".join(out.split())
    assert code == 0, out
    assert "checked for vertex / gemini-2.5-flash" in flat
    assert "Using the tuned model: $0.30/1M input, $2.50/1M output tokens" in flat
    assert "days old (as of 2025-06-01, more than 90 days)" in " ".join(err.split())


def test_split_help_names_the_files_a_csv_gets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    out = " ".join(run("data", "split", "--help")[1].replace("│", " ").split())
    assert ".train.jsonl (.train.csv when SOURCE is a CSV)" in out
    assert ".validation.jsonl (.validation.csv when SOURCE is a CSV)" in out
    path = support_csv(tmp_path / "support.csv", ("input_text", "output_text"))
    assert run("data", "split", str(path))[0] == 0
    assert (tmp_path / "support.train.csv").is_file() and (tmp_path / "support.validation.csv").is_file()
