"""Stack outputs as the rest of tunedeck reads them: typed, from the store when Pulumi is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import automation
from infra.errors import PulumiNotInstalledError, StackNotDeployedError
from infra.outputs import ALL_OUTPUTS, StackOutputs, read_stack_outputs
from infra.outputs_cache import save_outputs
from tunedeck.settings import load_settings

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
    settings = load_settings()
    save_outputs(settings, "dev", OUTPUTS)
    outputs = read_stack_outputs("dev", settings)
    assert outputs.source == "saved" and outputs.saved_at is not None
    assert outputs.as_outputs() == OUTPUTS
    assert outputs.endpoint_names == OUTPUTS["endpoint_names"]


def test_nothing_saved_and_no_cli_says_install_pulumi(isolated_home: Path) -> None:
    with pytest.raises(PulumiNotInstalledError):
        read_stack_outputs("dev", load_settings())


def test_incomplete_outputs_say_run_up(isolated_home: Path) -> None:
    settings = load_settings()
    save_outputs(settings, "old", {k: v for k, v in OUTPUTS.items() if k != "service_account_email"})
    with pytest.raises(StackNotDeployedError, match="service_account_email") as caught:
        read_stack_outputs("old", settings)
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
