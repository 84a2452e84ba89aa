"""`tunedeck models list|delete` and `tunedeck endpoints deploy` through the CLI, over the real Vertex adapter
against the strict loopback stand-in (the workspace's provider factory points Vertex at it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers import errors
from providers.base import MANAGED_BY_LABEL, JobState, JobStatus, ProviderJob, TuningSpec
from providers.vertex import open_models
from providers.vertex.adapter import VertexProvider
from tests.cli.test_jobs_cli import run
from tests.providers.fake_vertex import FakeVertex, fake_vertex_server
from tests.providers.vertex_support import vertex_config
from tunedeck.exitcodes import ExitCode
from tunedeck.settings import load_settings
from tunedeck.store import Store
from tunedeck.workspace import Workspace

LLAMA = "meta/llama3_1@llama-3.1-8b-instruct"
OURS = {MANAGED_BY_LABEL: "tunedeck"}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, isolated_home: Path) -> Iterator[FakeVertex]:
    config = isolated_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[vertex]\nproject = "tunedeck-test"\n')
    with fake_vertex_server() as server:
        vertex = VertexProvider(vertex_config(server.url))

        def factory(name: str) -> VertexProvider:
            if name != "vertex":
                raise errors.ConfigurationError(f"{name} is not set up in this test.", provider=name)
            return vertex

        # The one place the CLI opens its workspace when none is handed in through Typer's context.
        monkeypatch.setattr("tunedeck.cli.context._open_default", lambda: Workspace.open(provider_factory=factory))
        yield server


def _ours(fake: FakeVertex, base: str, **job: object) -> str:
    name = fake.add_job(base_model=base, labels=OURS, **job)
    with Store.open(load_settings()) as store:
        spec = TuningSpec(base_model=base, training_file="gs://b/t.jsonl", client_key=f"tdk-{name[-4:]}")
        record = store.create_job_intent("vertex", spec)
        store.mark_submitted(record.id, ProviderJob(name, "vertex", base, JobStatus(JobState.SUCCEEDED, "x")))
    return name


def _weights(fake: FakeVertex) -> str:
    _ours(fake, LLAMA, output_uri="gs://b/tunedeck/tuned-models/tdk-cli")
    return f"gs://b/tunedeck/tuned-models/tdk-cli/{open_models.ARTIFACT_SUFFIX}"


def test_models_list_shows_every_tuned_model_with_its_provenance(fake: FakeVertex) -> None:
    weights = _weights(fake)
    code, out, err = run("models", "list", "--json")
    assert code == ExitCode.OK, err
    listing = json.loads(out)
    (model,) = listing["models"]
    assert (model["id"], model["base_model"], model["ours"], model["owner"]) == (weights, LLAMA, True, "tunedeck")
    assert "local" in listing["errors"]
    code, out, err = run("models", "list")
    assert code == ExitCode.OK and "vertex" in out and "local: could not list" in err  # (columns wrap at 80)


def test_deploy_shows_the_rate_asks_then_deploys_and_endpoints_list_and_teardown_see_it(fake: FakeVertex) -> None:
    weights = _weights(fake)
    code, _, err = run("endpoints", "deploy", weights, "--provider", "vertex")
    assert code == ExitCode.USAGE and "Not confirmed" in err and "$1.21/hour" in err
    assert fake.uploads == [] and fake.created_endpoints == []  # asked first: nothing was created

    code, out, err = run(
        "endpoints", "deploy", weights, "--provider", "vertex", "--max-replicas", "2", "--idle-teardown", "30m",
        "--yes", "--json",
    )  # fmt: skip
    assert code == ExitCode.OK, err
    record = json.loads(out)
    assert record["state"] == "deployed" and record["hardware"] == "g2-standard-12 + 1× NVIDIA_L4"
    assert "idle teardown: after 30m unused" in err and "g2-standard-12 + 1× NVIDIA_L4, 1–2 replica(s)" in err
    endpoint = record["endpoint_id"]

    code, out, _ = run("endpoints", "list", "--json")
    (listed,) = [v for v in json.loads(out)["ours"] if v["id"] == endpoint]
    assert listed["machine_type"] == "g2-standard-12 + 1× NVIDIA_L4" and listed["idle_teardown_s"] == 1800
    assert listed["hourly_rate_usd"] == pytest.approx(1.2112)

    code, out, _ = run("endpoints", "teardown", endpoint, "--yes", "--json")
    assert code == ExitCode.OK and json.loads(out)[0]["outcome"] == "done" and endpoint not in fake.endpoints


def test_deploying_a_tuned_gemini_model_explains_there_is_nothing_to_do(fake: FakeVertex) -> None:
    from google.genai import types

    endpoint = f"{fake.parent}/endpoints/555"
    _ours(fake, "gemini-2.5-flash", tuned_model=types.TunedModel(model=f"{fake.parent}/models/5@1", endpoint=endpoint))
    code, out, err = run("endpoints", "deploy", endpoint, "--json")
    assert code == ExitCode.OK and "per token" in err
    assert json.loads(out)["deployed"] is False


def test_models_delete_names_the_model_says_it_is_final_and_refuses_foreign(fake: FakeVertex) -> None:
    from google.genai import types

    ours = fake.add_model("77")
    _ours(fake, "gemini-2.5-flash", tuned_model=types.TunedModel(model=ours))
    theirs = fake.add_model("88")
    fake.add_job(base_model="gemini-2.5-flash", tuned_model=types.TunedModel(model=theirs))

    code, _, err = run("models", "delete", theirs, "--provider", "vertex", "--yes")
    assert code == ExitCode.BAD_INPUT and "not made by tunedeck" in err and theirs in fake.models

    code, _, err = run("models", "delete", ours, "--provider", "vertex")
    assert code == ExitCode.USAGE and f"Delete vertex model {ours}?" in err and "cannot be undone" in err
    assert ours in fake.models

    code, out, err = run("models", "delete", ours, "--provider", "vertex", "--yes", "--json")
    assert code == ExitCode.OK, err
    assert json.loads(out)["deleted"] is True and ours not in fake.models
