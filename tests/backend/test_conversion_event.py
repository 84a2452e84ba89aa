"""Issue 11, item 6: the first run's GGUF conversion is two job events, the second with its duration (the
conversion itself is replaced by a quick stand-in here; the real one takes ~20-30 s)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from localbackend import basemodel, worker


def test_the_conversion_is_said_once_with_its_duration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    converted: list[Path] = []

    def quick_convert(gguf: Path, out_dir: Path) -> None:
        time.sleep(0.2)
        converted.append(out_dir)

    monkeypatch.setattr(basemodel, "_convert", quick_convert)
    events: list[dict[str, Any]] = []
    worker.prepare_base_model(tmp_path, events.append)
    assert len(converted) == 1
    assert [e["type"] for e in events] == ["message", "message"]
    first, done = (e["message"] for e in events)
    assert first.startswith("First run: converting the base model from GGUF to safetensors (Reading ")
    assert done.startswith("Converted the base model in 0.") and done.endswith("later jobs load it in under a second)")
    seconds = float(done.removeprefix("Converted the base model in ").split(" s")[0])
    assert 0.2 <= seconds < 5

    events.clear()
    worker.prepare_base_model(tmp_path, events.append)  # a later job: already converted, nothing to say
    assert events == [] and len(converted) == 1
