"""The Automation API wrapper's own logic: error mapping with Pulumi's real exception classes, target resolution,
and the destroy confirmation (driven through the real CLI; only the Pulumi call itself is replaced)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pulumi.automation import errors as auto_errors
from pulumi.automation._cmd import CommandResult
from typer.testing import CliRunner

from infra import automation
from infra.error_mapping import map_automation_error
from infra.errors import (
    DestroyCancelledError,
    InfraConfigError,
    InfraProgramError,
    PulumiCommandError,
    PulumiNotInstalledError,
    StackBusyError,
    StackMissingError,
)
from tests.infra.conftest import REPO_ROOT
from tunedeck.exitcodes import ExitCode
from tunedeck.settings import Settings, load_settings


def failure(cls: type[auto_errors.CommandError], stderr: str, code: int = 255) -> auto_errors.CommandError:
    return cls(CommandResult(stdout="Updating (dev):\n", stderr=stderr, code=code))


def test_concurrent_update_means_another_update_is_running() -> None:
    stderr = "error: [409] Conflict: Another update is currently in progress."
    error = map_automation_error(failure(auto_errors.ConcurrentUpdateError, stderr), "dev")
    assert isinstance(error, StackBusyError)
    assert "another update is running" in error.title.lower()
    assert "pulumi cancel --stack dev" in error.hint
    assert error.exit_code == ExitCode.UNAVAILABLE


def test_missing_stack_names_the_stack_and_backend() -> None:
    raised = failure(auto_errors.StackNotFoundError, "error: no stack named 'prod' found")
    error = map_automation_error(raised, "prod", "file:///home/u/.local/share/tunedeck/pulumi")
    assert isinstance(error, StackMissingError)
    assert "'prod'" in error.title and "file:///home/u" in error.title
    assert "tunedeck infra up --stack prod" in error.hint


def test_compile_errors_show_the_compiler_output() -> None:
    stderr = "error: Build FAILED.\ninfra/__main__.py:3: syntax error: invalid syntax"
    error = map_automation_error(failure(auto_errors.CompilationError, stderr), "dev")
    assert isinstance(error, InfraProgramError)
    assert "did not compile" in error.title and "syntax error" in error.hint


def test_config_errors_raised_by_the_program_come_back_as_config_errors() -> None:
    stderr = (
        "error: Program failed with an unhandled exception:\nTraceback (most recent call last):\n"
        '  File "infra/__main__.py", line 30\n'
        "infra.errors.InfraConfigError: Invalid infra config `gcp:region`: 'moon' is not a GCP region."
    )
    error = map_automation_error(failure(auto_errors.RuntimeError, stderr), "dev")
    assert isinstance(error, InfraConfigError)
    assert error.title.startswith("Invalid infra config `gcp:region`")


def test_other_program_failures_keep_the_last_lines() -> None:
    stderr = "error: an unhandled error occurred:\nKeyError: 'x'"
    error = map_automation_error(failure(auto_errors.RuntimeError, stderr), "dev")
    assert isinstance(error, InfraProgramError) and "KeyError" in error.hint


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        ("error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE"),
        ("google: could not find default credentials", "gcloud auth application-default login"),
        ("error 403: permission denied on bucket", "permission denied"),
    ],
)
def test_other_command_failures_get_a_hint(stderr: str, expected: str) -> None:
    error = map_automation_error(failure(auto_errors.CommandError, stderr), "dev")
    assert isinstance(error, PulumiCommandError)
    assert expected in error.hint


def test_a_missing_binary_is_never_a_raw_file_not_found() -> None:
    raised = FileNotFoundError(2, "No such file or directory", "pulumi")
    assert isinstance(map_automation_error(raised, "dev"), PulumiNotInstalledError)


def test_bugs_are_not_disguised() -> None:
    assert map_automation_error(ValueError("bug"), "dev") is None


def test_driving_a_stack_without_the_cli_raises_our_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    target = automation.InfraTarget(REPO_ROOT, "dev", "file:///nowhere")
    for call in (automation.preview, automation.refresh, automation.destroy):
        with pytest.raises(PulumiNotInstalledError):
            call(target, print)
    with pytest.raises(PulumiNotInstalledError):
        automation.up(target, print)


def settings_with(tmp_path: Path, infra: dict[str, Any] | None = None) -> Settings:
    return Settings(
        config_dir=tmp_path / "c", data_dir=tmp_path / "d", cache_dir=tmp_path / "k", config={"infra": infra or {}}
    )


def test_backend_defaults_to_a_file_backend_in_the_data_dir(tmp_path: Path) -> None:
    settings = settings_with(tmp_path)
    assert automation.resolve_backend_url(settings) == (tmp_path / "d" / "pulumi").resolve().as_uri()
    assert automation.resolve_backend_url(settings, {"PULUMI_BACKEND_URL": "s3://b"}) == "s3://b"
    configured = settings_with(tmp_path, {"backend_url": "gs://state"})
    assert automation.resolve_backend_url(configured, {"PULUMI_BACKEND_URL": "s3://b"}) == "gs://state"


def test_work_dir_is_injectable(tmp_path: Path) -> None:
    assert automation.resolve_work_dir(settings_with(tmp_path)) == REPO_ROOT
    assert automation.resolve_work_dir(settings_with(tmp_path, {"work_dir": str(tmp_path)})) == tmp_path.resolve()
    assert automation.resolve_work_dir(settings_with(tmp_path), tmp_path / "x") == (tmp_path / "x").resolve()


class DestroyRecorder:
    def __init__(self) -> None:
        self.calls: list[automation.InfraTarget] = []

    def __call__(self, target: automation.InfraTarget, on_output: Any) -> dict[str, int]:
        self.calls.append(target)
        on_output("Destroying (dev)")
        return {"delete": 10}


@pytest.fixture
def destroy_calls(monkeypatch: pytest.MonkeyPatch) -> DestroyRecorder:
    # Pulumi cannot run here: pretend the CLI exists and record the destroy instead of running it.
    recorder = DestroyRecorder()
    monkeypatch.setattr(automation, "require_pulumi_cli", lambda: "/usr/local/bin/pulumi")
    monkeypatch.setattr(automation, "destroy", recorder)
    return recorder


def invoke_destroy(work_dir: Path, stdin: str | None, *extra: str) -> Any:
    from tunedeck.cli.main import app

    args = ["infra", "destroy", "--stack", "dev", "--work-dir", str(work_dir), *extra]
    return CliRunner().invoke(app, args, input=stdin)


def project(tmp_path: Path, stack_config: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.dev.yaml").write_text(stack_config)
    return tmp_path


DEV = "config:\n  gcp:project: my-gcp-project\n"


def test_destroy_runs_only_after_the_stack_name_is_typed(tmp_path: Path, destroy_calls: DestroyRecorder) -> None:
    work_dir = project(tmp_path, DEV)
    result = invoke_destroy(work_dir, "dev\n")
    assert result.exit_code == 0, result.output
    assert [t.stack for t in destroy_calls.calls] == ["dev"]
    said = " ".join(result.output.split())  # rich wraps long lines
    assert "gs://tunedeck-my-gcp-project and every dataset and artifact in it" in said


@pytest.mark.parametrize("answer", ["prod\n", "yes\n", "\n", None])
def test_anything_but_the_stack_name_cancels(
    answer: str | None, tmp_path: Path, destroy_calls: DestroyRecorder
) -> None:
    result = invoke_destroy(project(tmp_path, DEV), answer)
    assert isinstance(result.exception, DestroyCancelledError)
    assert result.exception.exit_code == ExitCode.CANCELLED
    assert destroy_calls.calls == []


def test_yes_skips_the_question(tmp_path: Path, destroy_calls: DestroyRecorder) -> None:
    result = invoke_destroy(project(tmp_path, DEV), None, "--yes")
    assert result.exit_code == 0, result.output
    assert len(destroy_calls.calls) == 1 and "Type the stack name" not in result.output


def test_retained_bucket_is_announced_as_kept(tmp_path: Path, destroy_calls: DestroyRecorder) -> None:
    work_dir = project(tmp_path, DEV + "  tunedeck:retainBucketOnDestroy: true\n")
    result = invoke_destroy(work_dir, "dev\n")
    assert result.exit_code == 0, result.output
    assert "except the bucket gs://tunedeck-my-gcp-project" in " ".join(result.output.split())


def test_destroy_forgets_saved_outputs(tmp_path: Path, destroy_calls: DestroyRecorder) -> None:
    # The store side of destroy: saved outputs stop describing anything once the stack is gone.
    from tunedeck.workspace import Workspace

    ws = Workspace.open(load_settings())
    ws.store.save_stack_outputs("dev", {"project": "p"})
    ws.stacks.destroy("dev", project(tmp_path, DEV))
    assert [t.stack for t in destroy_calls.calls] == ["dev"]
    assert ws.store.load_stack_outputs("dev") is None
