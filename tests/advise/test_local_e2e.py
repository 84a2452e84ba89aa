"""`tunedeck advise` on the embedded local backend: the base model against a profile that shows the trait
("— Zorblax" sign-offs in its system prompt and five few-shot answers) and a LoRA job tuned on it, on ten
questions none of them saw. Reuses eval's end-to-end set-up (same job, same held-out questions).

Everything is local, so every request is free and the training cost nothing: the advice must say so, must not
name a winner between candidates the paired tests cannot separate, and the tuned model saves nothing per request.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.backend.conftest import trait_dataset
from tests.backend.test_server_support import ServeProcess, jsonl
from tests.cli.test_jobs_cli import run
from tests.evaluation.test_local_e2e import BASE, HELD_OUT, pytestmark, server
from tunedeck.exitcodes import ExitCode

__all__ = ["pytestmark", "server"]


def test_advise_on_the_local_backend(server: ServeProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    training, validation, trait = trait_dataset()
    (tmp_path / "train.jsonl").write_bytes(jsonl(training))
    (tmp_path / "valid.jsonl").write_bytes(jsonl(validation))
    conversations = [[{"role": "user", "content": q}, {"role": "assistant", "content": f"{a} {trait}"}]
                     for q, a in HELD_OUT]  # fmt: skip
    (tmp_path / "heldout.jsonl").write_bytes(jsonl(conversations))
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "zorb.toml").write_text(
        f'name = "zorb"\nprovider = "local"\nmodel = "{BASE}"\n'
        f'system = "Answer in one short sentence, then sign off with {trait}"\n'
        '[few_shot]\ndataset = "../train.jsonl"\ncount = 5\nselection = "first"\n',
        encoding="utf-8",
    )
    code, out, err = run(
        "jobs", "submit", str(tmp_path / "train.jsonl"), "--validation", str(tmp_path / "valid.jsonl"),
        "--provider", "local", "--model", BASE, "--epochs", "2", "--batch-size", "2",
        "--learning-rate-multiplier", "1.5", "--seed", "1234", "--yes", "--watch", "--json",
    )  # fmt: skip
    assert code == ExitCode.OK, err + server.log()
    job = json.loads(out)["id"]

    monkeypatch.chdir(tmp_path)  # the profile is found in ./profiles
    code, out, err = run(
        "advise", "--data", "heldout.jsonl", "--base", BASE, "--profile", "zorb", "--job", job,
        "--provider", "local", "--metric", "contains:Zorblax", "--max-tokens", "24", "--concurrency", "2",
        "--html", str(tmp_path / "advice.html"), "--json",
    )  # fmt: skip
    assert code == ExitCode.OK, err + server.log()
    advice = json.loads(out)
    print("\n" + advice["paragraph"])  # the figures, for the record (-s shows them)
    by = {c["label"]: c for c in advice["candidates"]}
    assert all(c["cost_per_1000_usd"] == 0.0 and "no provider charge" in c["price"] for c in by.values())
    assert by["tuned"]["training"]["usd"] == 0.0 and by["tuned"]["training"]["source"].startswith("local")
    assert by["profile"]["prompt_tokens_per_request"] > by["tuned"]["prompt_tokens_per_request"]
    trait_value = {label: c["quality"][0]["value"] for label, c in by.items()}
    assert trait_value["tuned"] > trait_value["base"] and trait_value["profile"] > trait_value["base"]
    assert "tuned" in advice["best"] and "base" not in advice["best"]
    if "profile" in advice["best"]:  # indistinguishable: no winner between them, and nothing to save per request
        assert ["profile", "tuned"] in advice["indistinguishable"]
        assert advice["outcome"] == "prompting-enough" and advice["break_even"]["status"] == "never"
        assert "beats" not in advice["recommendation"] and "saves nothing" in advice["recommendation"]
    assert "Advice: prompt or fine-tune?" in (tmp_path / "advice.html").read_text()
