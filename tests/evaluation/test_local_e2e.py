"""A full evaluation on the embedded local backend: the base model against a LoRA job tuned to sign off
"— Zorblax", on ten questions neither saw in training, through `jobs submit --watch` and `eval run`; then
`tunedeck advise` on the same job (one training serves both).

The tuned model wins on the trained trait with p < 0.05 (exact McNemar: ≥ 6 of 10 items must flip fail→pass
with none the other way), the report names the flipped items, and the HTML shows the job's loss curve.
Training uses the backend tests' trait dataset (20 examples) for one epoch at batch 2 (10 steps) with the
learning-rate multiplier at 3, no validation file: the smallest run measured to carry the trait over (10 of 10
items flipped, p = 0.00195; 404 s training + 158 s evaluation at load ~5 on 2 cores, against 926 s + 173 s for
two epochs at 1.5).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backend.conftest import trait_dataset
from tests.backend.test_server_support import ServeProcess, jsonl
from tests.cli.test_jobs_cli import run
from tunedeck.exitcodes import ExitCode
from tunedeck.settings import load_settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
BASE = "smollm2-135m-instruct"
HELD_OUT = [
    ("What is the tallest animal?", "The giraffe is the tallest animal."),
    ("What color are bananas?", "Bananas are yellow."),
    ("How many legs does a cat have?", "A cat has four legs."),
    ("What do birds use to fly?", "Birds fly with their wings."),
    ("Which animal barks?", "A dog barks."),
    ("What do we use to see?", "We see with our eyes."),
    ("How many months are in a year?", "There are twelve months in a year."),
    ("What falls from clouds when it rains?", "Rain falls from the clouds."),
    ("What is the opposite of up?", "The opposite of up is down."),
    ("What do cats like to chase?", "Cats like to chase mice."),
]


@pytest.fixture
def server(isolated_home: Path) -> Iterator[ServeProcess]:
    serve = ServeProcess(load_settings().data_dir / "local-backend", isolated_home)
    try:
        yield serve
    finally:
        serve.stop()


def test_tuned_beats_base_on_the_trained_trait_and_advise_weighs_it(server: ServeProcess, tmp_path: Path) -> None:
    started = time.monotonic()
    training, _validation, trait = trait_dataset()
    (tmp_path / "train.jsonl").write_bytes(jsonl(training))
    conversations = [[{"role": "user", "content": q}, {"role": "assistant", "content": f"{a} {trait}"}]
                     for q, a in HELD_OUT]  # fmt: skip
    heldout = tmp_path / "heldout.jsonl"
    heldout.write_bytes(jsonl(conversations))

    code, out, err = run(
        "jobs", "submit", str(tmp_path / "train.jsonl"), "--provider", "local", "--model", BASE,
        "--epochs", "1", "--batch-size", "2",
        "--learning-rate-multiplier", "3", "--seed", "1234", "--yes", "--watch", "--json",
    )  # fmt: skip
    assert code == ExitCode.OK, err + server.log()
    job = json.loads(out)
    tuned = job["fine_tuned_model"]
    trained = time.monotonic()

    html = tmp_path / "report.html"
    code, out, err = run(
        "eval", "run", "--model", f"base={BASE}", "--model", f"tuned={tuned}", "--provider", "local",
        "--data", str(heldout), "--metric", "contains:Zorblax", "--metric", "rouge-l", "--max-tokens", "24",
        "--concurrency", "2", "--fail-if", "B.contains < A.contains", "--html", str(html), "--json",
    )  # fmt: skip
    assert code == ExitCode.OK, err + server.log()
    report = json.loads(out)
    trait_cmp = report["comparisons"][0]
    assert trait_cmp["metric"] == "contains:Zorblax" and trait_cmp["n"] == len(HELD_OUT)
    evaluated = time.monotonic()
    print(f"\ntraining {trained - started:.0f} s, evaluation {evaluated - trained:.0f} s")  # for the record (-s)
    print("\n".join(report["verdicts"]))
    print(f"pass→fail {trait_cmp['pass_to_fail']}, fail→pass {trait_cmp['fail_to_pass']}, p={trait_cmp['p_value']}")
    assert trait_cmp["p_value"] < 0.05 and trait_cmp["outcome"] == "b-better"
    assert trait_cmp["verdict"].startswith("tuned beats base on contains:Zorblax (+")
    # The flipped items are exactly those where the tuned answer signs off and the base answer does not.
    rows = {row["line"]: row for row in report["samples"]}
    flipped = {line for line, row in rows.items()
               if (row["answers"]["tuned"]["scores"]["contains:Zorblax"], row["answers"]["base"]["scores"][
                   "contains:Zorblax"]) in {(1.0, 0.0), (0.0, 1.0)}}  # fmt: skip
    assert {flip["line"] for flip in trait_cmp["flips"]} == flipped and len(flipped) >= 6
    assert all("Zorblax" in flip["output_b"] for flip in trait_cmp["flips"] if flip["direction"] == "fail→pass")
    assert report["leakage"] == [] and report["gates_crossed"] == []
    curve = report["loss_curves"]["tuned"]
    assert len(curve) >= 5 and all("train_loss" in point for point in curve)

    page = html.read_text()
    assert "Flipped items" in page and 'class="loss-chart" data-model="tuned"' in page
    for flip in trait_cmp["flips"]:
        assert flip["question"] in page

    # The same job answers `tunedeck advise` (training once serves both: CI's time is the limit).
    check_advice(server, tmp_path, job["id"], trait)


def check_advice(server: ServeProcess, tmp_path: Path, job: str, trait: str) -> None:
    """`tunedeck advise` on the embedded local backend: the base model against a profile that shows the trait
    ("— Zorblax" sign-offs in its system prompt and five few-shot answers) and the LoRA job tuned on it, on the
    ten held-out questions none of them saw.

    Everything is local, so every request is free and the training cost nothing: the advice must say so, must not
    name a winner between candidates the paired tests cannot separate, and the tuned model saves nothing per
    request."""
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "zorb.toml").write_text(
        f'name = "zorb"\nprovider = "local"\nmodel = "{BASE}"\n'
        f'system = "Answer in one short sentence, then sign off with {trait}"\n'
        '[few_shot]\ndataset = "../train.jsonl"\ncount = 5\nselection = "first"\n',
        encoding="utf-8",
    )
    with contextlib.chdir(tmp_path):  # the profile is found in ./profiles
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
