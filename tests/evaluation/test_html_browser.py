"""The HTML report opened in a real headless Chromium: its script runs offline and draws the charts.

`make test` installs Debian's chromium when it is missing; this test skips (saying so) only when no Chromium
binary can be found at all.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from providers.base import JobEvent, TuningSpec
from tests.evaluation.conftest import write_heldout
from tunedeck.evaluation import EvalActions, EvalRequest, ModelRef
from tunedeck.evaluation.report_html import write_html
from tunedeck.workspace import Workspace

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless_shell")


def _browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    looked = ", ".join(BROWSERS)
    pytest.skip(f"No Chromium found on PATH (looked for {looked}); `make test` installs Debian's chromium.")


class _Elements(HTMLParser):
    """Every element's tag and attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def _rendered_dom(page: Path, tmp_path: Path) -> list[tuple[str, dict[str, str | None]]]:
    profile = tmp_path / "chromium-profile"
    args = [
        _browser(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--no-first-run",
        "--dump-dom",
        page.as_uri(),
    ]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, env={"HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    parser = _Elements()
    parser.feed(result.stdout)
    return parser.elements


def test_the_report_draws_its_charts_in_a_headless_browser(workspace: Workspace, heldout: Path, tmp_path: Path) -> None:
    store = workspace.store
    training = write_heldout(tmp_path / "train.jsonl", [("Unrelated question here?", "Unrelated answer.")])
    job = store.create_job_intent("local", TuningSpec("base", "file-t", client_key="k"))
    store.record_dataset("local", training, "sha", 1, "file-t")
    store.record_model("tuned", "local", "base", job.id)
    at = datetime(2026, 11, 30, tzinfo=UTC)
    store.add_events(
        job.id,
        [
            JobEvent(f"e{s}", at, "info", "m", {"step": s, "train_loss": 3.0 / s, "valid_loss": 3.2 / s})
            for s in range(1, 9)
        ],
    )
    models = [ModelRef.parse("base", "local"), ModelRef.parse("tuned", "local")]
    req = EvalRequest(models=models, data=heldout, metrics=["contains:— Zorblax", "rouge-l", "length"])
    report = EvalActions(workspace).run(req)
    page = write_html(report, tmp_path / "report.html")

    elements = _rendered_dom(page, tmp_path)
    (chart,) = [attrs for tag, attrs in elements if tag == "svg" and attrs.get("id") == "scores-chart"]
    assert chart.get("data-rendered") == "true", "the chart script did not run"
    assert chart.get("data-marks") == "6"  # 2 models × 3 metrics, each a dot with its interval
    assert int(chart.get("data-drawn-width") or 0) > 300  # laid out: the browser measured what it drew
    marks = [attrs for tag, attrs in elements if tag == "circle" and attrs.get("class") == "score-mark"]
    assert {(m["data-model"], m["data-metric"]) for m in marks} == {
        (model, metric) for model in ("base", "tuned") for metric in ("contains:— Zorblax", "rouge-l", "length")
    }
    (loss,) = [attrs for tag, attrs in elements if tag == "svg" and "loss-chart" in (attrs.get("class") or "")]
    assert loss.get("data-model") == "tuned" and loss.get("data-rendered") == "true" and loss.get("data-marks") == "2"
    lines = [attrs for tag, attrs in elements if tag == "polyline" and attrs.get("class") == "loss-line"]
    assert {line["data-series"] for line in lines} == {"train_loss", "valid_loss"}
    assert len((lines[0]["points"] or "").split()) == 8  # one point per logged step
