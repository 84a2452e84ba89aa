"""`tunedeck infra …` as a user runs it, in a child process whose PATH has no `pulumi` (truly absent here)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infra.conftest import REPO_ROOT, tunedeck_cmd

STACK_FILE = """\
config:
  gcp:project: acme-tuning-42
  gcp:region: europe-west4
  tunedeck:bucketPrefix: acme
  tunedeck:endpoints:
    - name: support-bot
      labels: {team: support}
  tunedeck:budgetAmount: 300
  tunedeck:billingAccount:
    secure: v1:c2VjcmV0:ZmFrZQ==
"""


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    """A temp project: the real Pulumi.yaml and the test's own stack file."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "Pulumi.ci.yaml").write_text(STACK_FILE, encoding="utf-8")
    return root


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(tunedeck_cmd(*args), capture_output=True, text=True, env=env, timeout=120, check=False)


def test_offline_plan_json_reads_the_stack_file(work_dir: Path, no_pulumi_env: dict[str, str]) -> None:
    done = run(no_pulumi_env, "infra", "plan", "--stack", "ci", "--json", "--work-dir", str(work_dir))
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["offline"] is True and plan["stack"] == "ci"
    by_type: dict[str, list[dict]] = {}
    for resource in plan["resources"]:
        by_type.setdefault(resource["type"], []).append(resource)
    (bucket,) = by_type["gcp:storage/bucket:Bucket"]
    assert bucket["properties"]["name"] == "acme-acme-tuning-42"
    assert bucket["properties"]["location"] == "EUROPE-WEST4"
    assert bucket["properties"]["publicAccessPrevention"] == "enforced"
    assert bucket["labels"] == {"managed-by": "tunedeck"}
    (endpoint,) = by_type["gcp:vertex/aiEndpoint:AiEndpoint"]
    assert endpoint["properties"] == {"displayName": "support-bot", "location": "europe-west4"}
    assert endpoint["labels"] == {"team": "support", "managed-by": "tunedeck"}
    (budget,) = by_type["gcp:billing/budget:Budget"]
    assert budget["inputs"]["billingAccount"] == "[secret]"
    assert plan["secret_keys"] == ["tunedeck:billingAccount"]
    assert plan["outputs"]["bucket_uri"] == "gs://acme-acme-tuning-42"
    assert "planning offline" in done.stderr


def test_offline_plan_table_defaults_to_dev_and_pulumi_yaml_defaults(
    work_dir: Path, no_pulumi_env: dict[str, str]
) -> None:
    (work_dir / "Pulumi.dev.yaml").write_text("config:\n  gcp:project: my-gcp-project\n", encoding="utf-8")
    done = run(no_pulumi_env, "infra", "plan", "--work-dir", str(work_dir))
    assert done.returncode == 0, done.stderr
    assert "storage.Bucket" in done.stdout and "tunedeck-my-gcp-project" in done.stdout
    assert "US-CENTRAL1" in done.stdout  # gcp:region from Pulumi.yaml's project-wide value
    assert "[datasets/]" in done.stdout  # printed literally, not swallowed as markup
    assert "vertex.AiEndpoint" not in done.stdout  # zero endpoints by default


def test_plan_with_invalid_config_fails_clearly(work_dir: Path, no_pulumi_env: dict[str, str]) -> None:
    (work_dir / "Pulumi.ci.yaml").write_text(
        STACK_FILE.replace("bucketPrefix: acme", "datasetRetentionDays: forever"), encoding="utf-8"
    )
    done = run(no_pulumi_env, "infra", "plan", "--stack", "ci", "--work-dir", str(work_dir))
    assert done.returncode == 1
    assert "tunedeck:datasetRetentionDays" in done.stderr and "whole number" in done.stderr
    assert "Traceback" not in done.stderr


def test_plan_without_a_stack_file_says_what_to_create(work_dir: Path, no_pulumi_env: dict[str, str]) -> None:
    done = run(no_pulumi_env, "infra", "plan", "--stack", "prod", "--work-dir", str(work_dir))
    assert done.returncode == 1
    assert "Pulumi.prod.yaml" in done.stderr and "gcp:project" in done.stderr


@pytest.mark.parametrize(
    "command",
    [("up",), ("destroy", "--yes"), ("destroy",), ("refresh",), ("outputs",), ("outputs", "--json")],
)
def test_commands_needing_pulumi_say_how_to_install_it(
    command: tuple[str, ...], work_dir: Path, no_pulumi_env: dict[str, str]
) -> None:
    done = run(no_pulumi_env, "infra", *command, "--stack", "ci", "--work-dir", str(work_dir))
    assert done.returncode == 3
    assert "The Pulumi CLI is not installed" in done.stderr
    assert "get.pulumi.com" in done.stderr
    assert "Traceback" not in done.stderr and "FileNotFoundError" not in done.stderr
    if "--json" in command:  # issue 14: with --json, the error is also a JSON document on stdout
        assert json.loads(done.stdout)["error"]["code"] == 3
    else:
        assert done.stdout == ""
    assert "Type the stack name" not in done.stderr  # destroy fails before asking


def test_outputs_fall_back_to_the_saved_copy(
    work_dir: Path, no_pulumi_env: dict[str, str], isolated_home: Path
) -> None:
    from tunedeck.settings import load_settings
    from tunedeck.store import Store

    saved = {
        "project": "acme-tuning-42",
        "region": "europe-west4",
        "bucket_name": "acme-acme-tuning-42",
        "bucket_uri": "gs://acme-acme-tuning-42",
        "service_account_email": "tunedeck-tuning@acme-tuning-42.iam.gserviceaccount.com",
        "endpoint_names": ["projects/acme-tuning-42/locations/europe-west4/endpoints/123"],
        "dataset_prefix": "datasets/",
    }
    with Store.open(load_settings()) as store:
        store.save_stack_outputs("ci", saved)
    done = run(no_pulumi_env, "infra", "outputs", "--stack", "ci", "--json", "--work-dir", str(work_dir))
    assert done.returncode == 0, done.stderr
    outputs = json.loads(done.stdout)
    assert {key: outputs[key] for key in saved} == saved
    assert outputs["source"] == "saved" and outputs["saved_at"]
    assert "saved at" in done.stderr
