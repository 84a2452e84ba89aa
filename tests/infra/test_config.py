"""Config validation: bad values fail early with the key and what it must be; Pulumi.yaml and the schema agree."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.config import DEFAULTS, SECRET_KEYS, InfraConfig, parse_config
from infra.errors import InfraConfigError
from infra.plan import run_program_under_mocks
from infra.stack_files import StackConfig, load_stack_config
from tests.infra.conftest import REPO_ROOT, config

BASE = {"gcp:project": "my-gcp-project", "gcp:region": "us-central1"}


def test_defaults_need_only_project_and_region() -> None:
    parsed = parse_config(BASE)
    assert parsed == InfraConfig(project="my-gcp-project", region="us-central1")
    assert parsed.bucket_name == "tunedeck-my-gcp-project"
    assert parsed.endpoints == () and parsed.budget is None


def test_values_arrive_as_pulumi_strings_too() -> None:
    # Inside `pulumi up` every value is a string and structured ones are JSON text.
    parsed = parse_config(
        {
            **BASE,
            "tunedeck:datasetRetentionDays": "7",
            "tunedeck:retainBucketOnDestroy": "true",
            "tunedeck:endpoints": '[{"name": "bot", "labels": {"team": "a"}}]',
            "tunedeck:budgetAmount": "100",
            "tunedeck:billingAccount": "012345-6789AB-CDEF01",
            "tunedeck:budgetThresholds": "[50, 100]",
        }
    )
    assert parsed.dataset_retention_days == 7 and parsed.retain_bucket_on_destroy is True
    assert parsed.endpoints[0].labels == {"team": "a"}
    assert parsed.budget is not None and parsed.budget.thresholds == (0.5, 1.0)


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        ({"gcp:project": ""}, "gcp:project"),
        ({"gcp:project": "Not_A_Project"}, "gcp:project"),
        ({"gcp:region": "moon-1"}, "gcp:region"),
        ({"datasetRetentionDays": "ninety"}, "tunedeck:datasetRetentionDays"),
        ({"datasetRetentionDays": -1}, "tunedeck:datasetRetentionDays"),
        ({"noncurrentVersionRetentionDays": 0}, "tunedeck:noncurrentVersionRetentionDays"),
        ({"bucketPrefix": "Has Spaces"}, "tunedeck:bucketPrefix"),
        ({"endpoints": [{"name": "a"}, {"name": "a"}]}, "tunedeck:endpoints"),
        ({"endpoints": [{"name": "ok", "labels": {"managed-by": "someone-else"}}]}, "tunedeck:endpoints[0]"),
        ({"endpoints": [{"nam": "typo"}]}, "tunedeck:endpoints[0]"),
        ({"endpoints": "{not json"}, "tunedeck:endpoints"),
        ({"budgetAmount": 100}, "tunedeck:billingAccount"),
        ({"billingAccount": "012345-6789AB-CDEF01"}, "tunedeck:budgetAmount"),
        ({"billingAccount": "my-account", "budgetAmount": 5}, "tunedeck:billingAccount"),
        ({"kmsKeyName": "projects/p/locations/europe-west4/keyRings/r/cryptoKeys/k"}, "tunedeck:kmsKeyName"),
        ({"retainBucketOnDestroy": "maybe"}, "tunedeck:retainBucketOnDestroy"),
    ],
)
def test_invalid_config_names_the_key(overrides: dict[str, object], names: str) -> None:
    with pytest.raises(InfraConfigError) as caught:
        config(**overrides)
    assert f"`{names}`" in caught.value.title
    assert caught.value.hint


def test_program_entry_point_rejects_bad_config_before_declaring_anything() -> None:
    # Through infra/__main__.py, exactly as `pulumi up` would run it, with the config set the engine's way.
    bad = StackConfig("tunedeck", "test", {**BASE, "tunedeck:datasetRetentionDays": "soon"}, frozenset())
    with pytest.raises(InfraConfigError, match="datasetRetentionDays"):
        run_program_under_mocks(bad)


def test_program_entry_point_exports_every_output_name() -> None:
    from infra.outputs import ALL_OUTPUTS, OPTIONAL_OUTPUTS

    recorder, outputs = run_program_under_mocks(StackConfig("tunedeck", "test", dict(BASE), frozenset()))
    assert set(outputs) == set(ALL_OUTPUTS) | set(OPTIONAL_OUTPUTS)
    assert outputs["project"] == "my-gcp-project" and outputs["endpoint_names"] == []
    assert recorder.of_type("gcp:storage/bucket:Bucket")


def test_pulumi_yaml_declares_every_key_with_the_schema_defaults() -> None:
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    assert project["runtime"]["name"] == "python" and project["main"] == "infra/"
    declared = project["config"]
    assert set(declared) == set(DEFAULTS) | {"gcp:region"}
    for key, entry in declared.items():
        assert entry.get("description"), key
        if key.startswith("gcp:"):
            # Pulumi rejects `type`/`default` on keys outside the project's namespace.
            assert "type" not in entry and "default" not in entry
            continue
        if key in SECRET_KEYS:
            assert entry["secret"] is True and "default" not in entry
            continue
        assert entry["default"] == DEFAULTS[key], key
        if key != "endpoints":  # maps: no Pulumi config type describes them
            assert entry["type"] in {"string", "integer", "boolean", "array"}, key


def test_example_stack_file_is_a_valid_first_plan() -> None:
    stack = load_stack_config(REPO_ROOT, "dev")
    parsed = parse_config(stack.values, namespace=stack.project_name)
    assert parsed.project == "my-gcp-project"


def test_secure_values_become_placeholders(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: tunedeck\nruntime: python\n")
    (tmp_path / "Pulumi.s.yaml").write_text(
        "config:\n  gcp:project: my-gcp-project\n  tunedeck:billingAccount:\n    secure: v1:AAAA\n"
    )
    stack = load_stack_config(tmp_path, "s")
    assert stack.values["tunedeck:billingAccount"] == "[secret]"
    assert stack.secret_keys == {"tunedeck:billingAccount"}


def test_runs_under_mocks_do_not_share_exports() -> None:
    import pulumi

    stack = StackConfig("tunedeck", "test", dict(BASE), frozenset())
    run_program_under_mocks(stack)
    _, outputs = run_program_under_mocks(stack, program=lambda: pulumi.export("only", 1))
    assert outputs == {"only": 1}
