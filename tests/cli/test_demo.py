"""`tunedeck demo` end to end, as `make demo` runs it: a real autostarted backend, real training, real chat.

A small slice of the bundled dataset and two epochs keep the training short; the full run is what `make demo`
does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tunedeck.demo import DATASET, TRAIT, locate
from tunedeck.settings import load_settings
from tunedeck.store import Store

pytestmark = pytest.mark.slow


def test_demo_trains_compares_and_cleans_up(isolated_home: Path, tmp_path: Path) -> None:
    lines = locate(DATASET).read_text(encoding="utf-8").splitlines()[:10]
    dataset = tmp_path / "slice.jsonl"
    dataset.write_text("\n".join(lines) + "\n", encoding="utf-8")
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("My monitor shows no signal.\n", encoding="utf-8")

    result = subprocess.run(
        # Two epochs of the 9 examples (10 steps) instead of auto's 40: the flow is what is tested here.
        [
            sys.executable,
            "-m",
            "tunedeck",
            "demo",
            "--dataset",
            str(dataset),
            "--prompts",
            str(prompts),
            "--epochs",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Sign-off “{TRAIT}” from the training data: base" in result.stdout
    assert "9 training / 1 validation examples" in " ".join(result.stderr.split())  # rich wraps at 80 columns

    settings = load_settings()
    store = Store.open(settings)
    [job] = store.list_jobs()
    assert job.state.value == "succeeded" and job.fine_tuned_model and job.spec["n_epochs"] == 2
    assert f"deleted {job.fine_tuned_model}" in result.stderr
    # Everything the demo loaded was unloaded and recorded; the backend it started is gone with it.
    torn_down = {(t.endpoint_id, t.outcome.value) for t in store.list_teardowns()}
    assert ("smollm2-135m-instruct", "done") in torn_down
    assert {endpoint for endpoint, _ in torn_down} >= {"smollm2-135m-instruct", job.fine_tuned_model}
    assert not (settings.data_dir / "local-backend" / "server.json").exists()
