"""`tunedeck advise` end to end through the CLI with a scripted provider at the adapter boundary.

The base model never signs off "— Zorblax"; the profile (its system prompt says to, plus three few-shot turns)
and the tuned model always do. So base loses to both, and profile and tuned are indistinguishable: the advice
must name no winner between them, only the cheaper per request and the break-even volume.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers.base import ChatMessage
from tests.cli.test_jobs_cli import run
from tests.evaluation.conftest import QA, ScriptedChat, question_of, write_heldout
from tunedeck.exitcodes import ExitCode
from tunedeck.settings import load_settings
from tunedeck.store import Store
from tunedeck.workspace import Workspace

BASE, TUNED = "gpt-4o-mini", "ft:gpt-4o-mini-2024-07-18:acme::adv1"
TRAIT = "contains:— Zorblax"


def responder(model: str, messages: list[ChatMessage]) -> str:
    n = int(question_of(messages).split()[2].rstrip(":"))
    told = any("Zorblax" in m.content for m in messages if m.role == "system")
    return f"{n} plus {n} is {2 * n}. — Zorblax" if model == TUNED or told else f"The answer is {2 * n}."


@pytest.fixture
def chat() -> ScriptedChat:
    return ScriptedChat(responder)


@pytest.fixture
def files(isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chat: ScriptedChat) -> Iterator[Path]:
    shots = [(f"Example {i}: what is {i} times two?", f"It is {2 * i}. — Zorblax") for i in (20, 21, 22)]
    write_heldout(tmp_path / "shots.jsonl", shots)
    write_heldout(tmp_path / "train.jsonl", shots * 4, system="Answer briefly.")
    write_heldout(tmp_path / "heldout.jsonl", QA, system="Answer briefly.")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "zorb.toml").write_text(
        f'name = "zorb"\nprovider = "openai"\nmodel = "{BASE}"\nsystem = "Always sign off as Zorblax."\n'
        '[few_shot]\ndataset = "../shots.jsonl"\ncount = 3\nselection = "first"\n'
    )
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    workspace = Workspace(settings, Store.open(settings), provider_factory=lambda name: chat)  # type: ignore[arg-type,return-value]
    monkeypatch.setattr("tunedeck.cli.context._open_default", lambda: workspace)
    try:
        yield tmp_path
    finally:
        workspace.close()


def advise_args(*extra: str) -> list[str]:
    return [
        "advise",
        "--data",
        "heldout.jsonl",
        "--base",
        BASE,
        "--profile",
        "zorb",
        "--tuned",
        TUNED,
        "--provider",
        "openai",
        "--metric",
        TRAIT,
        "--training",
        "train.jsonl",
        *extra,
    ]


def test_advise_names_no_winner_between_equals_and_gives_the_break_even(files: Path, chat: ScriptedChat) -> None:
    code, out, err = run(*advise_args("--volume", "100000", "--yes", "--json", "--html", "advice.html"))
    assert code == ExitCode.OK, err
    advice = json.loads(out)
    by = {c["label"]: c for c in advice["candidates"]}
    assert list(by) == ["base", "profile", "tuned"] and advice["items"] == len(QA)
    assert [q["value"] for q in by["base"]["quality"]] == [0.0]
    assert [q["value"] for q in by["profile"]["quality"]] == [1.0] == [q["value"] for q in by["tuned"]["quality"]]
    assert advice["indistinguishable"] == [["profile", "tuned"]] and advice["best"] == ["profile", "tuned"]

    # Tokens per request as the provider reported them (the fake: 10 per message); the profile's few-shot turns
    # make its prompts longer.
    profile_messages = next(len(m) for model, m in chat.calls if any("Zorblax" in x.content for x in m[:1]))
    assert profile_messages == 8  # system, 3 few-shot pairs, the question
    assert by["base"]["prompt_tokens_per_request"] == 20 == by["tuned"]["prompt_tokens_per_request"]
    assert by["profile"]["prompt_tokens_per_request"] == 80
    # Hand-computed cost per 1,000 requests (completion tokens: the fake counts words, 4 for the base's answers,
    # 7 for a signed-off one): base (20·0.15 + 4·0.60)/1e3, profile (80·0.15 + 7·0.60)/1e3 at the base model's
    # price, tuned (20·0.30 + 7·1.20)/1e3 at the fine-tuned model's.
    assert by["base"]["cost_per_1000_usd"] == pytest.approx(0.0054)
    assert by["profile"]["cost_per_1000_usd"] == pytest.approx(0.0162)
    assert by["tuned"]["cost_per_1000_usd"] == pytest.approx(0.0144)
    assert "$0.3 in / $1.2 out per 1M tokens (as of 2025-06-01" in by["tuned"]["price"]
    assert by["base"]["latency_median_s"] is not None and by["base"]["latency_p90_s"] is not None

    training = by["tuned"]["training"]
    assert training["usd"] > 0 and training["source"].startswith("estimated from train.jsonl")
    assert advice["cheapest_among_best"] == "tuned" and advice["against"] == "profile"
    be = advice["break_even"]
    assert be["status"] == "volume" and be["savings_per_1000_usd"] == pytest.approx(0.0018)
    assert be["requests"] == math.ceil(training["usd"] / be["savings_per_1000_usd"] * 1000 - 1e-9)
    assert be["per_month"] == math.ceil(be["requests"] / 12)
    assert advice["outcome"] == "fine-tuning-pays-off"
    assert advice["recommendation"].startswith("profile and tuned are statistically indistinguishable on quality")
    assert "beats" not in advice["recommendation"] and "Recommendation:" in advice["paragraph"]

    page = (files / "advice.html").read_text()
    assert "Advice: prompt or fine-tune?" in page and "Flipped items" in page and "break-even" in page

    # The same question again asks no model: every answer comes from the cache.
    asked = len(chat.calls)
    code, out2, err = run(*advise_args("--volume", "100000", "--yes", "--json"))
    assert code == ExitCode.OK, err
    assert len(chat.calls) == asked
    again = json.loads(out2)
    assert again["recommendation"] == advice["recommendation"] and again["break_even"] == be


def test_too_few_items_to_tell(files: Path) -> None:
    code, out, err = run(*advise_args("--limit", "3", "--yes"))
    assert code == ExitCode.OK, err
    assert "Recommendation: too few items to tell: on 3 held-out item(s)" in " ".join(out.split())


def test_bad_input_is_refused_before_anything_is_asked(files: Path, chat: ScriptedChat) -> None:
    code, _out, err = run("advise", "--data", "heldout.jsonl", "--base", BASE, "--provider", "openai")
    assert code == ExitCode.USAGE and "Nothing to compare the base model with" in err
    code, _out, err = run(*advise_args("--job", "td-nope", "--yes"))
    assert code == ExitCode.USAGE and "not both" in err
    code, _out, err = run("advise", "--data", "heldout.jsonl", "--base", BASE, "--job", "td-nope")
    assert code == ExitCode.USAGE and "No job 'td-nope'" in err
    code, _out, err = run(*advise_args("--yes", "--html", "heldout.jsonl"))
    assert code == ExitCode.USAGE and "refusing to write a report over it" in err
    code, _out, err = run(*advise_args())  # it costs money: no terminal to ask on, so only --yes proceeds
    assert code == ExitCode.USAGE and "Not confirmed" in err
    assert chat.calls == []
