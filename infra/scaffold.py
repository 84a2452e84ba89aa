"""`tunedeck infra init`: a Pulumi project of the user's own, anywhere, that runs tunedeck's installed program.

It writes `Pulumi.yaml` (the project: tunedeck's program from the environment tunedeck is installed in), a
two-line `pulumi_program/__main__.py` that calls it, and `Pulumi.<stack>.yaml` with the user's answers, each
checked by the same `parse_config` the program uses, so nothing invalid is written. Existing files are never
overwritten: an existing project gets only the new stack file.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.config import DEFAULTS, PROJECT_NAMESPACE, parse_config
from infra.errors import InfraConfigError
from infra.stack_files import PROJECT_FILE
from tunedeck.util.atomic import atomic_write_text

PROGRAM_DIR = "pulumi_program"
_STACK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_PROGRAM = '''"""Runs tunedeck's Pulumi program from the environment tunedeck is installed in (written by
`tunedeck infra init`; `tunedeck infra plan|up --work-dir` this directory)."""

from infra.__main__ import main

main()
'''


@dataclass(frozen=True)
class InitAnswers:
    project: str
    """The GCP project id to provision in."""
    region: str = "us-central1"
    stack: str = "dev"
    bucket_prefix: str = str(DEFAULTS["bucketPrefix"])
    """The bucket is named <bucket_prefix>-<project>."""
    endpoint: str | None = None
    """A dedicated Vertex AI endpoint to create (billed per node-hour only while a model is deployed on it)."""
    budget_amount: int | None = None
    """A monthly budget (alerts only) on the billing account, in USD; needs `billing_account`."""
    billing_account: str | None = None


@dataclass(frozen=True)
class InitResult:
    work_dir: Path
    written: list[Path]
    kept: list[Path]
    """Files that existed already and were left as they were (an existing project)."""
    bucket_name: str
    budget_pending: bool
    """A budget was asked for: its billing account must be stored encrypted, which needs the Pulumi CLI."""


def _stack_config(answers: InitAnswers) -> dict[str, Any]:
    key = f"{PROJECT_NAMESPACE}:"
    config: dict[str, Any] = {"gcp:project": answers.project, "gcp:region": answers.region}
    if answers.bucket_prefix != DEFAULTS["bucketPrefix"]:
        config[key + "bucketPrefix"] = answers.bucket_prefix
    if answers.endpoint:
        config[key + "endpoints"] = [{"name": answers.endpoint}]
    return config


def check(answers: InitAnswers) -> str:
    """Validate the answers as the program will (budget included); returns the bucket name they make."""
    if not _STACK.match(answers.stack):
        raise InfraConfigError(
            f"{answers.stack!r} is not a stack name.", "Use letters, digits, '-', '_' or '.', e.g. dev or prod."
        )
    raw = dict(_stack_config(answers))
    if answers.budget_amount is not None and answers.budget_amount <= 0:
        raise InfraConfigError(f"A budget must be a positive amount, not {answers.budget_amount}.", "e.g. --budget 100")
    if answers.billing_account:  # checked with an amount, as the program will check the pair
        raw[f"{PROJECT_NAMESPACE}:budgetAmount"] = answers.budget_amount or 1
        raw[f"{PROJECT_NAMESPACE}:billingAccount"] = answers.billing_account
    return parse_config(raw).bucket_name


def _stack_text(answers: InitAnswers) -> str:
    header = (
        f"# Stack {answers.stack!r}, written by `tunedeck infra init`. `tunedeck infra plan` shows what it makes;\n"
        "# Pulumi.yaml in tunedeck's repository describes every key and its default.\n"
    )
    body = yaml.safe_dump({"config": _stack_config(answers)}, sort_keys=False, default_flow_style=False)
    if answers.budget_amount:
        account = answers.billing_account or "012345-6789AB-CDEF01"
        body += (
            "  # A budget (it alerts, never stops spending) lives on a billing account, which Pulumi keeps encrypted:\n"
            "  # store it with the Pulumi CLI from this directory, then uncomment the amount:\n"
            f"  #   pulumi config set --secret {PROJECT_NAMESPACE}:billingAccount {account} --stack {answers.stack}\n"
            f"  # {PROJECT_NAMESPACE}:budgetAmount: {answers.budget_amount}\n"
        )
    return header + body


def _project_text() -> str:
    options = ""
    if sys.prefix != sys.base_prefix:  # tunedeck runs from a virtual environment: Pulumi must use the same one
        options = f"  options:\n    virtualenv: {sys.prefix}\n"
    return (
        "# Written by `tunedeck infra init`: tunedeck's Pulumi program (GCP for Vertex AI tuning), run from the\n"
        "# Python environment tunedeck is installed in. Stacks: Pulumi.<stack>.yaml beside this file.\n"
        f"name: {PROJECT_NAMESPACE}\n"
        f"runtime:\n  name: python\n{options}"
        f"main: {PROGRAM_DIR}/\n"
        "description: GCP resources for Vertex AI fine-tuning with tunedeck (bucket, tuning identity, endpoints, "
        "budget).\n"
    )


def write_project(work_dir: Path, answers: InitAnswers) -> InitResult:
    """Write the project (unless there is one) and the stack file (never over an existing one)."""
    bucket = check(answers)
    stack_path = work_dir / f"Pulumi.{answers.stack}.yaml"
    if stack_path.exists():
        raise InfraConfigError(
            f"{stack_path} exists already; it was left as it is.",
            "Choose another --stack name or directory, or edit that file.",
        )
    project_path = work_dir / PROJECT_FILE
    if project_path.exists():
        from infra.stack_files import load_project

        name = load_project(work_dir).get("name")
        if name != PROJECT_NAMESPACE:
            raise InfraConfigError(
                f"{project_path} is another Pulumi project ({name}); nothing was written.",
                "Give `tunedeck infra init` an empty directory (or one it initialised before).",
            )
    written: list[Path] = []
    kept: list[Path] = []
    files = ((project_path, _project_text()), (work_dir / PROGRAM_DIR / "__main__.py", _PROGRAM))
    for path, text in files:
        if path.exists():
            kept.append(path)
        else:
            atomic_write_text(path, text)
            written.append(path)
    atomic_write_text(stack_path, _stack_text(answers))
    written.append(stack_path)
    return InitResult(work_dir, written, kept, bucket, bool(answers.budget_amount))
