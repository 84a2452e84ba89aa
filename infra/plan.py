"""The offline plan: runs the real program under Pulumi's mocks with a stack's config and lists what it declares.

Pulumi's runtime state is process-global, so `offline_plan` runs the program in a fresh interpreter
(`python -m infra.plan`) and reads back one JSON document; `run_program_under_mocks` is that child's body.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from infra.errors import InfraConfigError, InfraError, InfraProgramError

if TYPE_CHECKING:
    from infra.mocks import RecordingMocks
    from infra.stack_files import StackConfig

PLAN_TIMEOUT_S = 120

# What the table shows for each resource type (wire names, as the engine sees them); --json has every input.
KEY_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    "gcp:projects/service:Service": ("service", "disableOnDestroy"),
    "gcp:storage/bucket:Bucket": (
        "name",
        "location",
        "publicAccessPrevention",
        "uniformBucketLevelAccess",
        "versioning",
        "lifecycleRules",
        "encryption",
        "forceDestroy",
    ),
    "gcp:serviceaccount/account:Account": ("accountId",),
    "gcp:projects/iAMMember:IAMMember": ("role", "member"),
    "gcp:storage/bucketIAMMember:BucketIAMMember": ("bucket", "role", "member"),
    "gcp:projects/serviceIdentity:ServiceIdentity": ("service",),
    "gcp:vertex/aiEndpoint:AiEndpoint": ("displayName", "location"),
    "gcp:billing/budget:Budget": ("amount", "thresholdRules"),
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": ("cryptoKeyId", "role"),
}


def _budget_bills(inputs: Mapping[str, Any]) -> str:
    amount = (inputs.get("amount") or {}).get("specifiedAmount") or {}
    limit = f"{amount.get('units', '?')} {amount.get('currencyCode', '')}".strip()
    rules = [f"{float(r.get('thresholdPercent', 0)) * 100:g}%" for r in inputs.get("thresholdRules") or []]
    return (
        f"free: e-mails alerts at {', '.join(rules) or 'its thresholds'} of {limit} a month of this project's spend "
        "on the billing account; it never stops anything from billing"
    )


# What each billable resource type costs while it exists (everything else here is free: APIs, IAM, accounts).
BILLING: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "gcp:storage/bucket:Bucket": lambda inputs: "bills: storage per GB-month (datasets, tuned artifacts) and requests",
    "gcp:vertex/aiEndpoint:AiEndpoint": lambda inputs: (
        "bills: nothing while empty; every model deployed on it bills per node-hour until undeployed "
        "(`tunedeck endpoints teardown`)"
    ),
    "gcp:billing/budget:Budget": _budget_bills,
}


class PlannedResource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    name: str
    parent: str | None
    properties: dict[str, Any]
    """The key properties shown in the table."""
    labels: dict[str, str]
    inputs: dict[str, Any]
    bills: str = ""
    """How the resource bills while it exists, when it can ("" for the free ones)."""


class OfflinePlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stack: str
    project: str
    offline: bool = True
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    secret_keys: list[str]
    """Keys whose `secure:` values could not be decrypted offline; the plan shows a placeholder for them."""


def _planned(recorder: RecordingMocks) -> list[PlannedResource]:
    planned = []
    for resource in sorted(recorder.custom(), key=lambda r: (r.parent_name or "", r.name)):
        keys = KEY_PROPERTIES.get(resource.type, ())
        planned.append(
            PlannedResource(
                type=resource.type,
                name=resource.name,
                parent=resource.parent_name,
                properties={key: resource.inputs[key] for key in keys if key in resource.inputs},
                labels=resource.labels,
                inputs=resource.inputs,
                bills=BILLING[resource.type](resource.inputs) if resource.type in BILLING else "",
            )
        )
    return planned


def run_program_under_mocks(
    config: StackConfig, program: Callable[[], None] | None = None
) -> tuple[RecordingMocks, dict[str, Any]]:
    """Run the program (default: `infra.__main__.main`) under recording mocks in *this* process.

    Reconfigures Pulumi's process-global runtime (mocks, config, the root stack's exports), so each call starts
    clean; the CLI still runs it in a child process so a plan never shares state with its caller.
    """
    import pulumi  # deferred: ~1 s of imports that the CLI must not pay at start-up

    from infra.mocks import RecordingMocks, RecordingMonitor

    recorder = RecordingMocks()
    # Pulumi creates asyncio futures as resources are declared; a caller (a test runner, a UI worker thread)
    # may have closed or never had a current loop, so give this thread a fresh one.
    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.set_mocks(
        recorder, project=config.project_name, stack=config.stack, preview=False, monitor=RecordingMonitor(recorder)
    )
    pulumi.runtime.set_all_config(config.as_pulumi_config(), sorted(config.secret_keys))
    # set_mocks keeps an existing root Stack, and with it the previous run's exports.
    getattr(pulumi.runtime.get_root_resource(), "outputs", {}).clear()
    from infra.__main__ import main

    entry = program if program is not None else main

    outputs: dict[str, Any] = {}

    def run() -> pulumi.Output[None]:
        entry()
        # `pulumi.export` put the outputs on the root Stack resource; resolve them like the engine would.
        stack = pulumi.runtime.get_root_resource()
        exported = dict(getattr(stack, "outputs", {}))
        return pulumi.Output.all(**exported).apply(outputs.update)

    pulumi.runtime.test(run)()
    return recorder, outputs


def _child(work_dir: Path, stack: str) -> dict[str, Any]:
    from infra.stack_files import load_stack_config

    config = load_stack_config(work_dir, stack)
    recorder, outputs = run_program_under_mocks(config)
    plan = OfflinePlan(
        stack=stack,
        project=config.project_name,
        resources=_planned(recorder),
        outputs=outputs,
        secret_keys=sorted(config.secret_keys),
    )
    return {"plan": plan.model_dump(mode="json")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.plan", description=__doc__)
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--stack", required=True)
    args = parser.parse_args(argv)
    try:
        document = _child(args.work_dir, args.stack)
    except InfraError as error:
        document = {"error": {"title": error.title, "hint": error.hint, "kind": type(error).__name__}}
    except Exception as error:  # the program raised: report it, the parent turns it into InfraProgramError
        document = {"error": {"title": f"The infra program failed: {error}", "hint": "", "kind": "program"}}
    sys.stdout.write(json.dumps(document, default=str) + "\n")
    return 0


def offline_plan(work_dir: Path, stack: str, *, python: str | None = None) -> OfflinePlan:
    """Plan `stack` from the stack files in `work_dir` under mocks, in a fresh interpreter."""
    repo_root = str(Path(__file__).resolve().parent.parent)
    command = [python or sys.executable, "-m", "infra.plan", "--work-dir", str(work_dir), "--stack", stack]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=PLAN_TIMEOUT_S, cwd=repo_root, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise InfraProgramError(
            f"The offline plan did not finish within {PLAN_TIMEOUT_S} s.", "Run `python -m infra.plan` to see why."
        ) from exc
    lines = done.stdout.strip().splitlines()
    try:
        document = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        document = {}
    if "plan" in document:
        return OfflinePlan.model_validate(document["plan"])
    error = document.get("error")
    if error and error.get("kind") == "InfraConfigError":
        raise InfraConfigError(error["title"], error.get("hint", ""))
    if error:
        raise InfraProgramError(error["title"], error.get("hint") or "This is a bug in infra/: please report it.")
    tail = "\n".join(done.stderr.strip().splitlines()[-5:])
    raise InfraProgramError("The offline plan crashed.", tail or f"exit status {done.returncode}")


if __name__ == "__main__":
    raise SystemExit(main())
