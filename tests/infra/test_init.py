"""Issue 11, item 10: `tunedeck infra init` writes a project of the user's own (from flags or prompts, never over
a file), `infra plan --work-dir` plans it outside the checkout, the plan marks what bills, and the budget hint
works for a user without the Pulumi CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.cli.test_jobs_cli import run
from tests.infra.conftest import tunedeck_cmd
from tunedeck.cli import infra as infra_cli
from tunedeck.exitcodes import ExitCode


def plan(env: dict[str, str], work_dir: Path, stack: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """`tunedeck infra plan` as a user runs it: another directory, no Pulumi CLI on PATH."""
    command = tunedeck_cmd("infra", "plan", "--stack", stack, "--work-dir", str(work_dir), *(extra or ("--json",)))
    return subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=work_dir.parent, timeout=120, check=False
    )


def test_init_from_flags_then_plan_outside_the_checkout(tmp_path: Path, no_pulumi_env: dict[str, str]) -> None:
    work = tmp_path / "my-infra"
    code, out, err = run(
        "infra", "init", str(work), "--project", "acme-tuning-42", "--stack", "lumen", "--region", "europe-west4",
        "--endpoint", "support-bot", "--budget", "300", "--json",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert sorted(Path(p).name for p in result["written"]) == ["Pulumi.lumen.yaml", "Pulumi.yaml", "__main__.py"]
    assert result["bucket"] == "tunedeck-acme-tuning-42" and result["budget_pending"] is True
    project = yaml.safe_load((work / "Pulumi.yaml").read_text())
    assert project["name"] == "tunedeck" and project["main"] == "pulumi_program/"
    stack_text = (work / "Pulumi.lumen.yaml").read_text()
    assert yaml.safe_load(stack_text)["config"] == {
        "gcp:project": "acme-tuning-42",
        "gcp:region": "europe-west4",
        "tunedeck:endpoints": [{"name": "support-bot"}],
    }
    # The budget waits, commented, for its encrypted billing account: the plan still works meanwhile.
    assert "pulumi config set --secret tunedeck:billingAccount" in stack_text
    assert "# tunedeck:budgetAmount: 300" in stack_text

    done = plan(no_pulumi_env, work, "lumen")
    assert done.returncode == 0, done.stderr
    planned = json.loads(done.stdout)
    by_type = {r["type"]: r for r in planned["resources"]}
    assert planned["outputs"]["bucket_uri"] == "gs://tunedeck-acme-tuning-42"
    assert "per node-hour until undeployed" in by_type["gcp:vertex/aiEndpoint:AiEndpoint"]["bills"]
    assert by_type["gcp:storage/bucket:Bucket"]["bills"].startswith("bills: storage per GB-month")
    assert by_type["gcp:serviceaccount/account:Account"]["bills"] == ""
    assert "gcp:billing/budget:Budget" not in by_type


def test_init_asks_on_a_terminal_and_never_overwrites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(infra_cli, "_has_terminal", lambda: True)
    work = tmp_path / "asked"
    answers = "acme-tuning-42\n\nacme\n\n\n"  # project, region (default), prefix, no endpoint, no budget
    code, _, err = run_with_input(["infra", "init", str(work)], answers)
    assert code == 0, err
    assert yaml.safe_load((work / "Pulumi.dev.yaml").read_text())["config"] == {
        "gcp:project": "acme-tuning-42",
        "gcp:region": "us-central1",
        "tunedeck:bucketPrefix": "acme",
    }
    assert "gs://acme-acme-tuning-42" in err and f"--work-dir {work}" in " ".join(err.split())

    before = (work / "Pulumi.dev.yaml").read_text()
    code, _, err = run("infra", "init", str(work), "--project", "other-project-1")
    assert code == ExitCode.BAD_INPUT and "exists already" in err
    assert (work / "Pulumi.dev.yaml").read_text() == before

    code, out, _ = run("infra", "init", str(work), "--project", "other-project-1", "--stack", "prod", "--json")
    result = json.loads(out)
    assert code == 0 and [Path(p).name for p in result["written"]] == ["Pulumi.prod.yaml"]
    assert sorted(Path(p).name for p in result["kept"]) == ["Pulumi.yaml", "__main__.py"]


def run_with_input(args: list[str], text: str) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from tunedeck.cli.context import CliState
    from tunedeck.cli.main import app

    result = CliRunner().invoke(app, args, input=text, obj=CliState())
    return result.exit_code, result.stdout, result.stderr


def test_init_refuses_bad_answers_and_writes_nothing(tmp_path: Path) -> None:
    work = tmp_path / "bad"
    code, _, err = run("infra", "init", str(work), "--project", "Not_A_Project")
    assert code == ExitCode.BAD_INPUT and "not a GCP project id" in err and not work.exists()
    code, _, err = run("infra", "init", str(work), "--project", "acme-tuning-42", "--billing-account", "nope")
    assert code == ExitCode.BAD_INPUT and "012345-6789AB-CDEF01" in err and not work.exists()
    code, _, err = run("infra", "init", str(work))  # no terminal to ask on
    assert code == ExitCode.USAGE and "--project" in err and not work.exists()


def test_budget_hint_and_missing_stack_hint_work_without_the_pulumi_cli(
    tmp_path: Path, no_pulumi_env: dict[str, str]
) -> None:
    work = tmp_path / "budget"
    assert run("infra", "init", str(work), "--project", "acme-tuning-42", "--json")[0] == 0
    stack = work / "Pulumi.dev.yaml"
    stack.write_text(stack.read_text() + "  tunedeck:budgetAmount: 300\n")
    done = plan(no_pulumi_env, work, "dev")
    flat = " ".join(done.stderr.split())
    assert done.returncode == ExitCode.BAD_INPUT
    assert "tunedeck:billingAccount`: is required when budgetAmount is set" in flat
    assert "without it, leave tunedeck:budgetAmount out (or 0) for now" in flat
    assert not flat.split("hint:")[1].lstrip().startswith("Set it with `pulumi config set")

    done = plan(no_pulumi_env, work, "lumen")
    flat = " ".join(done.stderr.split())
    assert done.returncode == ExitCode.BAD_INPUT and "No stack file Pulumi.lumen.yaml" in flat
    assert "tunedeck infra init DIR --stack lumen" in flat and "--work-dir DIR" in flat


def test_a_budget_is_marked_as_alerts_that_never_stop_billing(tmp_path: Path, no_pulumi_env: dict[str, str]) -> None:
    from tests.infra.test_cli_infra import STACK_FILE

    work = tmp_path / "with-budget"
    assert run("infra", "init", str(work), "--project", "acme-tuning-42", "--json")[0] == 0
    (work / "Pulumi.ci.yaml").write_text(STACK_FILE)
    done = plan(no_pulumi_env, work, "ci")
    assert done.returncode == 0, done.stderr
    (budget,) = [r for r in json.loads(done.stdout)["resources"] if r["type"] == "gcp:billing/budget:Budget"]
    assert budget["bills"].startswith("free: e-mails alerts at 50%, 90%, 100% of 300 USD a month")
    assert "never stops anything from billing" in budget["bills"]
    done = plan(no_pulumi_env, work, "ci", "--offline")  # the table
    flat = " ".join(done.stdout.split())
    assert "Billed while they exist: vertex.AiEndpoint endpoints-support-bot, storage.Bucket tuning-bucket" in flat
    assert "every other resource is free" in flat
