"""The real Automation API against a stand-in `pulumi` binary that answers the way the CLI does on failure.

The real CLI cannot be installed here; the stand-in speaks its wire (argv in, exit status and stderr out), so
these tests cover what runs in between: workspace options, backend URL, and Pulumi's own error classification.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infra.conftest import REPO_ROOT, tunedeck_cmd

FAKE_PULUMI = """#!/bin/sh
echo "$PULUMI_BACKEND_URL|$*" >> "$FAKE_PULUMI_LOG"
[ "$1" = "--non-interactive" ] && shift
case "$1" in
  version) echo "v3.272.0" ;;
  stack)
    if [ "$FAKE_PULUMI_MODE" = missing ]; then echo "error: no stack named 'dev' found" >&2; exit 255; fi ;;
  up|preview|refresh|destroy)
    if [ "$FAKE_PULUMI_MODE" = ok ]; then echo "Updating (dev):"; echo "   + tuning-bucket created"; exit 0; fi
    echo "error: [409] Conflict: Another update is currently in progress." >&2; exit 255 ;;
esac
case "$*" in
  "stack output"*) echo "$FAKE_PULUMI_OUTPUTS" ;;
  "stack history"*) echo '[{"kind": "update", "startTime": "2026-11-25T12:00:00.000Z", "message": "",
    "environment": {}, "config": {}, "result": "succeeded", "endTime": "2026-11-25T12:01:00.000Z",
    "resourceChanges": {"create": 11}}]' ;;
esac
exit 0
"""


@pytest.fixture
def fake_env(tmp_path: Path, no_pulumi_env: dict[str, str]) -> dict[str, str]:
    bin_dir = Path(no_pulumi_env["PATH"].split(os.pathsep)[0])
    fake = bin_dir / "pulumi"
    fake.write_text(FAKE_PULUMI)
    fake.chmod(0o755)
    assert shutil.which("pulumi", path=no_pulumi_env["PATH"]) == str(fake)
    work_dir = tmp_path / "project"
    work_dir.mkdir()
    shutil.copy(REPO_ROOT / "Pulumi.yaml", work_dir / "Pulumi.yaml")
    (work_dir / "Pulumi.dev.yaml").write_text("config:\n  gcp:project: my-gcp-project\n")
    return {**no_pulumi_env, "FAKE_PULUMI_LOG": str(tmp_path / "calls.log"), "WORK_DIR": str(work_dir)}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = tunedeck_cmd("infra", *args, "--work-dir", env["WORK_DIR"])
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)


def calls(env: dict[str, str]) -> list[str]:
    return Path(env["FAKE_PULUMI_LOG"]).read_text().splitlines()


def test_missing_stack_is_reported_with_its_backend(fake_env: dict[str, str], isolated_home: Path) -> None:
    done = run({**fake_env, "FAKE_PULUMI_MODE": "missing"}, "refresh")
    assert done.returncode == 2, done.stderr
    assert "Stack 'dev' does not exist" in done.stderr and "Traceback" not in done.stderr
    backend = (isolated_home / "data" / "pulumi").resolve().as_uri()
    assert f"{backend}|--non-interactive stack select --stack dev" in calls(fake_env)
    assert Path(backend.removeprefix("file://")).is_dir()  # the file backend is ready for `pulumi login`


def test_concurrent_update_is_reported_as_another_update_running(fake_env: dict[str, str]) -> None:
    done = run(fake_env, "destroy", "--yes")
    assert done.returncode == 3, done.stderr
    assert "Another update is running on stack 'dev'" in " ".join(done.stderr.split())
    assert any("|--non-interactive destroy " in line for line in calls(fake_env))


def test_user_backend_url_is_passed_to_pulumi(fake_env: dict[str, str]) -> None:
    done = run({**fake_env, "PULUMI_BACKEND_URL": "gs://team-state"}, "up")
    assert done.returncode == 3, done.stderr
    assert all(line.startswith("gs://team-state|") for line in calls(fake_env) if "|version" not in line)


OUTPUTS = {
    "project": "my-gcp-project",
    "region": "us-central1",
    "bucket_name": "tunedeck-my-gcp-project",
    "bucket_uri": "gs://tunedeck-my-gcp-project",
    "service_account_email": "tunedeck-tuning@my-gcp-project.iam.gserviceaccount.com",
    "endpoint_names": [],
    "dataset_prefix": "datasets/",
}


def test_up_streams_engine_output_and_saves_outputs_for_offline_readers(
    fake_env: dict[str, str], no_pulumi_env: dict[str, str]
) -> None:
    env = {**fake_env, "FAKE_PULUMI_MODE": "ok", "FAKE_PULUMI_OUTPUTS": json.dumps(OUTPUTS)}
    done = run(env, "up", "--json")
    assert done.returncode == 0, done.stderr
    assert "Updating (dev):" in done.stderr and "tuning-bucket created" in done.stderr  # streamed, not on stdout
    live = json.loads(done.stdout)
    assert live["source"] == "pulumi" and {k: live[k] for k in OUTPUTS} == OUTPUTS
    # Later, without the CLI on PATH, the saved copy answers.
    offline = subprocess.run(
        tunedeck_cmd("infra", "outputs", "--json", "--work-dir", env["WORK_DIR"]),
        capture_output=True,
        text=True,
        env={**no_pulumi_env, "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert offline.returncode == 0, offline.stderr
    saved = json.loads(offline.stdout)
    assert saved["source"] == "saved" and {k: saved[k] for k in OUTPUTS} == OUTPUTS
