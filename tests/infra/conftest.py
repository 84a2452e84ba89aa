"""Shared helpers for the infra tests: the program under recording mocks, and a PATH with no `pulumi` on it."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pulumi
import pytest

from infra.config import InfraConfig, parse_config
from infra.mocks import RecordingMocks, RecordingMonitor
from infra.program import build

REPO_ROOT = Path(__file__).resolve().parents[2]


def config(**overrides: object) -> InfraConfig:
    raw: dict[str, object] = {"gcp:project": "my-gcp-project", "gcp:region": "us-central1"}
    raw.update({key if ":" in key else f"tunedeck:{key}": value for key, value in overrides.items()})
    return parse_config(raw)


def declare(infra_config: InfraConfig, check: Callable[..., None] | None = None) -> RecordingMocks:
    """Build the program under fresh mocks and wait for every registration; `check` sees its resolved outputs."""
    recorder = RecordingMocks()
    pulumi.runtime.set_mocks(
        recorder, project="tunedeck", stack="test", preview=False, monitor=RecordingMonitor(recorder)
    )

    @pulumi.runtime.test
    def run() -> pulumi.Output[None]:
        result = build(infra_config)
        outputs = pulumi.Output.all(
            result.bucket_name, result.bucket_uri, result.service_account_email, result.endpoint_names
        )
        return outputs.apply(lambda values: check(*values) if check else None)

    run()
    return recorder


@pytest.fixture
def no_pulumi_env(tmp_path: Path) -> dict[str, str]:
    """The environment for a child `tunedeck` whose PATH has no `pulumi` (it is truly absent on CI too)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"])
    env["COLUMNS"] = "200"  # rich wraps at 80 columns off a terminal, which would split messages
    assert shutil.which("pulumi", path=env["PATH"]) is None
    return env


def tunedeck_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "tunedeck", *args]
