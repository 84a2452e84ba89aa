"""Stack outputs as the rest of tunedeck reads them: typed, from the store when Pulumi is absent, and from the same
backend `infra up` used (the caller's PULUMI_BACKEND_URL) when it is there."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import automation
from infra.errors import PulumiNotInstalledError, StackNotDeployedError
from infra.outputs import ALL_OUTPUTS, StackOutputs
from tunedeck.settings import load_settings
from tunedeck.workspace import Workspace

OUTPUTS = {
    "project": "my-gcp-project",
    "region": "us-central1",
    "bucket_name": "tunedeck-my-gcp-project",
    "bucket_uri": "gs://tunedeck-my-gcp-project",
    "service_account_email": "tunedeck-tuning@my-gcp-project.iam.gserviceaccount.com",
    "endpoint_names": ["projects/my-gcp-project/locations/us-central1/endpoints/1234567890"],
    "dataset_prefix": "datasets/",
}


@pytest.fixture(autouse=True)
def no_pulumi(monkeypatch: pytest.MonkeyPatch) -> None:
    # Absent here anyway; pinned so the tests mean the same on a machine that has it.
    monkeypatch.setattr(automation, "pulumi_cli_path", lambda: None)


def test_saved_outputs_are_read_back_typed(isolated_home: Path) -> None:
    ws = Workspace.open()
    ws.store.save_stack_outputs("dev", OUTPUTS)
    outputs = ws.stacks.outputs("dev")
    assert outputs.source == "saved" and outputs.saved_at is not None
    assert outputs.as_outputs() == OUTPUTS
    assert outputs.endpoint_names == OUTPUTS["endpoint_names"]


def test_nothing_saved_and_no_cli_says_install_pulumi(isolated_home: Path) -> None:
    with pytest.raises(PulumiNotInstalledError):
        Workspace.open().stacks.outputs("dev")


def test_incomplete_outputs_say_run_up(isolated_home: Path) -> None:
    ws = Workspace.open()
    ws.store.save_stack_outputs("old", {k: v for k, v in OUTPUTS.items() if k != "service_account_email"})
    with pytest.raises(StackNotDeployedError, match="service_account_email") as caught:
        ws.stacks.outputs("old")
    assert "tunedeck infra up --stack old" in caught.value.hint


def test_output_names_are_the_model_fields() -> None:
    assert set(ALL_OUTPUTS) <= set(StackOutputs.model_fields)


def test_the_vertex_adapter_config_reads_these_outputs() -> None:
    # The adapter builds its config from `dict(outputs)`: bucket, identity and dataset prefix must carry over.
    from providers.vertex.config import from_mapping

    outputs = StackOutputs.from_outputs("dev", OUTPUTS, "pulumi")
    config = from_mapping(dict(outputs))
    assert (config.project, config.region, config.bucket) == ("my-gcp-project", "us-central1", OUTPUTS["bucket_name"])
    assert config.service_account == OUTPUTS["service_account_email"]
    assert config.dataset_prefix == "datasets/"  # where the lifecycle rule expires datasets


def test_vertex_reads_live_outputs_from_the_backend_the_environment_names(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user with PULUMI_BACKEND_URL ran `infra up` against that backend; the Vertex adapter must read there too
    (it used to read with no environment, so it looked in tunedeck's default file backend instead)."""
    config = isolated_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[vertex]\nstack = "dev"\n')
    monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://team-state")
    asked: list[automation.InfraTarget] = []

    def live_outputs(target: automation.InfraTarget) -> StackOutputs:
        asked.append(target)
        return StackOutputs.from_outputs(target.stack, OUTPUTS, "pulumi")

    monkeypatch.setattr(automation, "pulumi_cli_path", lambda: "/usr/local/bin/pulumi")
    monkeypatch.setattr(automation, "stack_outputs", live_outputs)
    ws = Workspace.open(load_settings())
    provider = ws.provider("vertex")
    assert [t.backend_url for t in asked] == ["s3://team-state"]
    assert asked[0].env["PULUMI_BACKEND_URL"] == "s3://team-state"
    assert provider.config.project == "my-gcp-project"  # type: ignore[attr-defined]
    saved = ws.store.load_stack_outputs("dev")
    assert saved is not None and saved[0] == OUTPUTS  # live reads are kept for machines without Pulumi
