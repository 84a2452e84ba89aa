"""`migrate compare`: the retrained model and its untuned base, both scored against the golden answers of the
original fine-tune. The base is the yardstick: a retrained model close to the golden answers and clearly above the
base behaves like the original; one no better than the base learned little of what the original had."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from providers.base import JobState
from tunedeck.errors import TunedeckError, UsageError
from tunedeck.exitcodes import ExitCode
from tunedeck.migration import folder as fs
from tunedeck.migration.export import default_folder

if TYPE_CHECKING:
    from tunedeck.evaluation import EvalRequest
    from tunedeck.workspace import Workspace

COMPARE_METRICS = ["token-f1", "rouge-l", "exact", "normalized"]
RETRAINED, BASE = "retrained", "base"


def find_folder(ref: str) -> Path:
    """A folder as given, or the default folder `migrate export JOB` made for job `ref` in this directory."""
    given = Path(ref).expanduser()
    if given.is_dir():
        return given
    default = default_folder(ref)
    if default.is_dir():
        return default
    raise UsageError(
        f"No export folder {ref!r} (nor {default.name} here).",
        "Pass the folder `migrate export` wrote (its --out), or run the command where it wrote it.",
    )


def compare_request(ws: Workspace, folder: Path) -> EvalRequest:
    from tunedeck.evaluation import EvalRequest, ModelRef

    manifest = fs.read_manifest(folder)
    golden = fs.path_of(folder, manifest, "golden")
    if golden is None:
        raise TunedeckError(
            f"The export in {folder} has no golden answers to compare with.",
            "Export again with --heldout FILE while the original model still answers.",
        )
    if not manifest.retrain.get("job"):
        raise UsageError(
            f"Nothing was retrained from {folder} yet.", f"Run `tunedeck migrate retrain {folder} --to local|vertex`."
        )
    job = ws.jobs.find(str(manifest.retrain["job"]))
    if job.state is not JobState.SUCCEEDED or not job.fine_tuned_model:
        raise TunedeckError(
            f"The retrained job {job.id} is {job.display_state}; there is no model to compare yet.",
            f"Follow it with `tunedeck jobs watch {job.id}`, then `tunedeck migrate compare {folder}`."
            if not job.finished
            else "Retrain again (`tunedeck migrate retrain …`) once the cause is fixed.",
            exit_code=ExitCode.BAD_INPUT,
        )
    models = [
        ModelRef(model=job.fine_tuned_model, provider=job.provider, label=RETRAINED),
        ModelRef(model=job.base_model, provider=job.provider, label=BASE),
    ]
    return EvalRequest(
        models=models,
        data=golden,
        metrics=list(COMPARE_METRICS),
        max_tokens=int(manifest.golden.get("max_tokens", 256)),
        temperature=0.0,
        base_dir=folder,
    )
