"""Issue 11, items 3, 9 and 12 (the key check): model names in any case, checked before the estimate, listed in
`jobs submit --help` and `jobs models`; what using the tuned model costs and a warning on old prices; a
not-submitted job edited on retry or forgotten; a missing key said before the user is asked to pay."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from providers.base import TuningSpec
from providers.errors import ProviderError
from tests.cli.test_jobs_cli import DATASET, MODEL, run
from tests.core.fakes import FakeProvider
from tests.core.openai_wire import Failure, WireState
from tunedeck.costs import training_price
from tunedeck.costs.base_models import resolve_base_model
from tunedeck.exitcodes import ExitCode
from tunedeck.settings import load_settings
from tunedeck.workspace import Workspace

pytest_plugins = ["tests.cli.test_jobs_cli"]  # its `wire` fixture: a loopback OpenAI stand-in


class LocalFake(FakeProvider):
    name = "local"


# -- item 9: model names ------------------------------------------------------------------------------------


def test_documented_names_in_any_case_and_undated_aliases_resolve() -> None:
    assert resolve_base_model("local", "SmolLM2-135M-Instruct") == "smollm2-135m-instruct"
    assert resolve_base_model("openai", "GPT-4o-mini-2024-07-18") == "gpt-4o-mini-2024-07-18"
    assert resolve_base_model("openai", "gpt-4o-mini") == "gpt-4o-mini-2024-07-18"
    assert resolve_base_model("openai", "gpt-4o") == "gpt-4o-2024-08-06"  # not the -mini snapshot
    assert resolve_base_model("vertex", "Gemini-2.0-Flash") == "gemini-2.0-flash-001"
    assert resolve_base_model("openai", "ft:gpt-4o-mini-2024-07-18:acme::Ab1") == "ft:gpt-4o-mini-2024-07-18:acme::Ab1"
    assert resolve_base_model("vertex", "meta/llama3_1@llama-3.1-8b-instruct") == "meta/llama3_1@llama-3.1-8b-instruct"


def test_local_submit_takes_the_readme_spelling(tmp_path: Path) -> None:
    fake = LocalFake()
    code, out, err = run(
        "jobs", "submit", str(DATASET), "-p", "local", "-m", "SmolLM2-135M-Instruct", "--yes", "--json",
        workspace=lambda: Workspace.open(provider_factory=lambda name: fake),
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["base_model"] == "smollm2-135m-instruct"
    assert "model: smollm2-135m-instruct (for 'SmolLM2-135M-Instruct')" in err
    assert [j.base_model for j in fake.jobs.values()] == ["smollm2-135m-instruct"]


def test_an_unknown_model_is_refused_before_the_estimate_with_the_choices(wire: WireState) -> None:
    code, _, err = run("jobs", "submit", str(DATASET), "-p", "openai", "-m", "gpt-4o-mni", "--yes")
    flat = " ".join(err.split())
    assert code == ExitCode.USAGE
    assert "openai does not list 'gpt-4o-mni'" in flat and "Did you mean gpt-4o-mini-2024-07-18?" in flat
    assert "gpt-4.1-nano-2025-04-14" in flat and '[base_models] openai = ["gpt-4o-mni"]' in flat
    assert "cost:" not in flat and "valid examples" not in flat  # nothing validated or priced first
    assert wire.requests == []
    code, _, err = run("jobs", "submit", str(DATASET), "-p", "local", "-m", "llama-3", "--yes")
    assert code == ExitCode.USAGE and "local cannot fine-tune 'llama-3': it tunes smollm2-135m-instruct" in err


def test_submit_help_lists_the_choices_and_jobs_models_lists_them_with_prices(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # help wraps at the terminal's width; a model name must not be split
    code, out, _ = run("jobs", "submit", "--help")
    flat = " ".join(out.replace("│", " ").split())
    assert code == 0 and "smollm2-135m-instruct" in flat and "gpt-4o-mini-2024-07-18" in flat
    assert "gemini-2.5-flash" in flat and "tunedeck jobs models" in flat

    config = isolated_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[base_models]\nopenai = ["gpt-9-2027-01-01"]\n')
    code, out, _ = run("jobs", "models", "--json")
    rows = {(r["provider"], r["model"]): r for r in json.loads(out)}
    flash = rows["vertex", "gemini-2.5-flash"]
    assert flash["price"]["inference_input_usd_per_million_tokens"] == 0.30
    assert flash["usage"].startswith("$0.30/1M input, $2.50/1M output tokens (as of 2025-06-01")
    assert "older than" not in str(flash["price_warning"]) and "more than 90 days" in flash["price_warning"]
    added = rows["openai", "gpt-9-2027-01-01"]
    assert added["from_config"] is True and added["price"] is None and "No openai price" in added["price_problem"]
    assert rows["local", "smollm2-135m-instruct"]["price_warning"] is None  # free never goes stale
    open_models = [r for (p, m), r in rows.items() if p == "vertex" and "@" in m]  # the Vertex adapter's own list
    assert open_models and all(r["price"] is None and "open-model" in r["price_problem"] for r in open_models)
    code, out, err = run("jobs", "models", "-p", "vertex")
    assert code == 0 and "gemini-2.0-flash-lite-001" in out and "$0.075" in out and "openai" not in out
    assert "days old" in " ".join(err.split())


# -- item 3: what using the tuned model costs; old prices ------------------------------------------------------


def test_submit_shows_usage_prices_and_warns_when_the_table_is_old(wire: WireState) -> None:
    code, _, err = run("jobs", "submit", str(DATASET), "-p", "openai", "-m", MODEL, "--yes")
    flat = " ".join(err.split())
    assert code == 0, err
    assert "using the tuned model: $0.30/1M input, $1.20/1M output tokens (as of 2025-06-01)" in flat
    age = (date.today() - date(2025, 6, 1)).days
    assert f"The prices in tunedeck's price table are {age} days old" in flat
    assert '[prices.PROVIDER."MODEL"]' in flat


def test_fresh_prices_from_config_are_not_called_old_and_unknown_usage_says_why(isolated_home: Path) -> None:
    config = isolated_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    today = date.today().isoformat()
    config.write_text(
        f'[prices.openai."gpt-4o-mini"]\ntraining_usd_per_million_tokens = 3.5\nas_of = "{today}"\n'
        '[prices.openai."gpt-9"]\ntraining_usd_per_million_tokens = 9\nas_of = "2026-11-01"\n'
    )
    settings = load_settings()
    fresh = training_price("openai", MODEL, settings)
    assert fresh.usd_per_million_tokens == 3.5 and fresh.staleness() is None
    assert fresh.describe_usage().startswith("$0.30/1M input")  # the shipped usage figures stay
    newer = training_price("openai", "gpt-9-2027", settings)
    assert newer.describe_usage() == "unknown (no inference price for 'gpt-9' in the table)"
    assert newer.staleness(date(2026, 11, 30)) is None
    old = newer.staleness(date(2026, 11, 1) + timedelta(days=91))
    assert old is not None and old.startswith("The prices from your config.toml are 91 days old")


# -- item 9: a submission that never reached the provider: edit it on retry, or forget it ----------------------


def not_submitted(wire: WireState, suffix: str) -> str:
    wire.failures.append(Failure(400, path_prefix="/v1/fine_tuning/jobs"))
    with Workspace.open() as ws:
        spec = TuningSpec(base_model=MODEL, training_file=str(DATASET), suffix=suffix)
        plan = ws.jobs.plan("openai", spec, DATASET)
        with pytest.raises(ProviderError):
            ws.jobs.submit(plan)
        (job,) = [j for j in ws.jobs.all() if j.spec.get("suffix") == suffix]
    assert job.display_state == "not-submitted"
    return job.id


def test_retry_with_another_model_keeps_the_key_and_reprices(wire: WireState) -> None:
    job_id = not_submitted(wire, "a")
    before = json.loads(run("jobs", "show", job_id, "--json")[1])
    code, _, err = run("jobs", "retry", job_id, "--model", "GPT-4.1-mini")
    assert code == ExitCode.USAGE and "--yes" in err and wire.creates == []  # the new cost is confirmed first
    assert "gpt-4.1-mini-2025-04-14" in err

    code, out, err = run("jobs", "retry", job_id, "--model", "GPT-4.1-mini", "--yes", "--json")
    assert code == 0, err
    job = json.loads(out)
    assert job["submission"] == "submitted" and job["base_model"] == "gpt-4.1-mini-2025-04-14"
    assert wire.creates[-1]["model"] == "gpt-4.1-mini-2025-04-14"
    assert wire.creates[-1]["metadata"]["tunedeck-client-key"] == before["client_key"] == job["client_key"]
    assert job["estimated_cost_usd"] == pytest.approx(before["estimated_cost_usd"] * 5.0 / 3.0, rel=1e-3)

    code, _, err = run("jobs", "retry", job_id, "--model", "gpt-4o")
    assert code == ExitCode.USAGE and "already submitted" in err


def test_forget_removes_only_what_never_reached_a_provider(wire: WireState) -> None:
    job_id = not_submitted(wire, "b")
    code, out, _ = run("jobs", "forget", job_id, "--json")
    assert code == 0 and json.loads(out)["forgotten"] is True and json.loads(out)["id"] == job_id
    assert job_id not in [j["id"] for j in json.loads(run("jobs", "list", "--json")[1])]
    submitted = json.loads(run("jobs", "submit", str(DATASET), "-p", "openai", "-m", MODEL, "--yes", "--json")[1])
    code, _, err = run("jobs", "forget", submitted["id"])
    flat = " ".join(err.split())
    assert code == ExitCode.USAGE and "only a submission that never reached a provider can be forgotten" in flat


# -- item 12: the key is checked before the cost is confirmed --------------------------------------------------


def test_a_missing_openai_key_is_said_before_asking_to_confirm_the_cost() -> None:
    code, _, err = run("jobs", "submit", str(DATASET), "-p", "openai", "-m", MODEL)
    flat = " ".join(err.split())
    assert code != 0 and "No OpenAI API key is set." in flat
    assert "Not confirmed" not in flat and "cost: estimated" in flat  # the plan was shown, the question never asked
